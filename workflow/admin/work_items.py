"""My work items, change proposals and the audit trail."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import registry, selectors
from ..models import (
    AuditEntry,
    ChangeProposal,
    WorkItem,
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
