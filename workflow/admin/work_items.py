"""My work items, change proposals with their workflow history, and the audit trail."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from import_export.formats.base_formats import CSV, XLSX

from .. import selectors, selectors_bank, services
from ..core.permissions import DECIDE_PERMISSION, Action
from ..exceptions import PermissionRefused, WorkflowError
from ..models import AuditEntry, ChangeProposal, ProposalState, WorkItem
from ..resources import ChangeProposalResource
from .exports import LabelledExportMixin
from .filters import GovernedModelFilter, MyProposalsFilter
from .pagination import CappedCountPaginator, EstimatedCountPaginator

# A justification longer than this shows in full when the pointer rests on it.
JUSTIFICATION_SHOWN = 120
# The bulk confirmation lists this many items and counts the rest.
BULK_CONFIRMATION_LISTED = 100


class DueFilter(admin.SimpleListFilter):
    title = gettext_lazy("due")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [
            ("overdue", gettext_lazy("Overdue")),
            ("today", gettext_lazy("Due within a day")),
            ("none", gettext_lazy("No time limit")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "overdue":
            return queryset.filter(due_at__lt=now)
        if self.value() == "today":
            return queryset.filter(due_at__gte=now, due_at__lt=now + timedelta(days=1))
        if self.value() == "none":
            return queryset.filter(due_at__isnull=True)
        return queryset


@admin.register(WorkItem)
class WorkItemAdmin(admin.ModelAdmin):
    """My work items: the open approvals waiting for the user who looks."""

    list_display = [
        "record",
        "step",
        "fields_changed",
        "justification",
        "submitted_by",
        "age",
        "due",
    ]
    list_display_links = None
    list_select_related = [
        "proposal",
        "proposal__content_type",
        "proposal__submitted_by",
        "step",
    ]
    list_filter = [DueFilter, "step__name"]
    search_fields = ["proposal__object_repr", "proposal__submitted_by__username"]
    ordering = ["created_at", "id"]
    show_full_result_count = False
    paginator = CappedCountPaginator

    class Media:
        css = {"all": ["workflow/workflow.css"]}

    def get_queryset(self, request):
        return selectors.open_work_items_for(request.user).prefetch_related(
            "proposal__changes"
        )

    def get_changelist(self, request, **kwargs):
        return WorkItemChangeList

    actions = ["approve_selected"]

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm(DECIDE_PERMISSION)

    @admin.action(
        description=gettext_lazy("Approve the selected changes"), permissions=["decide"]
    )
    def approve_selected(self, request, queryset):
        """Approve many at once, after a confirmation page that lists each item with
        its changes (and what would end in Conflict) and takes one comment; each
        refusal is reported with its reason."""
        if request.POST.get("post") != "yes":
            return self._approve_selected_confirmation(request, queryset)
        try:
            outcome = services.proposals_approve_bulk(
                proposal_ids=list(queryset.values_list("proposal_id", flat=True)),
                actor=request.user,
                comment=request.POST.get("comment", ""),
            )
        except WorkflowError as error:
            return self._approve_selected_confirmation(
                request, queryset, error=error.message
            )
        if outcome.approved:
            self.message_user(
                request,
                _(
                    "Approved %(count)s; %(applied)s of them were applied to their records."
                )
                % {"count": len(outcome.approved), "applied": len(outcome.applied)},
                messages.SUCCESS,
            )
        if outcome.conflicts:
            self.message_user(
                request,
                _(
                    "%(count)s ended in Conflict: a value had changed in the meantime; nothing was written for them."
                )
                % {"count": len(outcome.conflicts)},
                messages.ERROR,
            )
        for reason in sorted(set(outcome.refused.values())):
            count = sum(1 for r in outcome.refused.values() if r == reason)
            self.message_user(request, f"{count}: {reason}", messages.WARNING)

    def _approve_selected_confirmation(self, request, queryset, error=None):
        """Nothing is decided yet: the items, their changes as they would be written
        now, and one optional comment; Confirm posts the same selection back."""
        listed = list(queryset[: BULK_CONFIRMATION_LISTED + 1])
        more = len(listed) > BULK_CONFIRMATION_LISTED
        listed = listed[:BULK_CONFIRMATION_LISTED]
        reviews = selectors.proposal_reviews([item.proposal for item in listed])
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Approve the selected changes?"),
            "rows": [
                {
                    "item": item,
                    "review": review,
                    "url": _record_url(item.proposal, "proposed_changes"),
                    "history_url": _record_url(item.proposal, "history"),
                }
                for item, review in zip(listed, reviews, strict=True)
            ],
            "count": queryset.count() if more else len(listed),
            "more": more,
            "conflicts": sum(1 for review in reviews if review.conflict),
            "select_across": request.POST.get("select_across", "0"),
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "comment": request.POST.get("comment", ""),
            "error": error,
        }
        return TemplateResponse(
            request, "admin/workflow/workitem/approve_selected.html", context
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
        item_id = unquote(object_id)
        item = (
            self.get_queryset(request).filter(pk=item_id).first()
            if item_id.isdigit()
            else None
        )
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

    @admin.display(description=gettext_lazy("Changes"))
    def fields_changed(self, item: WorkItem) -> str:
        """Each changed field, old → new, as a person reads the values."""
        return format_html(
            '<ul class="change-lines">{}</ul>',
            format_html_join(
                "",
                '<li data-field="{}"><span class="change-label">{}</span> '
                '<span class="change-old">{}</span> → '
                '<span class="change-new">{}</span></li>',
                (
                    (line.field_name, line.label, line.original, line.proposed)
                    for line in item.change_lines
                ),
            ),
        )

    @admin.display(description=gettext_lazy("Justification"))
    def justification(self, item: WorkItem) -> str:
        text = item.proposal.justification
        if not text:
            return "–"
        return format_html(
            '<span title="{}">{}</span>',
            text,
            Truncator(text).chars(JUSTIFICATION_SHOWN),
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

    @admin.display(description=gettext_lazy("Age"), ordering="created_at")
    def age(self, item: WorkItem) -> str:
        return timesince(item.created_at, depth=1)

    @admin.display(description=gettext_lazy("Due"), ordering="due_at")
    def due(self, item: WorkItem) -> str:
        if item.due_at is None:
            return "–"
        when = date_format(timezone.localtime(item.due_at), "SHORT_DATETIME_FORMAT")
        if item.due_at < timezone.now():
            return format_html(
                '<strong class="overdue">{} ({})</strong>', when, _("overdue")
            )
        return when


class WorkItemChangeList(ChangeList):
    """My work items: each item's changes are read for the whole page at once."""

    def get_results(self, request) -> None:
        super().get_results(request)
        self.result_list = list(self.result_list)
        selectors.attach_change_lines(self.result_list)


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
class ChangeProposalAdmin(LabelledExportMixin, ReadOnlyAdmin):
    """All proposals; each one's page is its workflow history."""

    resource_classes = [ChangeProposalResource]
    export_formats = [CSV, XLSX]

    # At 1366 px the columns up to "submitted at" stay in view; the source, last, may
    # need the list scrolled in Dutch.
    list_display = [
        "id",
        "record",
        "state",
        "created_by",
        "submitted_by",
        "submitted_on",
        "closed_on",
        "source",
    ]
    list_filter = [MyProposalsFilter, "state", "source", GovernedModelFilter]
    search_fields = ["object_repr"]
    list_select_related = ["created_by", "submitted_by", "content_type"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    @admin.display(description=gettext_lazy("Record"), ordering="object_repr")
    def record(self, proposal: ChangeProposal) -> str:
        return format_html(
            '<a href="{}">{}</a>', _record_url(proposal, "change"), proposal.object_repr
        )

    # Dates written short ("28-11-2026 11:13"): written out, they take the list's width.
    @admin.display(
        description=ChangeProposal._meta.get_field("submitted_at").verbose_name,
        ordering="submitted_at",
    )
    def submitted_on(self, proposal: ChangeProposal) -> str:
        return self._short_datetime(proposal.submitted_at)

    @admin.display(
        description=ChangeProposal._meta.get_field("closed_at").verbose_name,
        ordering="closed_at",
    )
    def closed_on(self, proposal: ChangeProposal) -> str:
        return self._short_datetime(proposal.closed_at)

    def _short_datetime(self, moment) -> str:
        if moment is None:
            return self.get_empty_value_display()
        local = timezone.localtime(moment)
        # The date and the time each in one piece; the line may break between them.
        return format_html(
            '<span class="nowrap">{}</span> <span class="nowrap">{}</span>',
            date_format(local, "SHORT_DATE_FORMAT"),
            time_format(local, "TIME_FORMAT"),
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/reassign/<int:work_item_id>/",
                self.admin_site.admin_view(require_POST(self.reassign_view)),
                name="workflow_changeproposal_reassign",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The proposal's workflow history: its changes, every work item and event."""
        proposal = self.get_object(request, unquote(object_id))
        if proposal is None:
            raise Http404
        if not self.has_view_permission(request, proposal):
            raise PermissionDenied
        may_reassign = (
            selectors.action_refusals(proposal, request.user, [Action.REASSIGN])[
                Action.REASSIGN
            ]
            is None
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": proposal,
            "title": _("Workflow history"),
            "subtitle": str(proposal),
            "proposal": proposal,
            "record_url": _record_url(proposal, "change"),
            "change_rows": selectors.proposal_change_rows(proposal),
            "work_items": selectors.work_items_of(proposal),
            "exclusions": selectors.decision_exclusions(proposal)
            if proposal.state == ProposalState.PENDING
            else [],
            "entries": selectors.proposal_audit_entries(proposal),
            "bank_warnings": selectors_bank.proposal_bank_warnings(proposal),
            "callbacks": selectors_bank.proposal_callbacks(proposal),
            "may_reassign": may_reassign,
            "candidates": selectors.handover_candidates(proposal)
            if may_reassign
            else [],
        }
        return TemplateResponse(request, "admin/workflow/proposal_detail.html", context)

    def reassign_view(self, request, object_id, work_item_id):
        proposal = self.get_object(request, unquote(object_id))
        work_item = WorkItem.objects.filter(pk=work_item_id, proposal=proposal).first()
        if proposal is None or work_item is None:
            raise Http404
        to_user = selectors.active_user(request.POST.get("to_user"))
        try:
            if to_user is None:
                raise PermissionRefused(
                    str(_("Choose the user to reassign the work item to."))
                )
            services.work_item_reassign(
                work_item=work_item,
                actor=request.user,
                to_user=to_user,
                comment=request.POST.get("comment", ""),
            )
        except WorkflowError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            self.message_user(
                request,
                _("The work item now belongs to %(user)s.")
                % {"user": to_user.get_username()},
                messages.SUCCESS,
            )
        return redirect(
            reverse("admin:workflow_changeproposal_change", args=[proposal.pk])
        )


class ReaderTextChangeList(ChangeList):
    """The audit list's page of rows, each read in the reader's language, the approval
    parameters they name read in one query for the page."""

    def get_results(self, request) -> None:
        super().get_results(request)
        texts = selectors.audit_texts(self.result_list)
        for entry in self.result_list:
            entry.reader_text = texts[entry.pk]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "actor_name",
        "action",
        "object_for_reader",
        "field_for_reader",
        "old_for_reader",
        "new_for_reader",
        "source",
        "comment_for_reader",
    ]
    list_filter = ["action", "source", "content_type"]
    search_fields = ["object_repr", "actor_name", "field_name"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    # An entry's page shows it as the list does: in the reader's language.
    fields = [
        "created_at",
        "actor_name",
        "action",
        "source",
        "object_for_reader",
        "proposal",
        "field_for_reader",
        "old_for_reader",
        "new_for_reader",
        "comment_for_reader",
    ]
    readonly_fields = fields

    def get_changelist(self, request, **kwargs):
        return ReaderTextChangeList

    @staticmethod
    def _text(entry: AuditEntry) -> selectors.AuditText:
        if not hasattr(entry, "reader_text"):
            entry.reader_text = selectors.audit_entry_text(entry)
        return entry.reader_text

    @admin.display(description=gettext_lazy("object"), ordering="object_repr")
    def object_for_reader(self, entry: AuditEntry) -> str:
        return self._text(entry)["object"] or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("field"), ordering="field_label")
    def field_for_reader(self, entry: AuditEntry) -> str:
        return self._text(entry)["label"] or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("original value"))
    def old_for_reader(self, entry: AuditEntry) -> str:
        return self._text(entry)["old"] or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("new value"))
    def new_for_reader(self, entry: AuditEntry) -> str:
        return self._text(entry)["new"] or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("comment"))
    def comment_for_reader(self, entry: AuditEntry) -> str:
        return entry.comment_for_reader()
