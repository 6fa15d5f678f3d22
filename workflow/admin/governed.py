"""The admin of a governed model: saves through services, adds the workflow pages."""

from __future__ import annotations

import datetime
from functools import update_wrapper
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import registry, selectors, selectors_bank, services
from ..core import creation
from ..core.permissions import Action
from ..core.refusals import RefusalKind
from ..exceptions import (
    NOT_PENDING,
    RECORD_VERSION_MISSING,
    NotSubmittable,
    StaleRecord,
    WorkflowError,
)
from ..models import ChangeProposal, ProposalState
from .imports import GovernedImportMixin
from .pagination import EstimatedCountPaginator
from .status import ApprovalStatusListMixin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

WORKFLOW_ACTIONS = {
    "submit": gettext_lazy("Submit"),
    "recall": gettext_lazy("Recall"),
    "discard": gettext_lazy("Discard all changes"),
    "approve": gettext_lazy("Approve"),
    "reject": gettext_lazy("Reject"),
    "request_change": gettext_lazy("Request change"),
    "delegate": gettext_lazy("Delegate"),
}
WORKFLOW_ACTION_TITLES = {
    "submit": gettext_lazy("Submit the proposed changes"),
    "recall": gettext_lazy("Recall the proposed changes"),
    "discard": gettext_lazy("Discard all proposed changes"),
    "approve": gettext_lazy("Approve proposed changes"),
    "reject": gettext_lazy("Reject proposed changes"),
    "request_change": gettext_lazy("Send the proposed changes back"),
    "delegate": gettext_lazy("Delegate your work item"),
}
# The actions on a work item; the others are the submitter's (or a clerk's) own.
DECISION_ACTIONS = {"approve", "reject", "request_change", "delegate"}
CHOOSE_DELEGATE = gettext_lazy("Choose the user to delegate the work item to.")
STALE_FIELDS_KEPT = gettext_lazy(
    "Someone changed this %(model)s while you were editing it. Your other changes "
    "were kept; for the fields you both changed, choose whose value stays and save "
    "again."
)
# The values a change form was loaded with travel signed, so that a form cannot claim
# to have been loaded with values nobody stored.
RECORD_LOADED_SALT = "workflow.record_loaded"
BOUNDED_PAGES = gettext_lazy(
    "The list shows its first %(pages)s pages (%(rows)s rows). Search or filter to "
    "find the others."
)


def _outcome_message(proposal: ChangeProposal, action: str) -> str:
    """What happened, in one sentence, after a workflow action."""
    if action == "delegate":
        return str(_("Delegated. The work item is now with the user you chose."))
    if action == "recall":
        return str(
            _(
                "Recalled. The changes are a draft again, with their values: change "
                "them and submit them again, or discard them."
            )
        )
    if action == "discard":
        return str(_("All proposed changes were discarded."))
    if action == "request_change":
        return str(_("Sent back to the submitter for changes."))
    if action == "submit":
        if proposal.state == ProposalState.APPLIED:
            return str(
                _("No approval was needed: the changes were applied to the record.")
            )
        return str(_("Changes pending approval."))
    return str(
        {
            ProposalState.APPLIED: _(
                "Approved. The changes were applied to the record."
            ),
            ProposalState.PENDING: _(
                "Approved. The changes go on to the next approval step."
            ),
            ProposalState.REJECTED: _("Rejected. The record was left unchanged."),
            ProposalState.CONFLICT: _(
                "Conflict: a proposed field was changed by another path after it was "
                "proposed, so nothing was written. See the History for the values."
            ),
        }.get(proposal.state, _("Your decision was recorded."))
    )


def _moment(text: str | None) -> datetime.datetime | None:
    """A moment a page was shown at, as it posts it back; None if it is not one."""
    try:
        moment = datetime.datetime.fromisoformat(text or "")
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else None


