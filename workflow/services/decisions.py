"""A proposal's way through its workflow: submit, decide, hand over, escalate, apply.

Lock order everywhere: the governed record first, then its proposal, then work items,
so that an approval, a clerk's edit and the escalation run never deadlock.
"""

from __future__ import annotations

import logging
import math

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import has_transition_perm

from .. import conditions, notifications, registry, rules, selectors
from ..audit import (
    SystemComment,
    Translated,
    audit_for_proposal,
    audit_write,
    in_every_language,
)
from ..exceptions import (
    ALREADY_DECIDED_STEP,
    APPLY_CONFLICT,
    APPLY_INVALID,
    COMMENT_REQUIRED,
    COMMENT_REQUIRED_TO_REJECT,
    EMPTY_WORKFLOW,
    NO_ACTIVE_WORKFLOW,
    NO_ELIGIBLE_APPROVER,
    NO_PERMISSION,
    NOT_ASSIGNED,
    NOT_PENDING,
    NOTHING_TO_SUBMIT,
    ONLY_SUBMITTER_RECALLS,
    AlreadyDecided,
    NotSubmittable,
    PermissionRefused,
    WorkflowError,
)
from ..models import (
    AuditAction,
    ChangeProposal,
    CompletionPolicy,
    EscalationAction,
    ProposalState,
    Source,
    WorkflowStep,
    WorkItem,
    WorkItemState,
)
from .records import (
    _field_audit,
    _lock_proposal,
    _require_draft_editor,
    _validated_values,
    _write_fields,
)

logger = logging.getLogger(__name__)

COUNTED_STATES = (
    WorkItemState.OPEN,
    WorkItemState.APPROVED,
    WorkItemState.REJECTED,
    WorkItemState.CLOSED,
    WorkItemState.SENT_BACK,
)


def _lock_record(proposal: ChangeProposal):
    model = proposal.content_type.model_class()
    return (
        model._default_manager.select_for_update().filter(pk=proposal.object_id).first()
    )


def _system_audit(
    proposal: ChangeProposal,
    action: AuditAction,
    comment: str | SystemComment | Translated,
):
    return audit_for_proposal(
        proposal=proposal,
        action=action,
        actor=None,
        source=Source.SYSTEM,
        comment=comment,
    )


# --- Submit ----------------------------------------------------------------------


def active_workflow_required(model: type[models.Model]):
    """The workflow proposals of `model` go to now; refuses when none is active."""
    workflow = selectors.active_workflow_for(model)
    if workflow is None:
        raise NotSubmittable(
            NO_ACTIVE_WORKFLOW
            % {
                "model": model._meta.verbose_name_plural,
                "workflows": registry.get(model).labels.workflows,
            }
        )
    return workflow


def proposal_submit(*, proposal: ChangeProposal, actor) -> ChangeProposal:
    """Send a draft, or a proposal sent back for changes, to the active workflow.

    The proposal is pinned to the workflow version active now. Automatic approval
    rules may approve it at once; otherwise the first step whose condition holds gets
    its work items and the steps before it are recorded as skipped.
    """
    with transaction.atomic():
        _lock_record(proposal)
        proposal = _lock_proposal(proposal)
        _require_draft_editor(proposal, actor)
        if not has_transition_perm(proposal.submit, actor):
            raise PermissionRefused(NO_PERMISSION)
        changes = list(proposal.changes.all())
        if not changes:
            raise NotSubmittable(NOTHING_TO_SUBMIT)
        model = proposal.content_type.model_class()
        workflow = active_workflow_required(model)
        if not workflow.steps.exists():
            raise NotSubmittable(EMPTY_WORKFLOW % {"workflow": workflow.name})
        resubmission = proposal.state == ProposalState.CHANGES_REQUESTED
        proposal.submit(by=actor, workflow=workflow)
        proposal.save(
            update_fields=[
                "state",
                "submitted_by",
                "submitted_at",
                "workflow",
                "current_step",
                "submission_round",
            ]
        )
        entries = [
            audit_for_proposal(
                proposal=proposal,
                action=AuditAction.RESUBMITTED
                if resubmission
                else AuditAction.SUBMITTED,
                actor=actor,
                comment=lambda: _("Sent to %(workflow)s.") % {"workflow": workflow},
            )
        ]
        changes = selectors.change_map(proposal)
        if selectors.matching_auto_approval(workflow, changes):
            entries.append(
                _system_audit(
                    proposal,
                    AuditAction.AUTO_APPROVED,
                    lambda: (
                        _("No approval needed: %(rule)s.")
                        % {"rule": selectors.matching_auto_approval(workflow, changes)}
                    ),
                )
            )
            entries += _apply(proposal, actor=None)
        else:
            entries += _start_next_step(proposal, after_sequence=0, actor=actor)
        audit_write(entries)
    return proposal


