"""Changes to governed records: fields that save at once, and drafts of proposals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .. import registry, selectors
from ..audit import audit_for_object, audit_for_proposal, audit_write
from ..core import applicability, changes, creation
from ..core.applicability import cleaned, with_values
from ..core.permissions import Action
from ..enforcement import STATUS_FIELD
from ..exceptions import (
    BEHAVIOUR_NOT_PERMITTED,
    IMPORT_NEW_RECORD_REJECTED,
    RECORD_HAS_OPEN_PROPOSAL,
    STALE_DRAFT_FIELD,
    STALE_RECORD,
    NotSubmittable,
    PermissionRefused,
    StaleRecord,
    WorkflowError,
)
from ..models import (
    EDITABLE_PROPOSAL_STATES,
    AuditAction,
    AuditEntry,
    ChangeProposal,
    ProposedChange,
    Source,
)
from .common import (
    field_audit,
    lock_proposal,
    require_action,
    require_model_permission,
    write_fields,
)
from .tallies import changes_tallied, proposals_tallied

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User


@dataclass
class RecordChangeOutcome:
    """What became of each field a user changed."""

    instance: models.Model
    saved_fields: list[str] = field(default_factory=list)
    proposed_fields: list[str] = field(default_factory=list)
    withdrawn_fields: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    proposal: ChangeProposal | None = None
    # Fields the user and someone else both changed since the user's form was loaded:
    # (field name, the user's value, the value stored now), both in stored form.
    clashes: list[tuple[str, object, object]] = field(default_factory=list)


# --- Governed records -------------------------------------------------------------


def governed_record_create(
    *,
    model: type[models.Model],
    values: dict[str, object],
    actor: User | None,
    source: Source,
    behaviour: str | None = None,
    justification: str = "",
) -> models.Model:
    """Create a record.

    Where the model's parameters say new records wait for approval, the record is
    created "Awaiting approval" (not active) with a creation proposal: every value
    entered, as a new value against an empty old one, submitted at once to the
    active workflow, whose approval makes the record active and whose rejection
    leaves it rejected. A submission the workflow refuses (a justification it
    requires, say) leaves the proposal a draft for the creator to submit; the record
    awaits approval all the same. `actor` None means the system itself (demo data,
    migrations), which needs no permission and creates active records.

    An import passes its data entity `behaviour` (and its `justification`): "propose"
    creates the record awaiting approval, "allow" active, "reject" refuses it, where
    new records wait (`core.creation.new_record_by_import`).
    """
    require_model_permission(actor, model, Action.CREATE)
    settings_row = selectors.approval_settings_for(model)
    status = creation.status_of_new_record(
        settings_row.approvals_enabled, settings_row.new_records_need_approval
    )
    if behaviour is not None:
        found = creation.new_record_by_import(behaviour, not creation.is_active(status))
        if found is None:
            raise ValidationError(
                str(
                    IMPORT_NEW_RECORD_REJECTED
                    % {
                        "record": " ".join(
                            [
                                capfirst(str(model._meta.verbose_name)),
                                str(values.get(registry.get(model).business_key, "")),
                            ]
                        ).strip(),
                        "model": model._meta.verbose_name_plural,
                    }
                )
            )
        status = found
    instance = model(**values)
    if actor is not None:
        setattr(instance, STATUS_FIELD, status)
    instance.full_clean()
    refused = selectors.inactive_references(model, values)
    if refused:
        raise ValidationError(refused)
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
        if actor is not None and not creation.is_active(status):
            proposal = creation_proposal_create(
                instance=instance, actor=actor, source=source
            )
            audit_write(
                [
                    audit_for_proposal(
                        proposal=proposal,
                        action=AuditAction.RECORD_AWAITING,
                        actor=actor,
                        source=source,
                    )
                ]
            )
            creation_proposal_submit(
                proposal=proposal,
                actor=actor,
                source=source,
                justification=justification,
            )
    return instance


def creation_proposal_create(
    *, instance: models.Model, actor: User, source: Source
) -> ChangeProposal:
    """The draft of a record's creation: its governable values, old values empty."""
    governed = registry.get(type(instance))
    return _creation_proposals_create([instance], governed, actor, source)[0]


