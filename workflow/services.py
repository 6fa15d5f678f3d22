"""Every write of the approval engine: record changes, proposals, decisions, settings.

Each service owns its whole operation: one transaction, row locks on what it changes,
the permission check, the django-fsm transition, the save and the audit rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django_fsm import has_transition_perm

from . import registry, rules, selectors
from .audit import audit_for_object, audit_for_proposal, audit_write
from .exceptions import (
    ALREADY_DECIDED_STEP,
    APPLY_CONFLICT,
    APPLY_INVALID,
    COMMENT_REQUIRED_TO_REJECT,
    EMPTY_WORKFLOW,
    NO_ACTIVE_WORKFLOW,
    NO_ELIGIBLE_APPROVER,
    NO_PERMISSION,
    NOT_A_DRAFT,
    NOT_ASSIGNED,
    NOT_GOVERNABLE_FIELD,
    NOT_PENDING,
    NOTHING_TO_SUBMIT,
    PENDING_EDIT_REFUSED,
    STALE_DRAFT_FIELD,
    WORKFLOW_WITHOUT_STEPS,
    AlreadyDecided,
    NotSubmittable,
    PermissionRefused,
)
from .models import (
    ApprovalSettings,
    AuditAction,
    ChangeProposal,
    CompletionPolicy,
    DataEntityBehavior,
    ProposalState,
    ProposedChange,
    Source,
    Workflow,
    WorkflowStep,
    WorkItem,
    WorkItemState,
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
    """Create a record. New records need no approval: there is no value to protect yet."""
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
) -> RecordChangeOutcome:
    """Change a record: write the fields that need no approval, propose the others.

    All values are validated together first, as if every one of them were applied, so
    that a proposal never holds a value that could not be written later. A governed
    field set back to its original value leaves the draft; a draft left empty is
    discarded.
    """
    governed = registry.get(model)
    with transaction.atomic():
        instance = model._default_manager.select_for_update().get(pk=pk)
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

        if direct:
            _write_fields(instance=instance, values=direct, actor=actor, source=source)
            outcome.saved_fields = list(direct)
    return outcome


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
    update_fields = list(values)
    if any(f.name == "updated_at" for f in model._meta.concrete_fields):
        update_fields.append("updated_at")
    instance.save(update_fields=update_fields)
    audit_write(entries)


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
        proposal.discard()
        proposal.save(update_fields=["state", "closed_at"])
    audit_write(entries)
    return proposal


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
    if proposal.state != ProposalState.DRAFT:
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
            proposal.discard()
            proposal.save(update_fields=["state", "closed_at"])
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


# --- Submit and decide -------------------------------------------------------------


def proposal_submit(*, proposal: ChangeProposal, actor) -> ChangeProposal:
    """Send a draft to the active workflow and create the first step's work items."""
    with transaction.atomic():
        proposal = _lock_proposal(proposal)
        _require_draft_editor(proposal, actor)
        if not has_transition_perm(proposal.submit, actor):
            raise PermissionRefused(NO_PERMISSION)
        if not proposal.changes.exists():
            raise NotSubmittable(NOTHING_TO_SUBMIT)
        model = proposal.content_type.model_class()
        governed = registry.get(model)
        workflow = selectors.active_workflow_for(model)
        if workflow is None:
            raise NotSubmittable(
                NO_ACTIVE_WORKFLOW
                % {
                    "model": model._meta.verbose_name_plural,
                    "workflows": governed.labels.workflows,
                }
            )
        steps = list(workflow.steps.all())
        if not steps:
            raise NotSubmittable(EMPTY_WORKFLOW % {"workflow": workflow.name})
        first_step = steps[0]
        proposal.submit(by=actor, workflow=workflow, first_step=first_step)
        assignees = _eligible_assignees(first_step, proposal)
        if not assignees:
            raise NotSubmittable(NO_ELIGIBLE_APPROVER % {"step": first_step.name})
        proposal.save(
            update_fields=[
                "state",
                "submitted_by",
                "submitted_at",
                "workflow",
                "current_step",
            ]
        )
        _open_work_items(proposal, first_step, assignees)
        audit_write(
            [
                audit_for_proposal(
                    proposal=proposal,
                    action=AuditAction.SUBMITTED,
                    actor=actor,
                    comment=_("Sent to %(workflow)s, step %(step)s.")
                    % {"workflow": workflow, "step": first_step},
                )
            ]
        )
    return proposal


