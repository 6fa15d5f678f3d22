"""Admin pieces of the engine that a governed model's admin builds on.

A governed model's ModelAdmin inherits `GovernedModelAdmin` and names its services;
its parameters and workflow pages are proxies of `ApprovalSettings` and `Workflow`
registered with `ApprovalSettingsAdmin` and `WorkflowAdmin`. Pages here only read
the request, call a service and report the outcome: the rules live in services.py.
"""

from __future__ import annotations

from functools import update_wrapper

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from . import registry, rules, selectors, services
from .exceptions import WorkflowError
from .models import (
    AuditEntry,
    ChangeProposal,
    CompletionPolicy,
    DataEntityBehavior,
    ProposalState,
    WorkflowStep,
    WorkItem,
)

CHANGES_NOT_SUBMITTED = gettext_lazy("Your changes have not been submitted.")
NEEDS_APPROVAL_HELP = gettext_lazy("Changes to this field need approval.")


class GovernedModelAdmin(admin.ModelAdmin):
    """ModelAdmin of a governed model: saves through services and adds the workflow pages."""

    change_form_template = "admin/workflow/governed_change_form.html"

    def create_record(self, request: HttpRequest, values: dict[str, object]):
        """Create through the governed model's service; subclasses name it."""
        raise NotImplementedError

    def update_record(
        self, request: HttpRequest, pk, values: dict[str, object]
    ) -> services.RecordChangeOutcome:
        """Change through the governed model's service; subclasses name it."""
        raise NotImplementedError

    # --- saving -------------------------------------------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
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
        """Hand the form's values to the model's service instead of saving the instance."""
        try:
            if change:
                values = {
                    name: form.cleaned_data[name]
                    for name in form.changed_data
                    if name in form.cleaned_data
                }
                request._governed_outcome = self.update_record(request, obj.pk, values)
            else:
                created = self.create_record(request, dict(form.cleaned_data))
                obj.pk = created.pk
                obj._state.adding = False
        except ValidationError as error:
            # The form was valid a moment ago; someone else's write made it invalid since.
            request._governed_error = " ".join(error.messages)

    def save_related(self, request, form, formsets, change) -> None:
        """Governed models keep their relations on their own fields; nothing to save here."""

    def response_add(self, request, obj, post_url_continue=None):
        error = getattr(request, "_governed_error", None)
        if error:
            self.message_user(request, error, messages.ERROR)
            return redirect(self._url("add"))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        error = getattr(request, "_governed_error", None)
        if error:
            self.message_user(request, error, messages.ERROR)
            return redirect(self._url("change", obj.pk))
        outcome: services.RecordChangeOutcome | None = getattr(
            request, "_governed_outcome", None
        )
        if outcome is None:
            return super().response_change(request, obj)
        for reason in outcome.refused.values():
            self.message_user(request, reason, messages.ERROR)
        if outcome.saved_fields:
            labels = ", ".join(
                str(self.model._meta.get_field(n).verbose_name)
                for n in outcome.saved_fields
            )
            self.message_user(
                request, _("Saved: %(fields)s.") % {"fields": labels}, messages.SUCCESS
            )
        if outcome.proposed_fields or outcome.withdrawn_fields:
            if outcome.proposal is not None and outcome.proposal.is_open:
                self.message_user(request, CHANGES_NOT_SUBMITTED, messages.WARNING)
                return redirect(self._url("proposed_changes", obj.pk))
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
        if "_continue" in request.POST or outcome.refused:
            return redirect(self._url("change", obj.pk))
        if "_addanother" in request.POST:
            return redirect(self._url("add"))
        return redirect(self._url("changelist"))

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
            context["last_closed_proposal"] = selectors.latest_closed_proposal_for(obj)
            return context
        is_draft = proposal.state == ProposalState.DRAFT
        may_edit = rules.can_edit_governed_model(request.user, proposal.content_type)
        context.update(
            {
                "change_rows": selectors.proposal_change_rows(proposal),
                "can_edit_draft": is_draft and may_edit,
                "can_submit": is_draft
                and may_edit
                and request.user.has_perm("workflow.submit_changeproposal"),
                "work_item": selectors.open_work_item_of(proposal, request.user),
                "decision_refusal": rules.decision_refusal(proposal, request.user)
                if proposal.state == ProposalState.PENDING
                else None,
            }
        )
        return context

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            extra_context.update(self._workflow_context(request, obj))
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
        }
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
                services.proposal_discard(proposal=proposal, actor=request.user)
                self.message_user(
                    request, _("All proposed changes were discarded."), messages.SUCCESS
                )
                return redirect(self._url("change", obj.pk))
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
        """Workflow menu: Submit (POST), Approve and Reject (a page with a comment, then POST)."""
        if action not in {"submit", "approve", "reject"}:
            raise Http404
        obj = self._governed_object(request, object_id)
        proposal = selectors.open_proposal_for(obj)
        if proposal is None:
            self.message_user(
                request, _("There are no proposed changes."), messages.INFO
            )
            return redirect(self._url("change", obj.pk))
        if action == "submit":
            return require_POST(self._submit)(request, obj, proposal)
        if request.method == "POST":
            return self._decide(request, obj, proposal, action)
        context = {
            **self.admin_site.each_context(request),
            **self._workflow_context(request, obj),
            "opts": self.model._meta,
            "original": obj,
            "action": action,
            "title": _("Approve proposed changes")
            if action == "approve"
            else _("Reject proposed changes"),
            "subtitle": str(obj),
            "change_url": self._url("change", obj.pk),
        }
        return TemplateResponse(request, "admin/workflow/decision.html", context)

    def _submit(self, request, obj, proposal) -> HttpResponse:
        try:
            services.proposal_submit(proposal=proposal, actor=request.user)
        except WorkflowError as error:
            self.message_user(request, error.message, messages.ERROR)
            return redirect(self._url("proposed_changes", obj.pk))
        self.log_change(request, obj, _("Submitted the proposed changes for approval."))
        self.message_user(request, _("Changes pending approval."), messages.SUCCESS)
        return redirect(self._url("change", obj.pk))

    def _decide(self, request, obj, proposal, action: str) -> HttpResponse:
        comment = request.POST.get("comment", "")
        try:
            if action == "approve":
                proposal = services.proposal_approve(
                    proposal=proposal, actor=request.user, comment=comment
                )
            else:
                proposal = services.proposal_reject(
                    proposal=proposal, actor=request.user, comment=comment
                )
        except WorkflowError as error:
            self.message_user(request, error.message, messages.ERROR)
            return redirect(self._url("proposed_changes", obj.pk))
        outcome_messages = {
            ProposalState.APPLIED: (
                messages.SUCCESS,
                _("Approved. The changes were applied to the record."),
            ),
            ProposalState.PENDING: (
                messages.SUCCESS,
                _("Approved. The changes go on to the next approval step."),
            ),
            ProposalState.REJECTED: (
                messages.SUCCESS,
                _("Rejected. The record was left unchanged."),
            ),
            ProposalState.CONFLICT: (
                messages.ERROR,
                _(
                    "Conflict: a proposed field was changed by another path after it was "
                    "proposed, so nothing was written. See the History for the values."
                ),
            ),
        }
        level, text = outcome_messages.get(
            proposal.state, (messages.SUCCESS, _("Your decision was recorded."))
        )
        self.log_change(request, obj, text)
        self.message_user(request, text, level)
        return redirect(reverse("admin:workflow_workitem_changelist"))

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


