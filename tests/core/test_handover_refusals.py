"""To whom a work item may go (assignment, delegation, reassignment, escalation), and
why not: took part, may not approve, decided another step, or already holds it."""

from __future__ import annotations

import pytest

from workflow.core.actions import eligible, handover_refusal
from workflow.core.facts import (
    ActorFacts,
    ItemFacts,
    Part,
    Participation,
    ProposalFacts,
)
from workflow.core.permissions import DECIDE_PERMISSION
from workflow.core.refusals import Refusal, RefusalKind
from workflow.exceptions import (
    HANDOVER_NOT_APPROVER,
    HANDOVER_TO_EARLIER_APPROVER,
    HANDOVER_TO_HOLDER,
    HANDOVER_TO_PROPOSER,
)

CLERK, ANN, BOB = 1, 2, 3


def approver(user_id, name, **extra):
    return ActorFacts(
        user_id=user_id,
        username=name,
        permissions=frozenset({DECIDE_PERMISSION}),
        **extra,
    )


def clerk(**extra):
    return ActorFacts(user_id=CLERK, username="clerk", **extra)


def item(user_id, state="open", step=1, round_=1):
    return ItemFacts(
        assignee_id=user_id, step_sequence=step, submission_round=round_, state=state
    )


def facts(*items, **extra):
    values = {
        "created_by_id": CLERK,
        "submitted_by_id": CLERK,
        "current_step_sequence": 1,
        "submission_round": 1,
        **extra,
    }
    return ProposalFacts(state="pending", work_items=tuple(items), **values)


ANN_APPROVER = approver(ANN, "ann")


def test_an_approver_who_took_no_part_may_have_it():
    assert handover_refusal(facts(), ANN_APPROVER, 1) is None


def test_not_to_whoever_proposed_or_submitted():
    expected = Refusal(RefusalKind.SEPARATION, HANDOVER_TO_PROPOSER % {"user": "clerk"})

    assert handover_refusal(facts(), clerk(), 1) == expected
    assert (
        handover_refusal(facts(), clerk(permissions=frozenset({DECIDE_PERMISSION})), 1)
        == expected
    )


@pytest.mark.parametrize("part", list(Part))
def test_not_to_a_participant_of_an_earlier_round(part):
    proposal = facts(
        participations=(Participation(ANN, part, "credit_limit", 1),),
        submission_round=2,
    )

    assert handover_refusal(proposal, ANN_APPROVER, 1) == Refusal(
        RefusalKind.SEPARATION, HANDOVER_TO_PROPOSER % {"user": "ann"}
    )


def test_not_to_someone_who_may_not_approve():
    for bob in (
        ActorFacts(user_id=BOB, username="bob"),
        approver(BOB, "bob", is_active=False),
    ):
        assert handover_refusal(facts(), bob, 1) == Refusal(
            RefusalKind.PERMISSION, HANDOVER_NOT_APPROVER % {"user": "bob"}
        )


@pytest.mark.parametrize("decided", ["approved", "rejected", "sent_back"])
def test_not_to_who_decided_another_step(decided):
    proposal = facts(item(ANN, decided, step=1), current_step_sequence=2)

    assert handover_refusal(proposal, ANN_APPROVER, 2) == Refusal(
        RefusalKind.SEPARATION, HANDOVER_TO_EARLIER_APPROVER % {"user": "ann"}
    )


def test_may_not_approve_is_said_before_decided_another_step():
    proposal = facts(item(BOB, "approved", step=1), current_step_sequence=2)
    bob = ActorFacts(user_id=BOB, username="bob")

    assert handover_refusal(proposal, bob, 2) == Refusal(
        RefusalKind.PERMISSION, HANDOVER_NOT_APPROVER % {"user": "bob"}
    )


@pytest.mark.parametrize("held", ["open", "approved", "rejected", "sent_back"])
def test_not_to_who_holds_or_decided_the_item_of_this_step_and_round(held):
    assert handover_refusal(facts(item(ANN, held)), ANN_APPROVER, 1) == Refusal(
        RefusalKind.ASSIGNMENT, HANDOVER_TO_HOLDER % {"user": "ann"}
    )


@pytest.mark.parametrize(
    "passed_on", ["closed", "delegated", "reassigned", "escalated"]
)
def test_back_to_who_passed_it_on(passed_on):
    assert handover_refusal(facts(item(ANN, passed_on)), ANN_APPROVER, 1) is None


@pytest.mark.parametrize(
    "held",
    [item(ANN, step=2), item(ANN, round_=2), item(BOB)],
    ids=["another_step", "another_round", "someone_else"],
)
def test_an_item_elsewhere_does_not_count_as_holding_it(held):
    assert handover_refusal(facts(held), ANN_APPROVER, 1) is None


def test_the_step_asked_about_is_the_one_checked():
    proposal = facts(item(ANN, "approved", step=1), current_step_sequence=1)

    assert handover_refusal(proposal, ANN_APPROVER, 1) == Refusal(
        RefusalKind.ASSIGNMENT, HANDOVER_TO_HOLDER % {"user": "ann"}
    )
    assert handover_refusal(proposal, ANN_APPROVER, 2) == Refusal(
        RefusalKind.SEPARATION, HANDOVER_TO_EARLIER_APPROVER % {"user": "ann"}
    )


def test_eligible_keeps_the_candidates_in_order_without_the_refused():
    bob = approver(BOB, "bob")
    zoe = approver(9, "zoe")
    proposal = facts(item(ANN, "approved", step=1))

    assert eligible(proposal, [zoe, clerk(), ANN_APPROVER, bob], 2) == [zoe, bob]
    assert eligible(proposal, [zoe, clerk(), ANN_APPROVER, bob], 1) == [zoe, bob]
    assert eligible(facts(), [bob, ANN_APPROVER], 1) == [bob, ANN_APPROVER]


def test_eligible_leaves_out_who_holds_the_item_of_that_step():
    proposal = facts(item(ANN), item(BOB, step=2))
    bob = approver(BOB, "bob")

    assert eligible(proposal, [ANN_APPROVER, bob], 1) == [bob]
    assert eligible(proposal, [ANN_APPROVER, bob], 2) == [ANN_APPROVER]