def _eligible_assignees(step: WorkflowStep, proposal: ChangeProposal) -> list:
    excluded = rules.people_who_may_not_decide(proposal)
    return [user for user in selectors.step_assignees(step) if user.pk not in excluded]


def _open_work_items(
    proposal: ChangeProposal, step: WorkflowStep, assignees: list
) -> None:
    WorkItem.objects.bulk_create(
        [WorkItem(proposal=proposal, step=step, assignee=user) for user in assignees]
    )


def proposal_approve(
    *, proposal: ChangeProposal, actor, comment: str = ""
) -> ChangeProposal:
    """Approve the current step as `actor`; the last approval writes the changes."""
    with transaction.atomic():
        proposal, work_item = _lock_for_decision(proposal, actor)
        if not has_transition_perm(work_item.approve, actor):
            raise PermissionRefused(NO_PERMISSION)
        work_item.approve(comment=comment.strip())
        work_item.save(update_fields=["state", "comment", "decided_at"])
        entries = [
            audit_for_proposal(
                proposal=proposal,
                action=AuditAction.APPROVED,
                actor=actor,
                comment=work_item.comment,
                source=Source.BROWSER,
            )
        ]
        outcome = _step_outcome(proposal.current_step, proposal)
        if outcome == WorkItemState.APPROVED:
            _close_open_items(proposal)
            next_step = proposal.workflow.steps.filter(
                sequence__gt=proposal.current_step.sequence
            ).first()
            if next_step is not None:
                assignees = _eligible_assignees(next_step, proposal)
                if not assignees:
                    raise NotSubmittable(
                        NO_ELIGIBLE_APPROVER % {"step": next_step.name}
                    )
                proposal.advance(next_step=next_step)
                proposal.save(update_fields=["state", "current_step"])
                _open_work_items(proposal, next_step, assignees)
            else:
                entries += _apply(proposal, actor)
        audit_write(entries)
    return proposal


def proposal_reject(*, proposal: ChangeProposal, actor, comment: str) -> ChangeProposal:
    """Reject as `actor`. A comment is required; the record is left untouched."""
    comment = (comment or "").strip()
    if not comment:
        raise NotSubmittable(COMMENT_REQUIRED_TO_REJECT)
    with transaction.atomic():
        proposal, work_item = _lock_for_decision(proposal, actor)
        if not has_transition_perm(work_item.reject, actor):
            raise PermissionRefused(NO_PERMISSION)
        work_item.reject(comment=comment)
        work_item.save(update_fields=["state", "comment", "decided_at"])
        entries = [
            audit_for_proposal(
                proposal=proposal,
                action=AuditAction.REJECTED,
                actor=actor,
                comment=comment,
                source=Source.BROWSER,
            )
        ]
        if _step_outcome(proposal.current_step, proposal) == WorkItemState.REJECTED:
            _close_open_items(proposal)
            proposal.reject()
            proposal.save(update_fields=["state", "closed_at"])
        audit_write(entries)
    return proposal


def _lock_for_decision(
    proposal: ChangeProposal, actor
) -> tuple[ChangeProposal, WorkItem]:
    # Lock order everywhere: the governed record first, then its proposal, so that
    # an approval and a clerk's edit of the same record never deadlock.
    model = proposal.content_type.model_class()
    model._default_manager.select_for_update().filter(pk=proposal.object_id).first()
    proposal = (
        ChangeProposal.objects.select_for_update(of=("self",))
        .select_related("content_type", "workflow", "current_step")
        .get(pk=proposal.pk)
    )
    if proposal.state != ProposalState.PENDING:
        raise AlreadyDecided(NOT_PENDING % {"state": proposal.get_state_display()})
    refusal = rules.decision_refusal(proposal, actor)
    if refusal:
        raise PermissionRefused(refusal)
    items = list(
        WorkItem.objects.select_for_update().filter(
            proposal=proposal, step=proposal.current_step, assignee=actor
        )
    )
    open_items = [item for item in items if item.state == WorkItemState.OPEN]
    if open_items:
        return proposal, open_items[0]
    if items:
        raise AlreadyDecided(ALREADY_DECIDED_STEP)
    raise PermissionRefused(NOT_ASSIGNED)


