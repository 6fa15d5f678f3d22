"""Whether a person may take an action on a proposal now: its state first, then the
permission the action needs, then (for decisions) separation of duties and whether the
person holds an open work item of the current step in the current round."""

from __future__ import annotations

import pytest

from workflow.core.actions import action_refusal
from workflow.core.facts import (
    ActorFacts,
    ItemFacts,
    Part,
    Participation,
    ProposalFacts,
)
from workflow.core.permissions import (
    DECIDE_PERMISSION,
    REASSIGN_PERMISSION,
    SUBMIT_PERMISSION,
    Action,
)
from workflow.core.refusals import Refusal, RefusalKind
from workflow.exceptions import (
    ALREADY_DECIDED_STEP,
    NO_PERMISSION,
    NOT_A_DRAFT,
    NOT_ASSIGNED,
    NOT_PENDING,
    ONE_STEP_ONLY,
    ONLY_SUBMITTER_RECALLS,
    OWN_PROPOSAL,
)

CLERK, APPROVER, OTHER = 1, 2, 3
CHANGE = "customers.change_customer"
EVERYTHING = frozenset(
    {CHANGE, SUBMIT_PERMISSION, DECIDE_PERMISSION, REASSIGN_PERMISSION}
)
DECISIONS = [Action.APPROVE, Action.REJECT, Action.REQUEST_CHANGE, Action.DELEGATE]


def person(user_id, *permissions, **extra):
    return ActorFacts(user_id=user_id, permissions=frozenset(permissions), **extra)


def facts(state="pending", items=(), **extra):
    values = {
        "created_by_id": CLERK,
        "submitted_by_id": CLERK,
        "current_step_sequence": 1,
        "submission_round": 1,
        **extra,
    }
    return ProposalFacts(state=state, work_items=tuple(items), **values)


def item(user_id, state="open", step=1, round_=1):
    return ItemFacts(
        assignee_id=user_id, step_sequence=step, submission_round=round_, state=state
    )


def refusal(action, proposal, actor, state_label=""):
    return action_refusal(
        action,
        proposal,
        actor,
        app_label="customers",
        model_name="customer",
        state_label=state_label,
    )


APPROVER_WITH_ITEM = facts(items=[item(APPROVER)])


# --- State --------------------------------------------------------------------------


@pytest.mark.parametrize("action", [Action.EDIT_DRAFT, Action.SUBMIT])
@pytest.mark.parametrize("state", ["draft", "changes_requested"])
def test_a_draft_is_edited_and_submitted(action, state):
    clerk = person(CLERK, CHANGE, SUBMIT_PERMISSION)

    assert refusal(action, facts(state=state), clerk) is None


@pytest.mark.parametrize("action", [Action.EDIT_DRAFT, Action.SUBMIT])
@pytest.mark.parametrize("state", ["pending", "applied", "rejected", "recalled"])
def test_only_a_draft_is_edited_or_submitted(action, state):
    clerk = person(CLERK, CHANGE, SUBMIT_PERMISSION)

    assert refusal(action, facts(state=state), clerk, "Status X") == Refusal(
        RefusalKind.STATE, NOT_A_DRAFT % {"state": "Status X"}
    )


def test_without_a_label_the_refusal_names_the_raw_state():
    clerk = person(CLERK, CHANGE, SUBMIT_PERMISSION)
    applied = facts(state="applied")
    where = {"app_label": "customers", "model_name": "customer"}

    assert action_refusal(Action.SUBMIT, applied, clerk, **where) == Refusal(
        RefusalKind.STATE, NOT_A_DRAFT % {"state": "applied"}
    )
    assert action_refusal(Action.APPROVE, applied, clerk, **where) == Refusal(
        RefusalKind.STATE, NOT_PENDING % {"state": "applied"}
    )


def test_the_submitter_recalls_a_pending_proposal():
    assert refusal(Action.RECALL, facts(state="pending"), person(CLERK)) is None


@pytest.mark.parametrize(
    "state", ["draft", "changes_requested", "applied", "rejected", "recalled"]
)
def test_only_a_pending_proposal_is_recalled(state):
    """One sent back is already the submitter's to edit or discard."""
    assert refusal(Action.RECALL, facts(state=state), person(CLERK), "S") == Refusal(
        RefusalKind.STATE, NOT_PENDING % {"state": "S"}
    )


def test_only_the_submitter_recalls():
    assert refusal(
        Action.RECALL, facts(), person(OTHER, *EVERYTHING, is_superuser=True)
    ) == Refusal(RefusalKind.PERMISSION, ONLY_SUBMITTER_RECALLS)


@pytest.mark.parametrize("action", [*DECISIONS, Action.REASSIGN])
@pytest.mark.parametrize(
    "state", ["draft", "changes_requested", "applied", "rejected", "recalled"]
)
def test_only_a_pending_proposal_is_decided_or_reassigned(action, state):
    approver = person(APPROVER, *EVERYTHING)

    assert refusal(
        action, facts(state=state, items=[item(APPROVER)]), approver, "S"
    ) == (Refusal(RefusalKind.STATE, NOT_PENDING % {"state": "S"}))


# --- Permission ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "state", "needed"),
    [
        (Action.EDIT_DRAFT, "draft", {CHANGE}),
        (Action.SUBMIT, "draft", {CHANGE, SUBMIT_PERMISSION}),
        (Action.REASSIGN, "pending", {REASSIGN_PERMISSION}),
        (Action.APPROVE, "pending", {DECIDE_PERMISSION}),
        (Action.REJECT, "pending", {DECIDE_PERMISSION}),
        (Action.REQUEST_CHANGE, "pending", {DECIDE_PERMISSION}),
        (Action.DELEGATE, "pending", {DECIDE_PERMISSION}),
    ],
)
def test_each_action_needs_its_permissions(action, state, needed):
    proposal = facts(state=state, items=[item(APPROVER)])

    assert refusal(action, proposal, person(APPROVER, *needed)) is None
    for missing in needed:
        assert refusal(action, proposal, person(APPROVER, *(needed - {missing}))) == (
            Refusal(RefusalKind.PERMISSION, NO_PERMISSION)
        )


