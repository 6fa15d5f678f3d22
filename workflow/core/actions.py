"""Whether a person may take an action on a proposal now, and if not, why.

The one answer for the buttons a page shows and for the service that carries the
action out: the page asks before it draws a button, the service asks again under lock.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..exceptions import (
    ALREADY_DECIDED_STEP,
    HANDOVER_NOT_APPROVER,
    HANDOVER_TO_EARLIER_APPROVER,
    HANDOVER_TO_HOLDER,
    HANDOVER_TO_PROPOSER,
    JUSTIFICATION_REQUIRED,
    NO_PERMISSION,
    NOT_A_DRAFT,
    NOT_ASSIGNED,
    NOT_PENDING,
    ONE_STEP_ONLY,
    ONLY_SUBMITTER_RECALLS,
    OWN_PROPOSAL,
)
from .facts import ActorFacts, ProposalFacts
from .lifecycle import EDITABLE, HOLDING, OPEN_ITEM, PENDING, RECALLABLE
from .permissions import DECIDE_PERMISSION, DECISIONS, Action, required_permissions
from .refusals import Refusal, RefusalKind
from .separation import exclusions, took_part


def action_refusal(
    action: Action,
    facts: ProposalFacts,
    actor: ActorFacts,
    *,
    app_label: str,
    model_name: str,
    state_label: str = "",
) -> Refusal | None:
    """Why `actor` may not take `action` on the proposal now, or None if they may.

    `state_label` is the proposal's state as a person reads it, for the refusal.
    """
    state = state_label or facts.state
    if action in DRAFT_ACTIONS:
        if facts.state not in EDITABLE:
            return Refusal(RefusalKind.STATE, NOT_A_DRAFT % {"state": state})
    elif action == Action.RECALL:
        if facts.state not in RECALLABLE:
            return Refusal(RefusalKind.STATE, NOT_PENDING % {"state": state})
        if facts.submitted_by_id != actor.user_id:
            return Refusal(RefusalKind.PERMISSION, ONLY_SUBMITTER_RECALLS)
    elif facts.state != PENDING:
        return Refusal(RefusalKind.STATE, NOT_PENDING % {"state": state})
    if not actor.holds(*required_permissions(action, app_label, model_name)):
        return Refusal(RefusalKind.PERMISSION, NO_PERMISSION)
    if action in DECISIONS:
        return _decision_refusal(facts, actor)
    return None


DRAFT_ACTIONS = frozenset({Action.EDIT_DRAFT, Action.SUBMIT})


def justification_refusal(*, required: bool, justification: str) -> Refusal | None:
    """Why a submission may not go ahead with `justification` (its workflow requires
    one and none is given), or None. Asked once per submission in the browser and
    once per import, whose proposals share the importer's one justification."""
    if required and not justification.strip():
        return Refusal(RefusalKind.INPUT, JUSTIFICATION_REQUIRED)
    return None


def _decision_refusal(facts: ProposalFacts, actor: ActorFacts) -> Refusal | None:
    step = facts.current_step_sequence
    reasons = exclusions(facts, step).get(actor.user_id)
    if reasons:
        return Refusal(
            RefusalKind.SEPARATION,
            OWN_PROPOSAL if took_part(reasons) else ONE_STEP_ONLY,
        )
    mine = [
        item.state
        for item in facts.work_items
        if item.assignee_id == actor.user_id
        and item.step_sequence == step
        and item.submission_round == facts.submission_round
    ]
    if OPEN_ITEM in mine:
        return None
    if mine:
        return Refusal(RefusalKind.STATE, ALREADY_DECIDED_STEP)
    return Refusal(RefusalKind.ASSIGNMENT, NOT_ASSIGNED)


def handover_refusal(
    facts: ProposalFacts, to: ActorFacts, step_sequence: int
) -> Refusal | None:
    """Why a work item of step `step_sequence` may not go to `to` (by assignment,
    delegation, reassignment or escalation), or None."""
    name = to.username
    reasons = exclusions(facts, step_sequence).get(to.user_id)
    if reasons and took_part(reasons):
        return Refusal(RefusalKind.SEPARATION, HANDOVER_TO_PROPOSER % {"user": name})
    if not to.holds(DECIDE_PERMISSION):
        return Refusal(RefusalKind.PERMISSION, HANDOVER_NOT_APPROVER % {"user": name})
    if reasons:
        return Refusal(
            RefusalKind.SEPARATION, HANDOVER_TO_EARLIER_APPROVER % {"user": name}
        )
    holds = any(
        item.assignee_id == to.user_id
        and item.step_sequence == step_sequence
        and item.submission_round == facts.submission_round
        and item.state in HOLDING
        for item in facts.work_items
    )
    if holds:
        return Refusal(RefusalKind.ASSIGNMENT, HANDOVER_TO_HOLDER % {"user": name})
    return None


def eligible(
    facts: ProposalFacts, candidates: Iterable[ActorFacts], step_sequence: int
) -> list[ActorFacts]:
    """The candidates a work item of the step may go to."""
    return [c for c in candidates if handover_refusal(facts, c, step_sequence) is None]