def _step_outcome(step: WorkflowStep, proposal: ChangeProposal) -> WorkItemState | None:
    """Whether the step is decided, by its completion policy, from its work items."""
    states = list(
        WorkItem.objects.filter(proposal=proposal, step=step).values_list(
            "state", flat=True
        )
    )
    approved = states.count(WorkItemState.APPROVED)
    rejected = states.count(WorkItemState.REJECTED)
    total = len(states)
    if step.completion_policy == CompletionPolicy.SINGLE:
        needed = 1
        if rejected:
            return WorkItemState.REJECTED
    elif step.completion_policy == CompletionPolicy.ALL:
        needed = total
    elif step.completion_policy == CompletionPolicy.MAJORITY:
        needed = total // 2 + 1
    else:
        needed = max(1, math.ceil(total * (step.approval_percentage or 100) / 100))
    if approved >= needed:
        return WorkItemState.APPROVED
    if total - rejected < needed:
        return WorkItemState.REJECTED
    return None


def _close_open_items(proposal: ChangeProposal) -> None:
    for item in WorkItem.objects.select_for_update().filter(
        proposal=proposal, state=WorkItemState.OPEN
    ):
        item.close()
        item.save(update_fields=["state", "decided_at"])


def _apply(proposal: ChangeProposal, actor) -> list:
    """Write all proposed values at once, or nothing if any original value has moved."""
    model = proposal.content_type.model_class()
    instance = model._default_manager.select_for_update().get(pk=proposal.object_id)
    changes = list(proposal.changes.all())
    conflicts = []
    for change in changes:
        model_field = model._meta.get_field(change.field_name)
        now = registry.current_value(instance, model_field)
        if not registry.values_equal(model_field, now, change.original_value):
            conflicts.append((change, model_field, now))
    if not conflicts:
        values = {
            c.field_name: registry.deserialize_value(
                model._meta.get_field(c.field_name), c.proposed_value
            )
            for c in changes
        }
        try:
            values = _validated_values(instance, values)
        except ValidationError as error:
            return _conflict(
                proposal,
                actor,
                [],
                APPLY_INVALID % {"errors": " ".join(error.messages)},
            )
        _write_fields(
            instance=instance,
            values=values,
            actor=actor,
            source=proposal.source,
            proposal=proposal,
            comment=_("Applied from proposal %(id)s.") % {"id": proposal.pk},
        )
        proposal.apply()
        proposal.save(update_fields=["state", "closed_at"])
        return [
            audit_for_proposal(
                proposal=proposal,
                action=AuditAction.APPLIED,
                actor=actor,
                source=Source.SYSTEM,
            )
        ]
    return _conflict(proposal, actor, conflicts, "")


def _conflict(proposal: ChangeProposal, actor, conflicts, reason: str) -> list:
    proposal.mark_conflict()
    proposal.save(update_fields=["state", "closed_at"])
    entries = []
    for change, model_field, now in conflicts:
        original = registry.display_value(model_field, change.original_value)
        current = registry.display_value(model_field, now)
        entries.append(
            _field_audit(
                proposal,
                AuditAction.CONFLICT,
                actor,
                model_field,
                change.original_value,
                now,
                source=Source.SYSTEM,
                comment=APPLY_CONFLICT % {"original": original, "current": current},
            )
        )
    if reason:
        entries.append(
            audit_for_proposal(
                proposal=proposal,
                action=AuditAction.CONFLICT,
                actor=actor,
                source=Source.SYSTEM,
                comment=reason,
            )
        )
    return entries


# --- Settings and workflow definitions -----------------------------------------


def approval_settings_ensure(*, model: type[models.Model]) -> ApprovalSettings:
    """The settings row of a governed model, created (approvals off) on first use."""
    registry.get(model)
    settings_row, _created = ApprovalSettings.objects.get_or_create(
        content_type=ContentType.objects.get_for_model(model)
    )
    return settings_row