# --- Approval parameters ------------------------------------------------------------


class FieldTableWidget(forms.CheckboxSelectMultiple):
    template_name = "admin/workflow/widgets/field_table.html"


class ApprovalSettingsForm(forms.Form):
    approvals_enabled = forms.BooleanField(required=False)
    data_entity_behavior = forms.ChoiceField(
        choices=DataEntityBehavior.choices, widget=forms.RadioSelect
    )
    enabled_fields = forms.MultipleChoiceField(required=False, widget=FieldTableWidget)

    def __init__(self, *args, governed: registry.GovernedModel, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approvals_enabled"].label = governed.labels.enable_approvals
        self.fields["data_entity_behavior"].label = gettext_lazy("Data entity behavior")
        self.fields["data_entity_behavior"].help_text = gettext_lazy(
            "What imports do with a change to a field that needs approval."
        )
        self.fields["enabled_fields"].label = gettext_lazy("Fields")
        self.fields["enabled_fields"].choices = governed.field_choices()


class ApprovalSettingsAdmin(admin.ModelAdmin):
    """Admin of a proxy of ApprovalSettings: one page per governed model, audited."""

    governed_model: type

    def get_queryset(self, request):
        content_type = ContentType.objects.get_for_model(self.governed_model)
        return super().get_queryset(request).filter(content_type=content_type)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        return redirect(self._change_url())

    def _change_url(self) -> str:
        opts = self.model._meta
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=["current"]
        )

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<str:object_id>/change/",
                self.admin_site.admin_view(self.parameters_view),
                name=f"{opts.app_label}_{opts.model_name}_change",
            ),
            path(
                "",
                self.admin_site.admin_view(self.changelist_view),
                name=f"{opts.app_label}_{opts.model_name}_changelist",
            ),
        ]

    def parameters_view(
        self, request: HttpRequest, object_id: str = "current"
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        governed = registry.get(self.governed_model)
        current = selectors.approval_settings_for(self.governed_model)
        can_change = self.has_change_permission(request)
        initial = {
            "approvals_enabled": current.approvals_enabled,
            "data_entity_behavior": current.data_entity_behavior,
            "enabled_fields": current.enabled_fields,
        }
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            form = ApprovalSettingsForm(
                request.POST, governed=governed, initial=initial
            )
            if form.is_valid():
                try:
                    services.approval_settings_update(
                        model=self.governed_model,
                        actor=request.user,
                        **form.cleaned_data,
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    self.message_user(
                        request, _("The parameters were saved."), messages.SUCCESS
                    )
                    return redirect(self._change_url())
        else:
            form = ApprovalSettingsForm(governed=governed, initial=initial)
        if not can_change:
            for form_field in form.fields.values():
                form_field.disabled = True
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": governed.labels.parameters,
            "section_title": governed.labels.approval_section,
            "form": form,
            "can_change": can_change,
            "history": AuditEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(current),
                object_id=current.pk,
            ).select_related("actor")[:20]
            if current.pk
            else [],
        }
        return TemplateResponse(request, "admin/workflow/parameters.html", context)


