"""Exports of the engine's records, safe to open in a spreadsheet."""

from __future__ import annotations

from import_export import fields, resources

from .importing.values import escape_formula
from .models import ChangeProposal


class FormulaSafeResource(resources.ModelResource):
    """Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR) gets a '."""

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return escape_formula(value) if isinstance(value, str) else value


class ChangeProposalResource(FormulaSafeResource):
    """One row per proposal: status, who and when, and each field's original and proposed value."""

    record = fields.Field("object_repr", "record")
    status = fields.Field(column_name="status")
    fields_changed = fields.Field(column_name="changes")
    proposed_by = fields.Field("created_by__username", "proposed_by")
    submitted_by = fields.Field("submitted_by__username", "submitted_by")

    class Meta:
        model = ChangeProposal
        fields = [
            "id",
            "record",
            "status",
            "source",
            "proposed_by",
            "created_at",
            "submitted_by",
            "submitted_at",
            "closed_at",
            "fields_changed",
        ]
        export_order = fields

    def dehydrate_status(self, proposal: ChangeProposal) -> str:
        return str(proposal.get_state_display())

    def dehydrate_fields_changed(self, proposal: ChangeProposal) -> str:
        return "; ".join(
            f"{c.field_name}: {c.original_value} -> {c.proposed_value}"
            for c in proposal.changes.all()
        )

    def get_export_queryset(self, request=None, **kwargs):
        return (
            super()
            .get_export_queryset(request, **kwargs)
            .select_related("created_by", "submitted_by")
            .prefetch_related("changes")
        )
