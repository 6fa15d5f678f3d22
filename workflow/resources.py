"""django-import-export resources: exports safe to open in a spreadsheet, and imports
of governed records that go through the engine like every other path."""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources

from . import registry, selectors, selectors_bank, services
from .exceptions import BEHAVIOUR_NOT_PERMITTED, WorkflowError
from .importing.values import escape_formula
from .models import ChangeProposal, DataEntityBehavior, Source

IMPORT_NEEDS_USER = _(
    "Say whom the import runs as: import_data(dataset, user=…). Its changes and "
    "proposals are that person's."
)


class FormulaSafeResource(resources.ModelResource):
    """Text that a spreadsheet would run as a formula (=, +, -, @, tab, CR) gets a '.

    Each column has a label, the one the model's form shows (its field's name), or one
    of `column_labels` for a column that is no field of the model.
    """

    column_labels: dict[str, object] = {}
    # A file that is imported back names its columns by field name, whatever the
    # language of who exported it; a report names them by their labels.
    headers_are_labels = False

    @classmethod
    def column_label(cls, name: str) -> str:
        """The label of the column `name`, in the reader's language."""
        if name in cls.column_labels:
            return capfirst(str(cls.column_labels[name]))
        field = cls.fields.get(name)
        attribute = (field.attribute if field and field.attribute else name).split(
            "__"
        )[0]
        try:
            model_field = cls._meta.model._meta.get_field(attribute)
        except FieldDoesNotExist:
            return name
        return capfirst(str(model_field.verbose_name))

    def get_export_headers(self, selected_fields=None):
        if not self.headers_are_labels:
            return super().get_export_headers(selected_fields)
        names = {id(field): name for name, field in self.fields.items()}
        return [
            self.column_label(names[id(field)])
            for field in self.get_export_fields(selected_fields)
        ]

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return escape_formula(value) if isinstance(value, str) else value


class GovernedResource(FormulaSafeResource):
    """The resource of a governed model. Its import, also when scripted with
    `import_data(dataset, user=…)`, follows the data entity behaviour through the same
    services and decision core as the Import page: "allow" writes fields under approval,
    "reject" fails the row, "propose" writes the other fields and submits a proposal of
    the rest. Pass `behaviour=` to be stricter than the parameters, and
    `justification=` to say why, for every proposal. Every row is imported, or none.
    """

    def get_use_transactions(self) -> bool:
        return True

    def import_data(self, dataset, dry_run=False, raise_errors=False, **kwargs):
        """Like ModelResource.import_data, but all or nothing, validation errors too."""
        kwargs["rollback_on_validation_errors"] = True
        kwargs.pop("use_transactions", None)
        return super().import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=raise_errors,
            use_transactions=True,
            **kwargs,
        )

    def before_import(self, dataset, **kwargs):
        """Who the import runs as, and which behaviour the parameters allow it."""
        super().before_import(dataset, **kwargs)
        model = self._meta.model
        actor = kwargs.get("user")
        if actor is None or not actor.is_authenticated:
            raise ValidationError(str(IMPORT_NEEDS_USER))
        settings_row = selectors.approval_settings_for(model)
        behaviour = kwargs.get("behaviour") or settings_row.data_entity_behavior
        if behaviour not in DataEntityBehavior.values:
            raise ValidationError(str(_("Choose one of the listed behaviours.")))
        if not selectors.import_behaviour_permitted(model, behaviour):
            raise ValidationError(
                str(
                    BEHAVIOUR_NOT_PERMITTED
                    % {"parameters": registry.get(model).labels.parameters}
                )
            )
        self._engine_actor = actor
        self._engine_behaviour = behaviour
        # One justification for every proposal of the import, as on the Import page.
        self._engine_justification = kwargs.get("justification") or ""

    def save_instance(self, instance, is_create, row, **kwargs):
        """Hand the row's values to the engine instead of saving the instance; the
        engine's refusal is the row's error."""
        self.before_save_instance(instance, row, **kwargs)
        try:
            self._save_through_engine(instance, is_create)
        except WorkflowError as refused:
            raise ValidationError(refused.message) from refused
        self.after_save_instance(instance, row, **kwargs)

    def _save_through_engine(self, instance, is_create: bool) -> None:
        model = self._meta.model
        editable = [
            f for f in model._meta.concrete_fields if f.editable and not f.primary_key
        ]
        if is_create:
            created = services.governed_record_create(
                model=model,
                values={f.attname: getattr(instance, f.attname) for f in editable},
                actor=self._engine_actor,
                source=Source.IMPORT,
            )
            instance.pk = created.pk
        else:
            stored = model._default_manager.get(pk=instance.pk)
            values = {
                f.name: getattr(instance, f.attname)
                for f in editable
                if getattr(instance, f.attname) != getattr(stored, f.attname)
            }
            outcome = services.governed_record_update(
                model=model,
                pk=instance.pk,
                values=values,
                actor=self._engine_actor,
                source=Source.IMPORT,
                behaviour=self._engine_behaviour,
            )
            if outcome.proposal is not None and outcome.proposal.is_open:
                services.proposal_submit(
                    proposal=outcome.proposal,
                    actor=self._engine_actor,
                    source=Source.IMPORT,
                    justification=self._engine_justification,
                )


class ChangeProposalResource(FormulaSafeResource):
    """One row per proposal: status, who and when, and each field's original and
    proposed value. A report, never imported: its columns and fields are named in the
    reader's language."""

    record = fields.Field("object_repr", "record")
    status = fields.Field(column_name="status")
    fields_changed = fields.Field(column_name="changes")
    proposed_by = fields.Field("created_by__username", "proposed_by")
    submitted_by = fields.Field("submitted_by__username", "submitted_by")

    headers_are_labels = True
    column_labels = {
        "record": _("record"),
        "status": _("status"),
        "fields_changed": _("changes"),
    }

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

    def dehydrate_source(self, proposal: ChangeProposal) -> str:
        return str(proposal.get_source_display())

    def dehydrate_fields_changed(self, proposal: ChangeProposal) -> str:
        governed = registry.governed_of(proposal.content_type)

        def label(name: str) -> str:
            try:
                return governed.field_label(name)
            except FieldDoesNotExist:  # a field since removed from the model
                return name

        return "; ".join(
            f"{label(c.field_name)}: {c.original_value} -> {c.proposed_value}"
            for c in proposal.changes.all()
        )

    def get_export_queryset(self, request=None, **kwargs):
        return (
            super()
            .get_export_queryset(request, **kwargs)
            .select_related("created_by", "submitted_by", "content_type")
            .prefetch_related("changes")
        )


def bank_statuses(model: type) -> dict:
    """The verified status of every record's bank account whose account changed, by
    record id, for an export's column."""
    return selectors_bank.bank_statuses_all(model)