def _start_next_step(proposal: ChangeProposal, *, after_sequence: int, actor) -> list:
    """Open the next step whose condition holds; with none left, apply the changes."""
    changes = selectors.change_map(proposal)
    governed = registry.get(proposal.content_type.model_class())
    entries = []
    for step in proposal.workflow.steps.filter(sequence__gt=after_sequence).order_by(
        "sequence"
    ):
        if not conditions.condition_holds(
            step.condition_kind, step.condition_field, step.condition_value, changes
        ):
            entries.append(
                _system_audit(
                    proposal,
                    AuditAction.STEP_SKIPPED,
                    lambda step=step: conditions.skipped_step_text(step, governed),
                )
            )
            continue
        assignees = _eligible_assignees(step, proposal)
        if not assignees:
            raise NotSubmittable(NO_ELIGIBLE_APPROVER % {"step": step.name})
        proposal.advance(next_step=step)
        proposal.save(update_fields=["state", "current_step"])
        entries.append(
            _assign(
                proposal,
                step,
                assignees,
                action=AuditAction.STEP_STARTED,
                comment=lambda step=step, users=assignees: (
                    _("Step “%(step)s” assigned to %(users)s.")
                    % {"step": step, "users": _usernames(users)}
                ),
                event=notifications.ASSIGNED,
            )
        )
        return entries
    return entries + _apply(proposal, actor=actor)


def _eligible_assignees(step: WorkflowStep, proposal: ChangeProposal) -> list:
    record = (
        proposal.content_type.model_class()
        ._default_manager.filter(pk=proposal.object_id)
        .first()
    )
    return [
        user
        for user in selectors.step_assignees(step, record)
        if rules.handover_refusal(proposal, user, step) is None
    ]


def _assign(
    proposal: ChangeProposal,
    step: WorkflowStep,
    users: list,
    *,
    action: AuditAction,
    comment: str,
    event: str,
):
    """Give each of `users` a work item at `step` and mail them; returns the audit row
    that says so, for the caller to write with its others."""
    _open_work_items(proposal, step, users)
    notifications.notify(event=event, proposal=proposal, recipients=users)
    return _system_audit(proposal, action, comment)


def _usernames(users) -> str:
    return ", ".join(u.get_username() for u in users)


def _open_work_items(
    proposal: ChangeProposal, step: WorkflowStep, assignees: list, *, due_at=None
) -> None:
    if due_at is None and step.time_limit is not None:
        due_at = timezone.now() + step.time_limit
    WorkItem.objects.bulk_create(
        [
            WorkItem(
                proposal=proposal,
                step=step,
                assignee=user,
                due_at=due_at,
                submission_round=proposal.submission_round,
            )
            for user in assignees
        ]
    )


# --- Decide ----------------------------------------------------------------------


def _lock_for_decision(
    proposal: ChangeProposal, actor
) -> tuple[ChangeProposal, WorkItem]:
    _lock_record(proposal)
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
            proposal=proposal,
            step=proposal.current_step,
            assignee=actor,
            submission_round=proposal.submission_round,
        )
    )
    open_items = [item for item in items if item.state == WorkItemState.OPEN]
    if open_items:
        return proposal, open_items[0]
    if items:
        raise AlreadyDecided(ALREADY_DECIDED_STEP)
    raise PermissionRefused(NOT_ASSIGNED)