CHANGES_NOT_SUBMITTED = gettext_lazy("Your changes have not been submitted.")
AWAITING_APPROVAL_SUBMITTED = gettext_lazy(
    "New records wait for approval: this one is “Awaiting approval” and cannot be "
    "used until its creation is approved. It was submitted for approval."
)
AWAITING_APPROVAL_NOT_SUBMITTED = gettext_lazy(
    "New records wait for approval: this one is “Awaiting approval” and cannot be "
    "used until its creation is approved. It could not be submitted yet: open it "
    "and choose Workflow › Submit."
)
NEEDS_APPROVAL_HELP = gettext_lazy("Changes to this field need approval.")


def _refusing_inactive_references(form_class):
    """The form says, on the field, that a record awaiting approval (or rejected)
    cannot be referenced: the same check the services make, before they are asked."""

    def clean(self):
        cleaned_data = super(form_class_with_check, self).clean()
        references = {
            name: cleaned_data[name]
            for name in self.changed_data
            if name in cleaned_data
            and name in self._meta.model._meta._forward_fields_map
        }
        for name, problem in selectors.inactive_references(
            self._meta.model, references
        ).items():
            self.add_error(name, problem)
        return cleaned_data

    form_class_with_check = type(form_class.__name__, (form_class,), {"clean": clean})
    return form_class_with_check