def _creation_proposals_create(
    instances: list[models.Model],
    governed: registry.GovernedModel,
    actor: User,
    source: Source | str,
) -> list[ChangeProposal]:
    """Creation drafts of `instances`, a few queries for all of them."""
    model = governed.model
    content_type = ContentType.objects.get_for_model(model)
    proposals = ChangeProposal.objects.bulk_create(
        [
            ChangeProposal(
                content_type=content_type,
                object_id=instance.pk,
                object_repr=governed.object_repr(instance),
                source=source,
                created_by=actor,
                creates_record=True,
            )
            for instance in instances
        ]
    )
    proposals_tallied(proposals)
    fields = governed.governable_fields()
    changes_rows: list[ProposedChange] = []
    entries: list[AuditEntry] = []
    for instance, proposal in zip(instances, proposals, strict=True):
        values = creation.creation_values(
            {f.name: registry.current_value(instance, f) for f in fields}
        )
        for name, raw in values.items():
            model_field = registry.concrete_field(model, name)
            changes_rows.append(
                ProposedChange(
                    proposal=proposal,
                    field_name=name,
                    original_value=None,
                    proposed_value=raw,
                    proposed_by=actor,
                )
            )
            entries.append(
                field_audit(
                    proposal,
                    AuditAction.FIELD_PROPOSED,
                    actor,
                    model_field,
                    None,
                    raw,
                    source=source,
                )
            )
    ProposedChange.objects.bulk_create(changes_rows)
    changes_tallied(added=changes_rows)
    audit_write(entries)
    return proposals


def creation_proposal_submit(
    *,
    proposal: ChangeProposal,
    actor: User,
    source: Source | str,
    justification: str = "",
) -> str:
    """Submit a creation draft at once; a refusal (the workflow's) leaves the draft
    for its creator and is returned, "" when it went."""
    from .decisions import proposal_submit

    try:
        with transaction.atomic():
            proposal_submit(
                proposal=proposal,
                actor=actor,
                source=Source(source),
                justification=justification,
            )
    except WorkflowError as error:
        return str(error.message)
    return ""


