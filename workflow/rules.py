"""Who may do what to a proposal. Each rule is written once, here, and every path asks it."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from .exceptions import (
    HANDOVER_NOT_APPROVER,
    HANDOVER_TO_EARLIER_APPROVER,
    HANDOVER_TO_HOLDER,
    HANDOVER_TO_PROPOSER,
    ONE_STEP_ONLY,
    OWN_PROPOSAL,
)
from .models import ChangeProposal, WorkflowStep, WorkItem, WorkItemState

DECIDE_PERMISSION = "workflow.decide_workitem"


def people_who_may_not_decide(proposal: ChangeProposal) -> set[int]:
    """Separation of duties: whoever proposed or submitted a change never approves it."""
    excluded = {proposal.created_by_id, proposal.submitted_by_id}
    excluded.update(proposal.changes.values_list("proposed_by_id", flat=True))
    excluded.discard(None)
    return excluded


def approvers_of_other_steps(
    proposal: ChangeProposal, step: WorkflowStep | None
) -> set[int]:
    """Who approved a step of this proposal other than `step`, in any submission round:
    a person approves one step of a proposal at most. Steps compare by sequence, since a
    resubmission may run under a newer version of the workflow."""
    approved = WorkItem.objects.filter(proposal=proposal, state=WorkItemState.APPROVED)
    if step is not None:
        approved = approved.exclude(step__sequence=step.sequence)
    return set(approved.values_list("assignee_id", flat=True))


def decision_refusal(proposal: ChangeProposal, user) -> str | None:
    """Why `user` may not approve or reject `proposal` now, or None if nothing forbids it."""
    if user.pk in people_who_may_not_decide(proposal):
        return str(OWN_PROPOSAL)
    if user.pk in approvers_of_other_steps(proposal, proposal.current_step):
        return str(ONE_STEP_ONLY)
    return None


def handover_refusal(proposal: ChangeProposal, user, step: WorkflowStep) -> str | None:
    """Why a work item of `step` may not go to `user` (by assignment, delegation,
    reassignment or escalation), or None."""
    name = user.get_username()
    if user.pk in people_who_may_not_decide(proposal):
        return str(HANDOVER_TO_PROPOSER % {"user": name})
    if not user.is_active or not user.has_perm(DECIDE_PERMISSION):
        return str(HANDOVER_NOT_APPROVER % {"user": name})
    if user.pk in approvers_of_other_steps(proposal, step):
        return str(HANDOVER_TO_EARLIER_APPROVER % {"user": name})
    # Whoever holds or already decided this step in this round counts once, not twice.
    holds = WorkItem.objects.filter(
        proposal=proposal,
        step=step,
        assignee=user,
        submission_round=proposal.submission_round,
        state__in=[
            WorkItemState.OPEN,
            WorkItemState.APPROVED,
            WorkItemState.REJECTED,
            WorkItemState.SENT_BACK,
        ],
    ).exists()
    if holds:
        return str(HANDOVER_TO_HOLDER % {"user": name})
    return None


def can_edit_governed_model(user, content_type: ContentType) -> bool:
    return user.has_perm(f"{content_type.app_label}.change_{content_type.model}")