# --- Workflow definitions -----------------------------------------------------------


class WorkflowStepFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        live = [
            f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        for form in live:
            data = form.cleaned_data
            if not data.get("assigned_group") and not data.get("assigned_users"):
                form.add_error(
                    "assigned_group",
                    _("Assign this step to a group or to at least one user."),
                )
            if data.get(
                "completion_policy"
            ) == CompletionPolicy.PERCENTAGE and not data.get("approval_percentage"):
                form.add_error(
                    "approval_percentage",
                    _("Give the percentage of approvers needed, from 1 to 100."),
                )
        sequences = [f.cleaned_data.get("sequence") for f in live]
        if len(sequences) != len(set(sequences)):
            raise ValidationError(
                _("Two steps have the same sequence number; give each step its own.")
            )


class WorkflowStepInline(admin.StackedInline):
    model = WorkflowStep
    formset = WorkflowStepFormSet
    fields = [
        "sequence",
        "name",
        "assigned_group",
        "assigned_users",
        "completion_policy",
        "approval_percentage",
    ]
    filter_horizontal = ["assigned_users"]
    extra = 0
    min_num = 1

    def _may_edit_parent(self, request) -> bool:
        # Steps are part of their workflow: whoever may edit the workflow edits its steps.
        opts = self.parent_model._meta
        return request.user.has_perm(
            f"{opts.app_label}.change_{opts.model_name}"
        ) or request.user.has_perm(f"{opts.app_label}.add_{opts.model_name}")

    def has_add_permission(self, request, obj=None) -> bool:
        return self._may_edit_parent(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._may_edit_parent(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._may_edit_parent(request)

    def has_view_permission(self, request, obj=None) -> bool:
        opts = self.parent_model._meta
        return self._may_edit_parent(request) or request.user.has_perm(
            f"{opts.app_label}.view_{opts.model_name}"
        )

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        step_label = registry.get(self.parent_model_governed).labels.approval_step
        formset.form.base_fields["name"].initial = step_label
        return formset


class WorkflowAdmin(admin.ModelAdmin):
    """Admin of a proxy of Workflow for one governed model: New, steps, Activate."""

    governed_model: type
    list_display = ["name", "version", "is_active", "created_by", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    list_select_related = ["created_by"]
    fields = ["workflow_type", "name", "is_active"]
    readonly_fields = ["workflow_type", "is_active"]
    actions = ["activate_selected"]
    change_form_template = "admin/workflow/workflow_change_form.html"

    def get_inlines(self, request, obj):
        inline = type(
            "GovernedWorkflowStepInline",
            (WorkflowStepInline,),
            {"parent_model_governed": self.governed_model},
        )
        return [inline]

    @admin.display(description=gettext_lazy("Type"))
    def workflow_type(self, obj) -> str:
        return str(registry.get(self.governed_model).labels.workflow_type)

    def get_queryset(self, request):
        content_type = ContentType.objects.get_for_model(self.governed_model)
        return super().get_queryset(request).filter(content_type=content_type)

    def add_view(self, request, form_url="", extra_context=None):
        """New: first choose the workflow type, as in Dynamics 365."""
        if request.method == "GET" and "type" not in request.GET:
            if not self.has_add_permission(request):
                raise PermissionDenied
            governed = registry.get(self.governed_model)
            context = {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("New workflow"),
                "workflow_types": [(governed.label, governed.labels.workflow_type)],
            }
            return TemplateResponse(
                request, "admin/workflow/choose_workflow_type.html", context
            )
        return super().add_view(request, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.content_type = ContentType.objects.get_for_model(self.governed_model)
        services.workflow_save(workflow=obj, actor=request.user)

    def save_formset(self, request, form, formset, change) -> None:
        steps = formset.save(commit=False)
        for step in formset.deleted_objects:
            services.workflow_step_delete(step=step, actor=request.user)
        for step in steps:
            services.workflow_step_save(step=step, actor=request.user)
        formset.save_m2m()

    def response_add(self, request, obj, post_url_continue=None):
        return redirect(
            reverse(
                f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_change",
                args=[obj.pk],
            )
        )

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<path:object_id>/activate/",
                self.admin_site.admin_view(require_POST(self.activate_view)),
                name=f"{opts.app_label}_{opts.model_name}_activate",
            ),
            *super().get_urls(),
        ]

    def activate_view(self, request, object_id):
        workflow = self.get_object(request, unquote(object_id))
        if workflow is None:
            raise Http404
        if not self.has_change_permission(request, workflow):
            raise PermissionDenied
        try:
            services.workflow_activate(workflow=workflow, actor=request.user)
        except WorkflowError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(
                request,
                _("“%(name)s” is now the active workflow.") % {"name": workflow},
                messages.SUCCESS,
            )
        return redirect(
            reverse(
                f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_change",
                args=[workflow.pk],
            )
        )

    @admin.action(
        description=gettext_lazy("Activate the selected workflow"),
        permissions=["change"],
    )
    def activate_selected(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, _("Select exactly one workflow to activate."), messages.ERROR
            )
            return
        try:
            workflow = services.workflow_activate(
                workflow=queryset.get(), actor=request.user
            )
        except WorkflowError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(
                request,
                _("“%(name)s” is now the active workflow.") % {"name": workflow},
                messages.SUCCESS,
            )


# --- My work items and read-only records -------------------------------------------


@admin.register(WorkItem)
class WorkItemAdmin(admin.ModelAdmin):
    """My work items: the open approvals waiting for the user who looks."""

    list_display = ["record", "step", "fields_changed", "submitted_by", "created_at"]
    list_display_links = None
    list_select_related = [
        "proposal",
        "proposal__content_type",
        "proposal__submitted_by",
        "step",
    ]
    search_fields = ["proposal__object_repr"]
    ordering = ["created_at", "id"]

    def get_queryset(self, request):
        return selectors.open_work_items_for(request.user).prefetch_related(
            "proposal__changes"
        )

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "title": _("My work items")}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        item = self.get_queryset(request).filter(pk=unquote(object_id)).first()
        if item is None:
            raise Http404
        return HttpResponseRedirect(_record_url(item.proposal, "proposed_changes"))

    @admin.display(description=gettext_lazy("Record"), ordering="proposal__object_repr")
    def record(self, item: WorkItem) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            _record_url(item.proposal, "proposed_changes"),
            item.proposal.object_repr,
        )

    @admin.display(description=gettext_lazy("Fields changed"))
    def fields_changed(self, item: WorkItem) -> str:
        governed = registry.get(item.proposal.content_type.model_class())
        return ", ".join(
            governed.field_label(c.field_name) for c in item.proposal.changes.all()
        )

    @admin.display(
        description=gettext_lazy("Submitted by"), ordering="proposal__submitted_by"
    )
    def submitted_by(self, item: WorkItem) -> str:
        return (
            item.proposal.submitted_by.get_username()
            if item.proposal.submitted_by
            else ""
        )


def _record_url(proposal: ChangeProposal, view: str) -> str:
    content_type = proposal.content_type
    return reverse(
        f"admin:{content_type.app_label}_{content_type.model}_{view}",
        args=[proposal.object_id],
    )


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ChangeProposal)
class ChangeProposalAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "object_repr",
        "state",
        "source",
        "created_by",
        "submitted_by",
        "submitted_at",
        "closed_at",
    ]
    list_filter = ["state", "source", "content_type"]
    search_fields = ["object_repr"]
    list_select_related = ["created_by", "submitted_by"]
    date_hierarchy = "created_at"


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "actor_name",
        "action",
        "object_repr",
        "field_label",
        "old_display",
        "new_display",
        "source",
        "comment",
    ]
    list_filter = ["action", "source", "content_type"]
    search_fields = ["object_repr", "actor_name", "field_name"]
    date_hierarchy = "created_at"