def test_an_inactive_person_holds_no_permission():
    inactive = person(APPROVER, *EVERYTHING, is_active=False, is_superuser=True)

    assert refusal(Action.APPROVE, APPROVER_WITH_ITEM, inactive) == Refusal(
        RefusalKind.PERMISSION, NO_PERMISSION
    )


def test_a_superuser_needs_no_permission_of_their_own():
    assert (
        refusal(Action.APPROVE, APPROVER_WITH_ITEM, person(APPROVER, is_superuser=True))
        is None
    )


def test_the_permission_is_checked_before_separation():
    assert refusal(Action.APPROVE, facts(), person(CLERK, CHANGE)) == Refusal(
        RefusalKind.PERMISSION, NO_PERMISSION
    )


# --- Decisions: separation and assignment -------------------------------------------


@pytest.mark.parametrize("action", DECISIONS)
def test_an_approver_with_an_open_item_decides(action):
    assert (
        refusal(action, APPROVER_WITH_ITEM, person(APPROVER, DECIDE_PERMISSION)) is None
    )


@pytest.mark.parametrize("action", DECISIONS)
def test_the_submitter_does_not_decide(action):
    proposal = facts(items=[item(CLERK)])

    assert refusal(action, proposal, person(CLERK, DECIDE_PERMISSION)) == Refusal(
        RefusalKind.SEPARATION, OWN_PROPOSAL
    )


@pytest.mark.parametrize("part", list(Part))
def test_whoever_took_part_in_an_earlier_round_does_not_decide(part):
    proposal = facts(
        submission_round=2,
        participations=(Participation(OTHER, part, "credit_limit", 1),),
        items=[item(OTHER, round_=2)],
    )

    assert refusal(Action.APPROVE, proposal, person(OTHER, DECIDE_PERMISSION)) == (
        Refusal(RefusalKind.SEPARATION, OWN_PROPOSAL)
    )


@pytest.mark.parametrize("decided", ["approved", "rejected", "sent_back"])
def test_who_decided_another_step_does_not_decide_this_one(decided):
    proposal = facts(
        current_step_sequence=2,
        items=[item(APPROVER, decided, step=1), item(APPROVER, step=2)],
    )

    assert refusal(Action.APPROVE, proposal, person(APPROVER, DECIDE_PERMISSION)) == (
        Refusal(RefusalKind.SEPARATION, ONE_STEP_ONLY)
    )


@pytest.mark.parametrize(
    "passed_on", ["open", "closed", "delegated", "reassigned", "escalated"]
)
def test_an_item_of_another_step_that_was_not_decided_does_not_exclude(passed_on):
    proposal = facts(
        current_step_sequence=2,
        items=[item(APPROVER, passed_on, step=1), item(APPROVER, step=2)],
    )

    assert (
        refusal(Action.APPROVE, proposal, person(APPROVER, DECIDE_PERMISSION)) is None
    )


@pytest.mark.parametrize("decided", ["approved", "rejected", "sent_back"])
def test_who_decided_this_step_in_an_earlier_round_decides_it_again(decided):
    proposal = facts(
        submission_round=2,
        items=[item(APPROVER, decided, round_=1), item(APPROVER, round_=2)],
    )

    assert (
        refusal(Action.APPROVE, proposal, person(APPROVER, DECIDE_PERMISSION)) is None
    )


@pytest.mark.parametrize("decided", ["approved", "rejected", "closed", "delegated"])
def test_who_already_decided_this_step_is_refused(decided):
    proposal = facts(items=[item(APPROVER, decided)])

    assert refusal(Action.APPROVE, proposal, person(APPROVER, DECIDE_PERMISSION)) == (
        Refusal(RefusalKind.STATE, ALREADY_DECIDED_STEP)
    )


def test_an_open_item_among_decided_ones_still_decides():
    proposal = facts(items=[item(APPROVER, "delegated"), item(APPROVER, "open")])

    assert (
        refusal(Action.APPROVE, proposal, person(APPROVER, DECIDE_PERMISSION)) is None
    )


@pytest.mark.parametrize(
    "items",
    [
        [],
        [item(OTHER)],
        [item(APPROVER, step=2)],
        [item(APPROVER, round_=2)],
    ],
    ids=["none", "someone_else", "another_step", "another_round"],
)
def test_without_an_item_of_this_step_and_round_a_person_is_not_assigned(items):
    proposal = facts(items=items)

    assert refusal(Action.APPROVE, proposal, person(APPROVER, DECIDE_PERMISSION)) == (
        Refusal(RefusalKind.ASSIGNMENT, NOT_ASSIGNED)
    )


@pytest.mark.parametrize("action", [Action.EDIT_DRAFT, Action.SUBMIT, Action.REASSIGN])
def test_non_decisions_ask_no_separation(action):
    state = "pending" if action == Action.REASSIGN else "draft"

    assert refusal(action, facts(state=state), person(CLERK, *EVERYTHING)) is None


def test_an_open_item_of_an_earlier_round_does_not_assign():
    proposal = facts(submission_round=2, items=[item(APPROVER, round_=1)])

    assert refusal(Action.APPROVE, proposal, person(APPROVER, DECIDE_PERMISSION)) == (
        Refusal(RefusalKind.ASSIGNMENT, NOT_ASSIGNED)
    )