def proposal_approve(
    *, proposal: ChangeProposal, actor, comment: str = ""
) -> ChangeProposal:
    """Approve the current step as `actor`; the step's policy decides when it is done."""
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
        entries += _after_decision(proposal, actor)
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
        entries += _after_decision(proposal, actor, comment=comment)
        audit_write(entries)
    return proposal


def _after_decision(proposal: ChangeProposal, actor, comment: str = "") -> list:
    """The step's outcome once a decision is recorded; `comment` is the decision's,
    passed on to the submitter when it ends the proposal."""
    outcome = _step_outcome(proposal.current_step, proposal)
    if outcome == WorkItemState.APPROVED:
        _close_open_items(proposal)
        return _start_next_step(
            proposal, after_sequence=proposal.current_step.sequence, actor=actor
        )
    if outcome == WorkItemState.REJECTED:
        _close_open_items(proposal)
        proposal.reject()
        proposal.save(update_fields=["state", "closed_at"])
        notifications.notify_submitter(
            event=notifications.REJECTED, proposal=proposal, comment=comment
        )
    return []


def _step_outcome(step: WorkflowStep, proposal: ChangeProposal) -> WorkItemState | None:
    """Whether the step is decided, by its completion policy, from its work items."""
    states = list(
        WorkItem.objects.filter(
            proposal=proposal,
            step=step,
            submission_round=proposal.submission_round,
            state__in=COUNTED_STATES,
        ).values_list("state", flat=True)
    )
    return policy_outcome(step, states)


def policy_outcome(step: WorkflowStep, states: list[str]) -> WorkItemState | None:
    """The completion policy applied to the states of a step's work items."""
    approved = states.count(WorkItemState.APPROVED)
    rejected = states.count(WorkItemState.REJECTED)
    total = len(states)
    if step.completion_policy == CompletionPolicy.SINGLE:
        if rejected:
            return WorkItemState.REJECTED
        needed = 1
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


# --- Send back, recall, hand over --------------------------------------------------


def proposal_request_change(
    *, proposal: ChangeProposal, actor, comment: str
) -> ChangeProposal:
    """Send the proposal back to its submitter, who edits and resubmits it."""
    comment = (comment or "").strip()
    if not comment:
        raise NotSubmittable(COMMENT_REQUIRED)
    with transaction.atomic():
        proposal, work_item = _lock_for_decision(proposal, actor)
        if not has_transition_perm(work_item.send_back, actor):
            raise PermissionRefused(NO_PERMISSION)
        work_item.send_back(comment=comment)
        work_item.save(update_fields=["state", "comment", "decided_at"])
        _close_open_items(proposal)
        proposal.request_change()
        proposal.save(update_fields=["state", "current_step"])
        audit_write(
            [
                audit_for_proposal(
                    proposal=proposal,
                    action=AuditAction.CHANGE_REQUESTED,
                    actor=actor,
                    comment=comment,
                    source=Source.BROWSER,
                )
            ]
        )
        notifications.notify_submitter(
            event=notifications.SENT_BACK, proposal=proposal, comment=comment
        )
    return proposal


def proposal_recall(
    *, proposal: ChangeProposal, actor, comment: str = ""
) -> ChangeProposal:
    """The submitter takes a pending proposal back; nothing is written to the record."""
    with transaction.atomic():
        _lock_record(proposal)
        proposal = _lock_proposal(proposal)
        if proposal.state not in (
            ProposalState.PENDING,
            ProposalState.CHANGES_REQUESTED,
        ):
            raise AlreadyDecided(NOT_PENDING % {"state": proposal.get_state_display()})
        if proposal.submitted_by_id != actor.pk:
            raise PermissionRefused(ONLY_SUBMITTER_RECALLS)
        _close_open_items(proposal)
        proposal.recall()
        proposal.save(update_fields=["state", "current_step", "closed_at"])
        audit_write(
            [
                audit_for_proposal(
                    proposal=proposal,
                    action=AuditAction.RECALLED,
                    actor=actor,
                    comment=comment.strip(),
                    source=Source.BROWSER,
                )
            ]
        )
    return proposal