def governed_record_update(
    *,
    model: type[models.Model],
    pk: int,
    values: dict[str, object],
    actor: User,
    source: Source,
    expected_version: str | None = None,
    loaded: Mapping[str, object] | None = None,
    behaviour: str | None = None,
) -> RecordChangeOutcome:
    """Change a record: write the fields that need no approval, propose the others.

    With `expected_version` (what the user's form was loaded with) alone, a record
    that someone changed in the meantime is refused as a whole: nothing is
    overwritten. With `loaded` too (the stored values the form was loaded with, by
    field name), nothing the user typed is lost and nothing anyone else wrote is
    overwritten: only the fields the user changed count; those nobody else changed
    since are written (or proposed), those someone else changed as well come back
    unwritten in `clashes`, for the user to choose; the others keep what is stored.

    `behaviour` None is a person's edit: fields under approval go into the record's
    draft. An import passes its data entity behaviour instead: "allow" writes them,
    "reject" refuses the whole change (a ValidationError naming each field), "propose"
    makes a new proposal of them (the caller submits it).

    The whole record is validated with every value applied, so that a proposal never
    holds a value that could not be written later. A governed field set back to its
    original value leaves the draft; a draft left empty is discarded.
    """
    governed = registry.get(model)
    require_model_permission(actor, model, Action.EDIT)
    settings_row = selectors.approval_settings_for(model)
    requested = behaviour
    if behaviour is not None and not changes.behaviour_permitted(
        settings_row.approvals_enabled, settings_row.data_entity_behavior, behaviour
    ):
        raise PermissionRefused(
            str(BEHAVIOUR_NOT_PERMITTED % {"parameters": governed.labels.parameters})
        )
    with transaction.atomic():
        instance = model._default_manager.select_for_update().get(pk=pk)
        if (
            loaded is None
            and expected_version is not None
            and registry.record_version(instance) != expected_version
        ):
            raise StaleRecord(STALE_RECORD % {"model": model._meta.verbose_name})
        proposal = selectors.open_proposal_for_update(instance)
        status = getattr(instance, STATUS_FIELD, creation.ACTIVE)
        behaviour = creation.behaviour_for_record(status, requested)
        outcome = RecordChangeOutcome(instance=instance, proposal=proposal)
        fields = {name: registry.concrete_field(model, name) for name in values}
        current = {
            name: registry.current_value(instance, model_field)
            for name, model_field in fields.items()
        }
        if loaded is not None:
            mine = {
                n: registry.serialize_value(fields[n], v) for n, v in values.items()
            }
            meantime = changes.meantime_split(
                values,
                loaded=loaded,
                current=current,
                mine=mine,
                equal=lambda n, left, right: registry.values_equal(
                    fields[n], left, right
                ),
            )
            outcome.clashes = [(n, mine[n], current[n]) for n in meantime.clashes]
            values = {n: values[n] for n in meantime.kept}
        candidate = with_values(instance, values)
        problems = applicability.record_problems(candidate, values)
        for name, problem in selectors.inactive_references(
            model, {n: v for n, v in values.items() if n in fields}
        ).items():
            problems.setdefault(name, []).append(problem)
        if problems:
            raise ValidationError(problems)
        values = cleaned(candidate, values)
        moved = [
            name
            for name, value in values.items()
            if not registry.values_equal(
                fields[name],
                current[name],
                registry.serialize_value(fields[name], value),
            )
        ]
        # A field already in the draft is routed even when set back to its original
        # value: that withdraws it.
        in_draft = (
            {c.field_name for c in proposal.changes.all()}
            if proposal is not None and proposal.state in EDITABLE_PROPOSAL_STATES
            else set()
        )
        routing = changes.route_changes(
            [n for n in values if n in moved or n in in_draft],
            enabled=creation.fields_under_approval(
                status,
                changes.enabled_fields(
                    settings_row.approvals_enabled,
                    settings_row.enabled_fields,
                    governed.governable_field_names,
                ),
                governed.governable_field_names,
            ),
            behaviour=behaviour,
            open_proposal_state=proposal.state if proposal else None,
            open_proposal_label=proposal.get_state_display() if proposal else "",
            labels={n: governed.field_label(n) for n in values},
            record=governed.object_repr(instance),
            model_name=str(model._meta.verbose_name),
        )
        if routing.row_refusal is not None:
            raise ValidationError(
                {n: [str(r)] for n, r in routing.refused.items()}
                or str(routing.row_refusal)
            )
        outcome.refused = {n: str(r) for n, r in routing.refused.items()}
        direct = {n: values[n] for n in routing.direct if n in moved}

        # Fields without approval first, so that a proposal made in the same save
        # names the record as it now reads (a renamed customer by its new name).
        if direct:
            write_fields(instance=instance, values=direct, actor=actor, source=source)
            outcome.saved_fields = list(direct)
            if proposal is not None:
                _rename_open_proposal(governed, proposal, instance)

        if routing.proposed and proposal is None and not creation.is_active(status):
            # A rejected record is edited into a new creation proposal, holding all
            # its values, which its creator submits again.
            proposal = creation_proposal_create(
                instance=instance, actor=actor, source=source
            )
        if routing.proposed:
            proposal = _draft_merge(
                governed=governed,
                instance=instance,
                proposal=proposal,
                governed_values={
                    n: registry.serialize_value(fields[n], values[n])
                    for n in routing.proposed
                },
                current=current,
                actor=actor,
                source=source,
                outcome=outcome,
            )
            outcome.proposal = proposal
    return outcome


def _rename_open_proposal(
    governed: registry.GovernedModel, proposal: ChangeProposal, instance: models.Model
) -> None:
    """Work items and mails show a proposal by the record's name: keep it current."""
    name = governed.object_repr(instance)
    if proposal.object_repr != name:
        proposal.object_repr = name
        proposal.save(update_fields=["object_repr"])