def approval_settings_update(
    *,
    model: type[models.Model],
    approvals_enabled: bool,
    data_entity_behavior: DataEntityBehavior | str,
    enabled_fields: list[str],
    actor,
) -> ApprovalSettings:
    """Change the approval parameters; every changed value leaves an audit row."""
    governed = registry.get(model)
    unknown = [
        name for name in enabled_fields if name not in governed.governable_field_names
    ]
    if unknown:
        raise ValidationError(
            {"enabled_fields": NOT_GOVERNABLE_FIELD % {"field": ", ".join(unknown)}}
        )
    if data_entity_behavior not in DataEntityBehavior.values:
        raise ValidationError(
            {"data_entity_behavior": _("Choose one of the listed behaviours.")}
        )
    ordered = [
        name for name in governed.governable_field_names if name in set(enabled_fields)
    ]
    with transaction.atomic():
        row = ApprovalSettings.objects.select_for_update().get(
            pk=approval_settings_ensure(model=model).pk
        )
        before = {
            "approvals_enabled": (
                row.approvals_enabled,
                str(governed.labels.enable_approvals),
                _yes_no(row.approvals_enabled),
            ),
            "data_entity_behavior": (
                row.data_entity_behavior,
                _("Data entity behavior"),
                row.get_data_entity_behavior_display(),
            ),
            "enabled_fields": (
                row.enabled_fields,
                _("Fields that need approval"),
                _field_list(governed, row.enabled_fields),
            ),
        }
        row.approvals_enabled = approvals_enabled
        row.data_entity_behavior = data_entity_behavior
        row.enabled_fields = ordered
        row.full_clean()
        row.save(
            update_fields=[
                "approvals_enabled",
                "data_entity_behavior",
                "enabled_fields",
                "updated_at",
            ]
        )
        after = {
            "approvals_enabled": (
                row.approvals_enabled,
                _yes_no(row.approvals_enabled),
            ),
            "data_entity_behavior": (
                row.data_entity_behavior,
                row.get_data_entity_behavior_display(),
            ),
            "enabled_fields": (
                row.enabled_fields,
                _field_list(governed, row.enabled_fields),
            ),
        }
        entries = []
        for key, (old, label, old_display) in before.items():
            new, new_display = after[key]
            if old != new:
                entries.append(
                    audit_for_object(
                        instance=row,
                        action=AuditAction.SETTINGS_CHANGED,
                        actor=actor,
                        source=Source.BROWSER,
                        field_name=key,
                        field_label=label,
                        old_value=old,
                        new_value=new,
                        old_display=old_display,
                        new_display=new_display,
                    )
                )
        audit_write(entries)
    return row


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _field_list(governed, names: list[str]) -> str:
    return ", ".join(
        governed.field_label(n) for n in names if n in governed.governable_field_names
    ) or _("(none)")


def workflow_save(*, workflow: Workflow, actor) -> Workflow:
    """Create or change a workflow definition."""
    created = workflow.pk is None
    if created and workflow.created_by_id is None:
        workflow.created_by = actor
    workflow.full_clean()
    with transaction.atomic():
        workflow.save()
        audit_write(
            [
                audit_for_object(
                    instance=workflow,
                    action=AuditAction.WORKFLOW_CHANGED,
                    actor=actor,
                    source=Source.BROWSER,
                    comment=_("Created.") if created else _("Changed."),
                )
            ]
        )
    return workflow


def workflow_step_save(*, step: WorkflowStep, actor) -> WorkflowStep:
    """Create or change one approval step of a workflow."""
    step.full_clean()
    with transaction.atomic():
        step.save()
        audit_write(
            [_step_audit(step, actor, _("Step “%(step)s” saved.") % {"step": step})]
        )
    return step


def workflow_step_delete(*, step: WorkflowStep, actor) -> None:
    """Remove an approval step that no proposal has reached."""
    with transaction.atomic():
        audit_write(
            [_step_audit(step, actor, _("Step “%(step)s” removed.") % {"step": step})]
        )
        step.delete()


def _step_audit(step: WorkflowStep, actor, comment: str):
    return audit_for_object(
        instance=step.workflow,
        action=AuditAction.WORKFLOW_CHANGED,
        actor=actor,
        source=Source.BROWSER,
        comment=comment,
    )


def workflow_activate(*, workflow: Workflow, actor) -> Workflow:
    """Make `workflow` the one active workflow of its model."""
    with transaction.atomic():
        workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
        if not workflow.steps.exists():
            raise NotSubmittable(WORKFLOW_WITHOUT_STEPS)
        Workflow.objects.select_for_update().filter(
            content_type=workflow.content_type, is_active=True
        ).exclude(pk=workflow.pk).update(is_active=False)
        workflow.is_active = True
        workflow.save(update_fields=["is_active"])
        audit_write(
            [
                audit_for_object(
                    instance=workflow,
                    action=AuditAction.WORKFLOW_ACTIVATED,
                    actor=actor,
                    source=Source.BROWSER,
                )
            ]
        )
    return workflow