def work_item_delegate(
    *, proposal: ChangeProposal, actor, to_user, comment: str = ""
) -> WorkItem:
    """Hand the actor's work item on this proposal to another user, who then holds it."""
    with transaction.atomic():
        proposal, work_item = _lock_for_decision(proposal, actor)
        return _hand_over(
            proposal,
            work_item,
            actor,
            to_user,
            comment,
            AuditAction.DELEGATED,
            work_item.delegate,
        )


def work_item_reassign(
    *, work_item: WorkItem, actor, to_user, comment: str = ""
) -> WorkItem:
    """An approval administrator moves someone's open work item to another user."""
    if not actor.has_perm("workflow.reassign_workitem"):
        raise PermissionRefused(NO_PERMISSION)
    with transaction.atomic():
        _lock_record(work_item.proposal)
        proposal = _lock_proposal(work_item.proposal)
        work_item = WorkItem.objects.select_for_update().get(pk=work_item.pk)
        if (
            proposal.state != ProposalState.PENDING
            or work_item.state != WorkItemState.OPEN
        ):
            raise AlreadyDecided(NOT_PENDING % {"state": work_item.get_state_display()})
        return _hand_over(
            proposal,
            work_item,
            actor,
            to_user,
            comment,
            AuditAction.REASSIGNED,
            work_item.reassign,
        )


def _hand_over(
    proposal, work_item, actor, to_user, comment, action, transition
) -> WorkItem:
    refusal = rules.handover_refusal(proposal, to_user, work_item.step)
    if refusal:
        raise PermissionRefused(refusal)
    transition(to=to_user, comment=comment.strip())
    work_item.save(update_fields=["state", "handed_over_to", "comment", "decided_at"])
    new_item = WorkItem.objects.create(
        proposal=proposal,
        step=work_item.step,
        assignee=to_user,
        due_at=work_item.due_at,
        submission_round=work_item.submission_round,
    )
    audit_write(
        [
            audit_for_proposal(
                proposal=proposal,
                action=action,
                actor=actor,
                comment=comment.strip(),
                source=Source.BROWSER,
                old_display=work_item.assignee.get_username(),
                new_display=to_user.get_username(),
            )
        ]
    )
    notifications.notify(
        event=notifications.ASSIGNED, proposal=proposal, recipients=[to_user]
    )
    return new_item


# --- Escalation --------------------------------------------------------------------


def work_items_escalate_overdue(*, now=None) -> int:
    """Act on every work item past its step's time limit; return how many steps escalated.

    Each proposal is handled in its own transaction, so one failure stops nothing else.
    """
    now = now or timezone.now()
    proposal_ids = list(
        WorkItem.objects.filter(
            state=WorkItemState.OPEN,
            due_at__lt=now,
            proposal__state=ProposalState.PENDING,
        )
        .exclude(step__escalation_action=EscalationAction.NONE)
        .values_list("proposal_id", flat=True)
        .distinct()
    )
    escalated = 0
    for proposal_id in proposal_ids:
        try:
            with transaction.atomic():
                if _escalate_proposal(ChangeProposal.objects.get(pk=proposal_id), now):
                    escalated += 1
        except WorkflowError as error:
            # The proposal stays overdue and visible; the others still escalate.
            logger.warning(
                "Escalation of proposal %s failed: %s", proposal_id, error.message
            )
    return escalated


