"""Changes to governed records: fields that save at once, and drafts of proposals."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .. import registry, rules, selectors
from ..audit import audit_for_object, audit_for_proposal, audit_write
from ..exceptions import (
    NO_PERMISSION,
    NOT_A_DRAFT,
    PENDING_EDIT_REFUSED,
    RECORD_HAS_OPEN_PROPOSAL,
    STALE_DRAFT_FIELD,
    STALE_RECORD,
    AlreadyDecided,
    NotSubmittable,
    PermissionRefused,
    StaleRecord,
)
from ..models import (
    EDITABLE_PROPOSAL_STATES,
    AuditAction,
    AuditEntry,
    ChangeProposal,
    ProposalState,
    ProposedChange,
    Source,
)

User = AbstractBaseUser


@dataclass
class RecordChangeOutcome:
    """What became of each field a user changed."""

    instance: models.Model
    saved_fields: list[str] = field(default_factory=list)
    proposed_fields: list[str] = field(default_factory=list)
    withdrawn_fields: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    proposal: ChangeProposal | None = None


# --- Governed records -------------------------------------------------------------


def governed_record_create(
    *, model: type[models.Model], values: dict[str, object], actor, source: Source
) -> models.Model:
    """Create a record. New records need no approval: there is no value to protect yet.

    `actor` None means the system itself (demo data, migrations), which needs no permission.
    """
    _require_model_permission(actor, model, "add")
    instance = model(**values)
    instance.full_clean()
    with transaction.atomic():
        instance.save()
        audit_write(
            [
                audit_for_object(
                    instance=instance,
                    action=AuditAction.CREATED,
                    actor=actor,
                    source=source,
                )
            ]
        )
    return instance


def governed_record_update(
    *,
    model: type[models.Model],
    pk: int,
    values: dict[str, object],
    actor,
    source: Source,
    expected_version: str | None = None,
) -> RecordChangeOutcome:
    """Change a record: write the fields that need no approval, propose the others.

    With `expected_version` (what the user's form was loaded with), a record that
    someone changed in the meantime is refused as a whole: nothing is overwritten.

    All values are validated together first, as if every one of them were applied, so
    that a proposal never holds a value that could not be written later. A governed
    field set back to its original value leaves the draft; a draft left empty is
    discarded.
    """
    governed = registry.get(model)
    _require_model_permission(actor, model, "change")
    with transaction.atomic():
        instance = model._default_manager.select_for_update().get(pk=pk)
        if (
            expected_version is not None
            and registry.record_version(instance) != expected_version
        ):
            raise StaleRecord(STALE_RECORD % {"model": model._meta.verbose_name})
        enabled = selectors.enabled_fields_for(model)
        proposal = selectors.open_proposal_for_update(instance)
        outcome = RecordChangeOutcome(instance=instance, proposal=proposal)

        current = {
            name: registry.current_value(instance, model._meta.get_field(name))
            for name in values
        }
        values = _validated_values(instance, values)

        direct: dict[str, object] = {}
        governed_values: dict[str, object] = {}
        for name, value in values.items():
            model_field = model._meta.get_field(name)
            new_raw = registry.serialize_value(model_field, value)
            if name in enabled:
                governed_values[name] = new_raw
            elif not registry.values_equal(model_field, current[name], new_raw):
                direct[name] = value

        # Fields without approval first, so that a proposal made in the same save
        # names the record as it now reads (a renamed customer by its new name).
        if direct:
            _write_fields(instance=instance, values=direct, actor=actor, source=source)
            outcome.saved_fields = list(direct)
            if proposal is not None:
                _rename_open_proposal(governed, proposal, instance)

        if governed_values:
            if proposal is not None and proposal.state == ProposalState.PENDING:
                for name, new_raw in governed_values.items():
                    model_field = model._meta.get_field(name)
                    if not registry.values_equal(model_field, current[name], new_raw):
                        outcome.refused[name] = PENDING_EDIT_REFUSED % {
                            "field": governed.field_label(name),
                            "model": model._meta.verbose_name,
                        }
            else:
                proposal = _draft_merge(
                    governed=governed,
                    instance=instance,
                    proposal=proposal,
                    governed_values=governed_values,
                    current=current,
                    actor=actor,
                    source=source,
                    outcome=outcome,
                )
                outcome.proposal = proposal
    return outcome


def _rename_open_proposal(governed, proposal: ChangeProposal, instance) -> None:
    """Work items and mails show a proposal by the record's name: keep it current."""
    name = governed.object_repr(instance)
    if proposal.object_repr != name:
        proposal.object_repr = name
        proposal.save(update_fields=["object_repr"])


def _require_model_permission(actor, model: type[models.Model], action: str) -> None:
    opts = model._meta
    if actor is not None and not actor.has_perm(
        f"{opts.app_label}.{action}_{opts.model_name}"
    ):
        raise PermissionRefused(NO_PERMISSION)


def _validated_values(
    instance: models.Model, values: dict[str, object]
) -> dict[str, object]:
    """Validate `values` as if all were applied at once; return them as the model cleans them."""
    model = type(instance)
    candidate = model._default_manager.get(pk=instance.pk)
    for name, value in values.items():
        setattr(
            candidate,
            model._meta.get_field(name).attname,
            _attvalue(model._meta.get_field(name), value),
        )
    candidate.full_clean()
    return {
        name: getattr(candidate, model._meta.get_field(name).attname) for name in values
    }


def _attvalue(model_field: models.Field, value: object) -> object:
    if isinstance(model_field, models.ForeignKey) and isinstance(value, models.Model):
        return value.pk
    return value


def _write_fields(
    *,
    instance: models.Model,
    values: dict[str, object],
    actor,
    source: Source,
    proposal=None,
    comment="",
) -> None:
    model = type(instance)
    entries = _write_fields_entries(
        instance=instance,
        values=values,
        actor=actor,
        source=source,
        proposal=proposal,
        comment=comment,
    )
    update_fields = list(values)
    if any(f.name == "updated_at" for f in model._meta.concrete_fields):
        update_fields.append("updated_at")
    instance.save(update_fields=update_fields)
    audit_write(entries)


def _write_fields_entries(
    *,
    instance: models.Model,
    values: dict[str, object],
    actor,
    source: Source,
    proposal=None,
    comment="",
    governed=None,
) -> list[AuditEntry]:
    """Set `values` on `instance` (unsaved) and return the audit rows of the change."""
    model = type(instance)
    entries = []
    for name, value in values.items():
        model_field = model._meta.get_field(name)
        old_raw = registry.current_value(instance, model_field)
        new_raw = registry.serialize_value(model_field, value)
        setattr(instance, model_field.attname, _attvalue(model_field, value))
        entries.append(
            audit_for_object(
                instance=instance,
                action=AuditAction.FIELD_CHANGED,
                actor=actor,
                source=source,
                proposal=proposal,
                field_name=name,
                field_label=capfirst(str(model_field.verbose_name)),
                old_value=old_raw,
                new_value=new_raw,
                old_display=registry.display_value(model_field, old_raw),
                new_display=registry.display_value(model_field, new_raw),
                comment=comment,
            )
        )
    return entries


def _draft_merge(
    *, governed, instance, proposal, governed_values, current, actor, source, outcome
) -> ChangeProposal | None:
    model = type(instance)
    existing = {c.field_name: c for c in proposal.changes.all()} if proposal else {}
    entries = []
    for name, new_raw in governed_values.items():
        model_field = model._meta.get_field(name)
        change = existing.get(name)
        original = change.original_value if change else current[name]
        if registry.values_equal(model_field, original, new_raw):
            if change is not None:
                change.delete()
                del existing[name]
                outcome.withdrawn_fields.append(name)
                entries.append(
                    _field_audit(
                        proposal,
                        AuditAction.FIELD_DISCARDED,
                        actor,
                        model_field,
                        original,
                        change.proposed_value,
                    )
                )
            continue
        if change is not None and registry.values_equal(
            model_field, change.proposed_value, new_raw
        ):
            continue
        if proposal is None:
            proposal = ChangeProposal.objects.create(
                content_type=ContentType.objects.get_for_model(model),
                object_id=instance.pk,
                object_repr=governed.object_repr(instance),
                source=source,
                created_by=actor,
            )
        if change is None:
            change = ProposedChange.objects.create(
                proposal=proposal,
                field_name=name,
                original_value=original,
                proposed_value=new_raw,
                proposed_by=actor,
            )
            existing[name] = change
        else:
            change.proposed_value = new_raw
            change.proposed_by = actor
            change.save(update_fields=["proposed_value", "proposed_by"])
        outcome.proposed_fields.append(name)
        entries.append(
            _field_audit(
                proposal,
                AuditAction.FIELD_PROPOSED,
                actor,
                model_field,
                original,
                new_raw,
                source=source,
            )
        )
    if proposal is not None and not existing:
        entries.append(_discard_emptied(proposal, actor, source))
    audit_write(entries)
    return proposal


def _discard_emptied(proposal: ChangeProposal, actor, source) -> AuditEntry:
    """A draft whose last change was withdrawn is discarded, and the history says so."""
    proposal.discard()
    proposal.save(update_fields=["state", "closed_at"])
    return audit_for_proposal(
        proposal=proposal,
        action=AuditAction.PROPOSAL_DISCARDED,
        actor=actor,
        source=source,
        comment=lambda: _("No proposed change was left."),
    )


def _field_audit(proposal, action, actor, model_field, old_raw, new_raw, **extra):
    return audit_for_proposal(
        proposal=proposal,
        action=action,
        actor=actor,
        field_name=model_field.name,
        field_label=capfirst(str(model_field.verbose_name)),
        old_value=old_raw,
        new_value=new_raw,
        old_display=registry.display_value(model_field, old_raw),
        new_display=registry.display_value(model_field, new_raw),
        **extra,
    )


# --- Drafts ----------------------------------------------------------------------


def _lock_proposal(proposal: ChangeProposal) -> ChangeProposal:
    return (
        ChangeProposal.objects.select_for_update(of=("self",))
        .select_related("content_type")
        .get(pk=proposal.pk)
    )


def _require_draft_editor(proposal: ChangeProposal, actor) -> None:
    if proposal.state not in EDITABLE_PROPOSAL_STATES:
        raise AlreadyDecided(NOT_A_DRAFT % {"state": proposal.get_state_display()})
    if not rules.can_edit_governed_model(actor, proposal.content_type):
        raise PermissionRefused(NO_PERMISSION)


def proposal_discard_field(
    *, proposal: ChangeProposal, field_name: str, actor
) -> ChangeProposal:
    """Drop one field from a draft; a draft left empty is discarded."""
    with transaction.atomic():
        proposal = _lock_proposal(proposal)
        _require_draft_editor(proposal, actor)
        governed = registry.get(proposal.content_type.model_class())
        change = proposal.changes.filter(field_name=field_name).first()
        if change is None:
            raise NotSubmittable(STALE_DRAFT_FIELD % {"field": field_name})
        model_field = governed.model._meta.get_field(field_name)
        change.delete()
        entries = [
            _field_audit(
                proposal,
                AuditAction.FIELD_DISCARDED,
                actor,
                model_field,
                change.original_value,
                change.proposed_value,
                source=Source.BROWSER,
            )
        ]
        if not proposal.changes.exists():
            entries.append(_discard_emptied(proposal, actor, Source.BROWSER))
        audit_write(entries)
    return proposal


def proposal_discard(*, proposal: ChangeProposal, actor) -> ChangeProposal:
    """Discard all changes of a draft. The proposal stays, discarded, for the history."""
    with transaction.atomic():
        proposal = _lock_proposal(proposal)
        _require_draft_editor(proposal, actor)
        proposal.discard()
        proposal.save(update_fields=["state", "closed_at"])
        audit_write(
            [
                audit_for_proposal(
                    proposal=proposal,
                    action=AuditAction.PROPOSAL_DISCARDED,
                    actor=actor,
                    source=Source.BROWSER,
                )
            ]
        )
    return proposal


def governed_record_delete(
    *, instance: models.Model, actor, source: Source = Source.BROWSER
) -> None:
    """Delete a record that has no open proposal, leaving an audit row behind."""
    model = type(instance)
    _require_model_permission(actor, model, "delete")
    with transaction.atomic():
        instance = model._default_manager.select_for_update().get(pk=instance.pk)
        if selectors.open_proposal_for_update(instance) is not None:
            raise PermissionRefused(RECORD_HAS_OPEN_PROPOSAL)
        audit_write(
            [
                audit_for_object(
                    instance=instance,
                    action=AuditAction.DELETED,
                    actor=actor,
                    source=source,
                )
            ]
        )
        instance.delete()