def _draft_merge(
    *,
    governed: registry.GovernedModel,
    instance: models.Model,
    proposal: ChangeProposal | None,
    governed_values: dict[str, object],
    current: dict[str, object],
    actor: User,
    source: Source,
    outcome: RecordChangeOutcome,
) -> ChangeProposal | None:
    model = type(instance)
    existing = {c.field_name: c for c in proposal.changes.all()} if proposal else {}
    entries = []
    for name, new_raw in governed_values.items():
        model_field = registry.concrete_field(model, name)
        change = existing.get(name)
        original = change.original_value if change else current[name]
        if registry.values_equal(model_field, original, new_raw):
            if change is not None:
                # A change is only ever found in a proposal.
                assert proposal is not None
                change.delete()
                changes_tallied(removed=[change])
                del existing[name]
                outcome.withdrawn_fields.append(name)
                entries.append(
                    field_audit(
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
            proposals_tallied([proposal])
        if change is None:
            change = ProposedChange.objects.create(
                proposal=proposal,
                field_name=name,
                original_value=original,
                proposed_value=new_raw,
                proposed_by=actor,
            )
            changes_tallied(added=[change])
            existing[name] = change
        else:
            change.proposed_value = new_raw
            change.proposed_by = actor
            change.save(update_fields=["proposed_value", "proposed_by"])
        outcome.proposed_fields.append(name)
        entries.append(
            field_audit(
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


def _discard_emptied(
    proposal: ChangeProposal, actor: User, source: Source
) -> AuditEntry:
    """A draft whose last change was withdrawn is discarded, and the history says so."""
    proposal.discard()
    proposal.save(update_fields=["state", "closed_at"])
    proposals_tallied([proposal])
    return audit_for_proposal(
        proposal=proposal,
        action=AuditAction.PROPOSAL_DISCARDED,
        actor=actor,
        source=source,
        comment=lambda: _("No proposed change was left."),
    )


# --- Drafts ----------------------------------------------------------------------


def proposal_discard_field(
    *,
    proposal: ChangeProposal,
    field_name: str,
    actor: User,
    source: Source = Source.BROWSER,
) -> ChangeProposal:
    """Drop one field from a draft; a draft left empty is discarded."""
    with transaction.atomic():
        proposal = lock_proposal(proposal)
        require_action(Action.EDIT_DRAFT, proposal, actor)
        governed = registry.governed_of(proposal.content_type)
        change = proposal.changes.filter(field_name=field_name).first()
        if change is None:
            raise NotSubmittable(STALE_DRAFT_FIELD % {"field": field_name})
        model_field = registry.concrete_field(governed.model, field_name)
        change.delete()
        changes_tallied(removed=[change])
        entries = [
            field_audit(
                proposal,
                AuditAction.FIELD_DISCARDED,
                actor,
                model_field,
                change.original_value,
                change.proposed_value,
                source=source,
            )
        ]
        if not proposal.changes.exists():
            entries.append(_discard_emptied(proposal, actor, source))
        audit_write(entries)
    return proposal


def proposal_discard(
    *, proposal: ChangeProposal, actor: User, source: Source = Source.BROWSER
) -> ChangeProposal:
    """Discard all changes of a draft. The proposal stays, discarded, for the history."""
    with transaction.atomic():
        proposal = lock_proposal(proposal)
        require_action(Action.EDIT_DRAFT, proposal, actor)
        proposal.discard()
        proposal.save(update_fields=["state", "closed_at"])
        proposals_tallied([proposal])
        audit_write(
            [
                audit_for_proposal(
                    proposal=proposal,
                    action=AuditAction.PROPOSAL_DISCARDED,
                    actor=actor,
                    source=source,
                )
            ]
        )
    return proposal


def governed_record_delete(
    *, instance: models.Model, actor: User, source: Source = Source.BROWSER
) -> None:
    """Delete a record that has no open proposal, leaving an audit row behind."""
    model = type(instance)
    require_model_permission(actor, model, Action.DELETE)
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
