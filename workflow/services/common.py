"""What every write of the engine does the same way: lock, ask the decision core,
write a governed record's fields with their audit rows.

Lock order everywhere: the governed record first, then its proposal, then work items,
so that an approval, a clerk's edit and the escalation run never deadlock.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone
from django.utils.text import capfirst

from .. import registry
from ..audit import audit_for_object, audit_for_proposal, audit_write
from ..core import applicability, permissions
from ..core.actions import action_refusal
from ..core.permissions import Action
from ..enforcement import STATUS_FIELD, engine_writes
from ..exceptions import NO_PERMISSION, PermissionRefused
from ..models import (
    AuditAction,
    AuditEntry,
    ChangeProposal,
    Source,
    WorkflowStep,
    WorkItem,
    WorkItemState,
)
from ..selectors_facts import actor_facts, proposal_facts

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User

    from ..audit import SystemComment, Translated


def lock_record(proposal: ChangeProposal) -> models.Model | None:
    model = registry.model_of(proposal.content_type)
    return (
        model._default_manager.select_for_update().filter(pk=proposal.object_id).first()
    )


def lock_proposal(proposal: ChangeProposal) -> ChangeProposal:
    return (
        ChangeProposal.objects.select_for_update(of=("self",))
        .select_related("content_type", "workflow", "current_step")
        .get(pk=proposal.pk)
    )


def require_action(action: Action, proposal: ChangeProposal, actor: User) -> None:
    """Refuse, with the core's reason, unless `actor` may take `action` now. Called
    with the proposal locked, so the facts cannot change before the write."""
    refusal = action_refusal(
        action,
        proposal_facts(proposal),
        actor_facts(actor),
        app_label=proposal.content_type.app_label,
        model_name=proposal.content_type.model,
        state_label=proposal.get_state_display(),
    )
    if refusal is not None:
        raise refusal.error()


def require_model_permission(
    actor: User | None, model: type[models.Model], action: Action
) -> None:
    """`actor` None means the system itself (demo data, migrations)."""
    if actor is None:
        return
    needed = permissions.required_permissions(
        action,
        model._meta.app_label,
        # Options.model_name is None only while a model class is being built.
        model._meta.model_name,  # type: ignore[arg-type]
    )
    if not actor_facts(actor).holds(*needed):
        raise PermissionRefused(str(NO_PERMISSION))


def write_fields(
    *,
    instance: models.Model,
    values: dict[str, object],
    actor: User | None,
    source: Source | str,
    proposal: ChangeProposal | None = None,
    comment: str | SystemComment | Translated = "",
    record_status: str | None = None,
) -> None:
    """Write `values` to a governed record with one audit row per field.

    With `record_status`, the record's status is written too (approval on create):
    the values are then those the record was created with, audited from nothing.
    """
    model = type(instance)
    entries = field_change_entries(
        instance=instance,
        values=values,
        actor=actor,
        source=source,
        proposal=proposal,
        comment=comment,
        created=record_status is not None,
    )
    update_fields = list(values)
    if record_status is not None:
        setattr(instance, STATUS_FIELD, record_status)
        update_fields.append(STATUS_FIELD)
    if any(f.name == "updated_at" for f in model._meta.concrete_fields):
        update_fields.append("updated_at")
    with engine_writes():
        instance.save(update_fields=update_fields)
    audit_write(entries)


def field_change_entries(
    *,
    instance: models.Model,
    values: dict[str, object],
    actor: User | None,
    source: Source | str,
    proposal: ChangeProposal | None = None,
    comment: str | SystemComment | Translated = "",
    created: bool = False,
) -> list[AuditEntry]:
    """Set `values` on `instance` (unsaved) and return the audit rows of the change;
    `created`: the values of a record's creation, whose old values are empty."""
    model = type(instance)
    entries = []
    for name, value in values.items():
        model_field = registry.concrete_field(model, name)
        old_raw = None if created else registry.current_value(instance, model_field)
        new_raw = registry.serialize_value(model_field, value)
        setattr(
            instance, model_field.attname, applicability.attvalue(model_field, value)
        )
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


def record_status_write(
    *,
    instance: models.Model,
    status: str,
    action: AuditAction,
    proposal: ChangeProposal,
    actor: User | None,
    source: Source | str,
    comment: str | SystemComment | Translated = "",
) -> AuditEntry:
    """Move a record to `status` (approval on create) as the engine; returns its
    audit row, which names the proposal that moved it."""
    setattr(instance, STATUS_FIELD, status)
    with engine_writes():
        type(instance)._default_manager.filter(pk=instance.pk).update(
            **{STATUS_FIELD: status}
        )
    return audit_for_proposal(
        proposal=proposal,
        action=action,
        actor=actor,
        source=source,
        comment=comment,
    )


def field_audit(
    proposal: ChangeProposal,
    action: AuditAction,
    actor: User | None,
    model_field: models.Field,
    old_raw: object,
    new_raw: object,
    **extra: Any,
) -> AuditEntry:
    """An audit row about one field of a proposal."""
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


def work_items_build(
    proposal: ChangeProposal,
    step: WorkflowStep,
    assignees: Iterable[User],
    *,
    now: datetime.datetime | None = None,
    due_at: datetime.datetime | None = None,
) -> list[WorkItem]:
    """Unsaved work items of `step` for each assignee in the proposal's round, due when
    the step's time limit passes (or at `due_at`, for an item handed over)."""
    if due_at is None:
        due_at = _step_due_at(step, now or timezone.now())
    return [
        WorkItem(
            proposal=proposal,
            step=step,
            assignee=user,
            due_at=due_at,
            submission_round=proposal.submission_round,
        )
        for user in assignees
    ]


# The columns of a work item as `work_item_rows` gives them.
WORK_ITEM_ROW_FIELDS = (
    "proposal_id",
    "step_id",
    "assignee_id",
    "state",
    "created_at",
    "due_at",
    "comment",
    "submission_round",
)


def work_item_rows(
    proposal: ChangeProposal,
    step: WorkflowStep,
    assignees: Iterable[User],
    *,
    now: datetime.datetime,
) -> list[tuple[object, ...]]:
    """The work items `work_items_build` would make, as plain rows (for an import's
    many: a model instance per item costs more than writing it)."""
    due_at = _step_due_at(step, now)
    return [
        (
            proposal.pk,
            step.pk,
            user.pk,
            WorkItemState.OPEN.value,
            now,
            due_at,
            "",
            proposal.submission_round,
        )
        for user in assignees
    ]


def _step_due_at(
    step: WorkflowStep, now: datetime.datetime
) -> datetime.datetime | None:
    return None if step.time_limit is None else now + step.time_limit