def _escalate_proposal(proposal: ChangeProposal, now) -> bool:
    _lock_record(proposal)
    proposal = (
        ChangeProposal.objects.select_for_update(of=("self",))
        .select_related("content_type", "workflow", "current_step")
        .get(pk=proposal.pk)
    )
    if proposal.state != ProposalState.PENDING:
        return False
    step = proposal.current_step
    overdue = list(
        WorkItem.objects.select_for_update().filter(
            proposal=proposal,
            step=step,
            state=WorkItemState.OPEN,
            due_at__lt=now,
            submission_round=proposal.submission_round,
        )
    )
    if not overdue:
        return False
    if step.escalation_action == EscalationAction.REASSIGN:
        targets = [
            user
            for user in selectors.escalation_targets(step)
            if rules.handover_refusal(proposal, user, step) is None
        ]
        if not targets:
            return False
        for item in overdue:
            item.escalate()
            item.save(update_fields=["state", "decided_at"])
        audit_write(
            [
                _assign(
                    proposal,
                    step,
                    targets,
                    action=AuditAction.ESCALATED,
                    comment=lambda: (
                        _(
                            "The time limit of %(limit)s passed; reassigned to %(users)s."
                        )
                        % {
                            "limit": step.time_limit_text(),
                            "users": _usernames(targets),
                        }
                    ),
                    event=notifications.ESCALATED,
                )
            ]
        )
        return True
    for item in overdue:
        item.escalate()
        item.save(update_fields=["state", "decided_at"])
    _close_open_items(proposal)
    if step.escalation_action == EscalationAction.APPROVE:
        entries = [
            _system_audit(
                proposal,
                AuditAction.ESCALATED,
                lambda: (
                    _(
                        "The time limit of %(limit)s passed; step “%(step)s” approved by the system."
                    )
                    % {"limit": step.time_limit_text(), "step": step}
                ),
            )
        ]
        entries += _start_next_step(proposal, after_sequence=step.sequence, actor=None)
    else:
        proposal.reject()
        proposal.save(update_fields=["state", "closed_at"])
        reason = in_every_language(
            lambda: (
                _("The time limit of %(limit)s passed; rejected by the system.")
                % {"limit": step.time_limit_text()}
            )
        )
        entries = [_system_audit(proposal, AuditAction.ESCALATED, reason)]
        notifications.notify_submitter(
            event=notifications.REJECTED, proposal=proposal, comment=reason.text
        )
    audit_write(entries)
    return True


# --- Apply -------------------------------------------------------------------------


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
    if conflicts:
        return _conflict(proposal, actor, conflicts, "")
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
            proposal, actor, [], APPLY_INVALID % {"errors": " ".join(error.messages)}
        )
    _write_fields(
        instance=instance,
        values=values,
        actor=actor,
        source=proposal.source,
        proposal=proposal,
        comment=lambda: _("Applied from proposal %(id)s.") % {"id": proposal.pk},
    )
    proposal.apply()
    proposal.save(update_fields=["state", "closed_at"])
    notifications.notify_submitter(event=notifications.APPLIED, proposal=proposal)
    return [_system_audit(proposal, AuditAction.APPLIED, "")]


def _conflict(proposal: ChangeProposal, actor, conflicts, reason: str) -> list:
    proposal.mark_conflict()
    proposal.save(update_fields=["state", "closed_at"])
    notifications.notify_submitter(event=notifications.CONFLICT, proposal=proposal)
    return conflict_entries(proposal, actor, conflicts, reason)


def conflict_entries(proposal: ChangeProposal, actor, conflicts, reason: str) -> list:
    """The audit rows of a proposal that ended in Conflict: one per moved value, and why."""
    entries = []
    for change, model_field, now in conflicts:

        def reason_of_field(change=change, model_field=model_field, now=now) -> str:
            return APPLY_CONFLICT % {
                "original": registry.display_value(model_field, change.original_value),
                "current": registry.display_value(model_field, now),
            }

        entries.append(
            _field_audit(
                proposal,
                AuditAction.CONFLICT,
                actor,
                model_field,
                change.original_value,
                now,
                source=Source.SYSTEM,
                comment=reason_of_field,
            )
        )
    if reason:
        entries.append(_system_audit(proposal, AuditAction.CONFLICT, reason))
    return entries