class GovernedModelAdmin(
    ApprovalStatusListMixin, GovernedImportMixin, admin.ModelAdmin
):
    """ModelAdmin of a governed model: saves through services and adds the workflow pages."""

    change_form_template = "admin/workflow/governed_change_form.html"
    change_list_template = "admin/workflow/governed_change_list.html"
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def create_record(self, request: HttpRequest, values: dict[str, object]):
        """Create through the governed model's service; subclasses name it."""
        raise NotImplementedError

    def update_record(
        self,
        request: HttpRequest,
        pk,
        values: dict[str, object],
        expected_version: str | None = None,
        loaded: dict[str, object] | None = None,
    ) -> services.RecordChangeOutcome:
        """Change through the governed model's service; subclasses name it."""
        raise NotImplementedError

    # --- saving -------------------------------------------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = _refusing_inactive_references(
            super().get_form(request, obj, change, **kwargs)
        )
        enabled = selectors.enabled_fields_for(self.model)
        for name, form_field in form_class.base_fields.items():
            if name in enabled:
                form_field.help_text = format_html(
                    '<span class="needs-approval">{}</span> {}',
                    NEEDS_APPROVAL_HELP,
                    form_field.help_text,
                )
        return form_class

    def save_model(self, request, obj, form, change) -> None:
        """Hand the form's values to the model's service instead of saving the instance.

        A change form must send back the version of the record it was loaded with:
        without it a stale form could not be told from a fresh one, so it is refused.
        """
        try:
            if change:
                expected_version = request.POST.get("_record_version") or None
                if expected_version is None and registry.record_version(obj):
                    raise StaleRecord(
                        RECORD_VERSION_MISSING
                        % {"model": self.model._meta.verbose_name}
                    )
                values = {
                    name: form.cleaned_data[name]
                    for name in form.changed_data
                    if name in form.cleaned_data
                    # After a clash the user chose the value stored now.
                    and request.POST.get(f"_clash_{name}") != "theirs"
                }
                request._governed_outcome = self.update_record(
                    request,
                    obj.pk,
                    values,
                    expected_version=expected_version,
                    loaded=self._posted_loaded_values(request),
                )
            else:
                created = self.create_record(request, dict(form.cleaned_data))
                obj.pk = created.pk
                obj._state.adding = False
        except ValidationError as error:
            # The form was valid a moment ago; someone else's write made it invalid since.
            request._governed_error = " ".join(error.messages)
        except WorkflowError as error:
            request._governed_error = error.message

    def _loaded_values_token(self, obj) -> str:
        """The record's stored values as the change form is loaded with them, signed."""
        return signing.dumps(
            {
                f.name: registry.current_value(obj, f)
                for f in self.model._meta.concrete_fields
                if f.editable and not f.primary_key
            },
            salt=RECORD_LOADED_SALT,
            compress=True,
        )

    def _posted_loaded_values(self, request) -> dict[str, object] | None:
        """The values the posted form was loaded with; None for a form without them
        (or with a token that was tampered with), which a stale save then refuses."""
        token = request.POST.get("_record_loaded", "")
        if not token:
            return None
        try:
            loaded = signing.loads(token, salt=RECORD_LOADED_SALT)
        except signing.BadSignature:
            return None
        return loaded if isinstance(loaded, dict) else None

    def _save_refused_or_empty(self, request) -> bool:
        """Whether the form's save wrote and proposed nothing (refused, or no change)."""
        if getattr(request, "_governed_error", None):
            return True
        outcome = getattr(request, "_governed_outcome", None)
        return outcome is not None and not (
            outcome.saved_fields or outcome.proposed_fields or outcome.withdrawn_fields
        )

    def log_addition(self, request, obj, message):
        """Django logs every add it hands to save_model; a refused one added nothing."""
        if self._save_refused_or_empty(request):
            return None
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        """Django logs every change it hands to save_model; a refused one changed nothing."""
        if self._save_refused_or_empty(request):
            return None
        return super().log_change(request, obj, message)

    def construct_change_message(self, request, form, formsets, add=False):
        """Django's log names only the fields that were written, not those proposed."""
        outcome = getattr(request, "_governed_outcome", None)
        if add or outcome is None:
            return super().construct_change_message(request, form, formsets, add)
        if not outcome.saved_fields:
            return ""
        return [
            {
                "changed": {
                    "fields": [
                        capfirst(str(self.model._meta.get_field(n).verbose_name))
                        for n in outcome.saved_fields
                    ]
                }
            }
        ]

    def has_delete_permission(self, request, obj=None) -> bool:
        # A record with an open proposal stays until the proposal is decided or withdrawn.
        if obj is not None and selectors.open_proposal_for(obj) is not None:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj) -> None:
        services.governed_record_delete(instance=obj, actor=request.user)

    def get_actions(self, request):
        # Records are deleted one at a time, each checked for open proposals.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_related(self, request, form, formsets, change) -> None:
        """Governed models keep their relations on their own fields; nothing to save here."""

    def _back_to_form(self, request, url: str) -> HttpResponse:
        """Back to the form after a refusal; a related-object popup stays a popup."""
        if IS_POPUP_VAR in request.POST:
            url = add_preserved_filters(
                {
                    "opts": self.model._meta,
                    "preserved_filters": self.get_preserved_filters(request),
                },
                url,
                popup=True,
                to_field=request.POST.get(TO_FIELD_VAR),
            )
        return redirect(url)

    def response_add(self, request, obj, post_url_continue=None):
        """A refused add goes back to the form; otherwise Django's answer, which in a
        related-object popup is the page that closes the popup."""
        error = getattr(request, "_governed_error", None)
        if error:
            self.message_user(request, error, messages.ERROR)
            return self._back_to_form(request, self._url("add"))
        if selectors.record_status_of(self.model, obj.pk) == creation.AWAITING:
            proposal = selectors.open_proposal_for(obj)
            self.message_user(
                request,
                AWAITING_APPROVAL_SUBMITTED
                if proposal is not None and proposal.state == ProposalState.PENDING
                else AWAITING_APPROVAL_NOT_SUBMITTED,
                messages.WARNING,
            )
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        """Say what became of each field; a refused save goes back to the form. In a
        related-object popup a save that was not refused closes the popup, as Django's
        does, and its messages wait for the next page."""
        error = getattr(request, "_governed_error", None)
        if error:
            self.message_user(request, error, messages.ERROR)
            return self._back_to_form(request, self._url("change", obj.pk))
        outcome: services.RecordChangeOutcome | None = getattr(
            request, "_governed_outcome", None
        )
        if outcome is None:
            return super().response_change(request, obj)
        popup = IS_POPUP_VAR in request.POST
        if outcome.clashes:
            return self._clashes_response(request, outcome)
        self._saved_messages(request, outcome)
        if outcome.proposed_fields or outcome.withdrawn_fields:
            if outcome.proposal is not None and outcome.proposal.is_open:
                self.message_user(request, CHANGES_NOT_SUBMITTED, messages.WARNING)
                if not popup:
                    return redirect(self._url("proposed_changes", obj.pk))
            else:
                self.message_user(
                    request, _("The proposed changes were withdrawn."), messages.INFO
                )
        if not (
            outcome.saved_fields
            or outcome.proposed_fields
            or outcome.refused
            or outcome.withdrawn_fields
        ):
            self.message_user(request, _("Nothing was changed."), messages.INFO)
        if outcome.refused:
            return self._back_to_form(request, self._url("change", obj.pk))
        if popup:
            # The popup names the record as it is now, not as the form proposed it.
            return super().response_change(request, outcome.instance)
        if "_continue" in request.POST:
            return redirect(self._url("change", obj.pk))
        if "_addanother" in request.POST:
            return redirect(self._url("add"))
        return redirect(self._url("changelist"))

    def _saved_messages(self, request, outcome: services.RecordChangeOutcome) -> None:
        for reason in outcome.refused.values():
            self.message_user(request, reason, messages.ERROR)
        if outcome.saved_fields:
            labels = ", ".join(
                capfirst(str(self.model._meta.get_field(n).verbose_name))
                for n in outcome.saved_fields
            )
            self.message_user(
                request, _("Saved: %(fields)s.") % {"fields": labels}, messages.SUCCESS
            )

    def _clashes_response(
        self, request, outcome: services.RecordChangeOutcome
    ) -> HttpResponse:
        """Someone else changed fields this user changed too: the form again, with
        everything the user typed, the record's version and values as they are now,
        and the clashing fields side by side with the other person's values."""
        self._saved_messages(request, outcome)
        if outcome.proposed_fields:
            self.message_user(request, CHANGES_NOT_SUBMITTED, messages.WARNING)
        self.message_user(
            request,
            STALE_FIELDS_KEPT % {"model": self.model._meta.verbose_name},
            messages.WARNING,
        )
        obj = outcome.instance
        stored = {
            "subtitle": str(obj),
            "record_version": registry.record_version(obj),
            "record_loaded": self._loaded_values_token(obj),
            "clashes": selectors.clash_rows(obj, outcome.clashes),
            **self._workflow_context(request, obj),
        }
        fieldsets = self.get_fieldsets(request, obj)
        form_class = self.get_form(
            request, obj, change=True, fields=flatten_fieldsets(fieldsets)
        )
        # A copy for the form: validating sets the typed values on its instance.
        form = form_class(
            request.POST,
            request.FILES,
            instance=self.model._default_manager.get(pk=obj.pk),
        )
        form.is_valid()
        admin_form = helpers.AdminForm(
            form,
            list(fieldsets),
            self.get_prepopulated_fields(request, obj),
            self.get_readonly_fields(request, obj),
            model_admin=self,
        )
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change %s") % self.model._meta.verbose_name,
            "adminform": admin_form,
            "object_id": str(obj.pk),
            "original": obj,
            "is_popup": IS_POPUP_VAR in request.POST,
            "to_field": request.POST.get(TO_FIELD_VAR),
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            **stored,
        }
        return self.render_change_form(request, context, change=True, obj=obj)

    # --- pages --------------------------------------------------------------------

    def _url(self, name: str, *args) -> str:
        opts = self.model._meta
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=args)

    def get_urls(self):
        def wrap(view):
            def wrapper(*args, **kwargs):
                return self.admin_site.admin_view(view)(*args, **kwargs)

            return update_wrapper(wrapper, view)

        opts = self.model._meta
        prefix = f"{opts.app_label}_{opts.model_name}"
        return [
            path(
                "<path:object_id>/proposed-changes/",
                wrap(self.proposed_changes_view),
                name=f"{prefix}_proposed_changes",
            ),
            path(
                "<path:object_id>/workflow/<str:action>/",
                wrap(self.workflow_action_view),
                name=f"{prefix}_workflow",
            ),
            *self.get_import_urls(),
            *super().get_urls(),
        ]

    def _governed_object(self, request, object_id: str):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(_("This record does not exist."))
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        return obj

    def _workflow_context(self, request, obj) -> dict[str, object]:
        proposal = selectors.open_proposal_for(obj)
        governed = registry.get(self.model)
        context: dict[str, object] = {
            "proposal": proposal,
            "governed_labels": governed.labels,
            "last_closed_proposal": None,
        }
        if proposal is None:
            closed = selectors.latest_closed_proposal_for(obj)
            context["last_closed_proposal"] = closed
            if closed is not None and closed.state == ProposalState.REJECTED:
                context["rejection"] = selectors.latest_rejection(closed)
            return context
        pending = proposal.state == ProposalState.PENDING
        # The buttons come from the same rule the services apply when they are pressed.
        refusals = selectors.action_refusals(
            proposal,
            request.user,
            [Action.EDIT_DRAFT, Action.SUBMIT, Action.RECALL, Action.APPROVE],
        )
        approve = refusals[Action.APPROVE]
        context.update(
            {
                "change_rows": selectors.proposal_change_rows(proposal),
                "can_edit_draft": refusals[Action.EDIT_DRAFT] is None,
                "can_submit": refusals[Action.SUBMIT] is None,
                "can_recall": refusals[Action.RECALL] is None,
                "work_item": selectors.open_work_item_of(proposal, request.user)
                if approve is None
                else None,
                "decision_refusal": str(approve)
                if approve is not None and approve.kind == RefusalKind.SEPARATION
                else None,
                "exclusions": selectors.decision_exclusions(proposal)
                if pending
                else [],
                "bank_warnings": selectors_bank.proposal_bank_warnings(proposal)
                if proposal.is_open
                else [],
                "sent_back": selectors.latest_send_back(proposal)
                if proposal.state == ProposalState.CHANGES_REQUESTED
                else None,
                "proposal_url": reverse(
                    "admin:workflow_changeproposal_change", args=[proposal.pk]
                ),
            }
        )
        return context

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "has_import_permission": self.has_import_permission(request),
        }
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        paginator = getattr(changelist, "paginator", None)
        if getattr(paginator, "bounded", False):
            # Added before the page is rendered, so it shows on this page.
            messages.info(
                request,
                BOUNDED_PAGES
                % {"pages": paginator.num_pages, "rows": paginator.max_rows},
            )
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            extra_context.update(self._workflow_context(request, obj))
            bank = registry.get(self.model).bank
            if bank is not None and getattr(obj, bank.account_field, ""):
                status = selectors_bank.bank_status_of(obj)
                extra_context["bank_status_text"] = (
                    status.status_text() if status is not None else _("Unverified")
                )
            # A form sent back (invalid) keeps the version and values it was first
            # loaded with, or a stale form would pass for fresh once its errors are
            # fixed.
            if request.method == "POST":
                extra_context["record_version"] = request.POST.get(
                    "_record_version", ""
                )
                extra_context["record_loaded"] = request.POST.get("_record_loaded", "")
            else:
                extra_context["record_version"] = registry.record_version(obj)
                extra_context["record_loaded"] = self._loaded_values_token(obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def proposed_changes_view(
        self, request: HttpRequest, object_id: str
    ) -> HttpResponse:
        """The Proposed changes page: original and proposed values, Discard, Submit."""
        obj = self._governed_object(request, object_id)
        if request.method == "POST":
            return self._proposed_changes_post(request, obj)
        context = {
            **self.admin_site.each_context(request),
            **self._workflow_context(request, obj),
            "opts": self.model._meta,
            "original": obj,
            "title": _("Proposed changes"),
            "subtitle": str(obj),
            "change_url": self._url("change", obj.pk),
            "history_url": self._url("history", obj.pk),
        }
        proposal = context["proposal"]
        if proposal is not None and proposal.state == ProposalState.PENDING:
            context["review"] = selectors.proposal_review(proposal)
        return TemplateResponse(
            request, "admin/workflow/proposed_changes.html", context
        )

    def _proposed_changes_post(self, request, obj) -> HttpResponse:
        proposal = selectors.open_proposal_for(obj)
        if proposal is None:
            self.message_user(
                request, _("There are no proposed changes."), messages.INFO
            )
            return redirect(self._url("change", obj.pk))
        action = request.POST.get("action", "")
        try:
            if action == "discard":
                field_name = request.POST.get("field", "")
                services.proposal_discard_field(
                    proposal=proposal, field_name=field_name, actor=request.user
                )
                self.message_user(
                    request, _("The proposed change was discarded."), messages.SUCCESS
                )
            elif action == "discard_all":
                # Discarding everything is confirmed on its own page first.
                return redirect(self._url("workflow", obj.pk, "discard"))
            else:
                return HttpResponse(status=400)
        except WorkflowError as error:
            self.message_user(request, error.message, messages.ERROR)
        proposal.refresh_from_db()
        if not proposal.is_open:
            return redirect(self._url("change", obj.pk))
        return redirect(self._url("proposed_changes", obj.pk))

    def workflow_action_view(
        self, request: HttpRequest, object_id: str, action: str
    ) -> HttpResponse:
        """The Workflow menu. Each action first shows its page (the changes, and a
        justification, comment or confirmation), then POSTs; a refusal shows the page
        again with the reason and everything the person typed."""
        if action not in WORKFLOW_ACTIONS:
            raise Http404
        obj = self._governed_object(request, object_id)
        proposal = selectors.open_proposal_for(obj)
        if proposal is None:
            if request.method == "POST":
                # Decided, recalled or discarded while the page was open: say by whom.
                closed = selectors.latest_closed_proposal_for(obj)
                if closed is not None:
                    return self._action_page(
                        request,
                        obj,
                        closed,
                        action,
                        error=NOT_PENDING % {"state": closed.get_state_display()},
                    )
            self.message_user(
                request, _("There are no proposed changes."), messages.INFO
            )
            return redirect(self._url("change", obj.pk))
        if request.method != "POST":
            return self._action_page(request, obj, proposal, action)
        try:
            proposal = self._take_action(request, proposal, action)
        except WorkflowError as error:
            return self._action_page(request, obj, proposal, action, error=error)
        text = _outcome_message(proposal, action)
        self.log_change(request, obj, text)
        if action not in DECISION_ACTIONS:
            self.message_user(request, text, messages.SUCCESS)
            return redirect(self._url("change", obj.pk))
        level = (
            messages.ERROR
            if proposal.state == ProposalState.CONFLICT
            else messages.SUCCESS
        )
        self.message_user(request, text, level)
        return redirect(reverse("admin:workflow_workitem_changelist"))

    def _take_action(self, request, proposal: ChangeProposal, action: str):
        """Carry out the posted action through its service; returns the proposal."""
        comment = request.POST.get("comment", "")
        actor = request.user
        if action == "submit":
            return services.proposal_submit(
                proposal=proposal,
                actor=actor,
                justification=request.POST.get("justification", ""),
            )
        if action == "recall":
            return services.proposal_recall(
                proposal=proposal, actor=actor, comment=comment
            )
        if action == "discard":
            return services.proposal_discard(proposal=proposal, actor=actor)
        if action == "approve" and selectors_bank.is_callback_step(proposal):
            return services.proposal_callback(
                proposal=proposal,
                actor=actor,
                phone=request.POST.get("phone", ""),
                person=request.POST.get("person", ""),
                outcome=request.POST.get("outcome", ""),
                comment=comment,
            )
        if action == "approve":
            return services.proposal_approve(
                proposal=proposal, actor=actor, comment=comment
            )
        if action == "reject":
            return services.proposal_reject(
                proposal=proposal, actor=actor, comment=comment
            )
        if action == "request_change":
            return services.proposal_request_change(
                proposal=proposal, actor=actor, comment=comment
            )
        to_user = selectors.active_user(request.POST.get("to_user"))
        if to_user is None:
            raise NotSubmittable(str(CHOOSE_DELEGATE))
        services.work_item_delegate(
            proposal=proposal, actor=actor, to_user=to_user, comment=comment
        )
        proposal.refresh_from_db()
        return proposal

    def _action_page(
        self,
        request,
        obj,
        proposal: ChangeProposal,
        action: str,
        error: WorkflowError | StrOrPromise | None = None,
    ) -> HttpResponse:
        """The page of one workflow action: what it acts on, and its form while the
        person may take it. Shown again after a refusal with what they typed and, when
        someone decided in the meantime, who and when."""
        posted = request.method == "POST"
        shown_at = _moment(request.POST.get("shown_at")) if posted else None
        context = {
            **self.admin_site.each_context(request),
            **self._workflow_context(request, obj),
            "opts": self.model._meta,
            "original": obj,
            "action": action,
            "action_label": WORKFLOW_ACTIONS[action],
            "title": WORKFLOW_ACTION_TITLES[action],
            "subtitle": str(obj),
            "change_url": self._url("change", obj.pk),
            "history_url": self._url("history", obj.pk),
            "shown_at": request.POST.get("shown_at", "")
            if posted
            else timezone.now().isoformat(),
            "comment": request.POST.get("comment", ""),
            "to_user": request.POST.get("to_user", ""),
        }
        if not proposal.is_open:
            context.update({"proposal": None, "closed_proposal": proposal})
        may = {
            "submit": context.get("can_submit"),
            "recall": context.get("can_recall"),
            "discard": context.get("can_edit_draft"),
        }.get(action, context.get("work_item") is not None)
        context["may_act"] = bool(may) and proposal.is_open
        if action == "submit":
            workflow = selectors.active_workflow_for(self.model)
            context["justification_required"] = bool(
                workflow and workflow.justification_required
            )
            context["justification"] = (
                request.POST.get("justification", "")
                if posted
                else proposal.justification
            )
        elif action == "recall":
            context["told"] = selectors.open_work_item_holders(proposal)
        elif action == "delegate":
            context["candidates"] = (
                selectors.handover_candidates(proposal) if proposal.is_open else []
            )
        if action in {"reject", "request_change"}:
            context["comment_required"] = True
        if action == "approve" and selectors_bank.is_callback_step(proposal):
            context.update(
                callback_step=True,
                callback_numbers=selectors_bank.callback_choices(proposal),
                phone=request.POST.get("phone", ""),
                person=request.POST.get("person", ""),
                outcome=request.POST.get("outcome", ""),
                action_label=_("Record the call-back"),
                title=_("Call-back verification"),
            )
        if error is not None:
            context["error"] = (
                error.message if isinstance(error, WorkflowError) else error
            )
            context["meanwhile"] = selectors.decided_meanwhile(proposal, shown_at)
        if proposal.state == ProposalState.PENDING and action in DECISION_ACTIONS:
            context["review"] = selectors.proposal_review(proposal)
        return TemplateResponse(request, "admin/workflow/decision.html", context)

    def history_view(self, request, object_id, extra_context=None):
        """History: every proposal, decision and applied change of the record."""
        obj = self._governed_object(request, object_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": obj,
            "title": _("History"),
            "subtitle": str(obj),
            "entries": selectors.audit_entries_for(obj),
            "proposals": selectors.proposals_for(obj),
            "change_url": self._url("change", obj.pk),
        }
        return TemplateResponse(request, "admin/workflow/history.html", context)
