"""Hypothesis strategies for the facts the decision core decides on."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hypothesis import strategies as st

from workflow.core.conditions import ConditionKind
from workflow.core.facts import (
    ActorFacts,
    ItemFacts,
    Part,
    Participation,
    ProposalFacts,
)
from workflow.core.permissions import DECIDE_PERMISSION

USER_IDS = st.integers(min_value=1, max_value=6)
STEPS = st.integers(min_value=1, max_value=3)
ROUNDS = st.integers(min_value=1, max_value=3)
FIELDS = ("credit_limit", "bank_account", "payment_terms")
ITEM_STATES = (
    "open",
    "approved",
    "rejected",
    "closed",
    "delegated",
    "reassigned",
    "escalated",
    "sent_back",
)
PROPOSAL_STATES = (
    "draft",
    "pending",
    "applied",
    "rejected",
    "conflict",
    "discarded",
    "changes_requested",
    "recalled",
)
POLICIES = ("single", "majority", "percentage", "all")

participations = st.builds(
    Participation,
    user_id=USER_IDS,
    part=st.sampled_from(Part),
    field_name=st.sampled_from(FIELDS),
    submission_round=ROUNDS,
)
work_items = st.builds(
    ItemFacts,
    assignee_id=USER_IDS,
    step_sequence=STEPS,
    submission_round=ROUNDS,
    state=st.sampled_from(ITEM_STATES),
)


ANY_STATE = st.sampled_from(PROPOSAL_STATES)


@st.composite
def proposals(draw, state=ANY_STATE) -> ProposalFacts:
    """Any proposal: who created and submitted it, who proposed or submitted what in
    which round, and the work items of any step and round in any state."""
    return ProposalFacts(
        state=draw(state),
        created_by_id=draw(st.none() | USER_IDS),
        submitted_by_id=draw(st.none() | USER_IDS),
        current_step_sequence=draw(STEPS),
        submission_round=draw(ROUNDS),
        participations=tuple(draw(st.lists(participations, max_size=6))),
        work_items=tuple(draw(st.lists(work_items, max_size=10))),
    )


def pending_proposals():
    return proposals(state=st.just("pending"))


def actors(user_id=USER_IDS) -> st.SearchStrategy[ActorFacts]:
    """Any person: active or not, a superuser or not, with or without the approval
    permission (and perhaps others)."""
    return st.builds(
        ActorFacts,
        user_id=user_id,
        username=st.just("someone"),
        is_active=st.booleans(),
        permissions=st.frozensets(
            st.sampled_from(
                (
                    DECIDE_PERMISSION,
                    "workflow.reassign_workitem",
                    "customers.change_customer",
                )
            )
        ),
        is_superuser=st.booleans(),
    )


def participants(facts: ProposalFacts) -> set[int]:
    """Everyone who proposed, withdrew or submitted any of the proposal."""
    found = {p.user_id for p in facts.participations}
    found |= {u for u in (facts.created_by_id, facts.submitted_by_id) if u is not None}
    return found


@dataclass(frozen=True)
class Step:
    """An approval step as routing and completion read it."""

    sequence: int
    condition_kind: str = ConditionKind.ALWAYS
    condition_field: str = ""
    condition_value: Decimal | None = None
    completion_policy: str = "single"
    approval_percentage: int | None = None


@dataclass(frozen=True)
class Rule:
    """An automatic approval rule as the core reads it."""

    field_name: str
    kind: str
    value: Decimal | None = None


NUMBERS = st.integers(min_value=0, max_value=200).map(str)
conditions = st.one_of(
    st.tuples(st.just(ConditionKind.ALWAYS), st.just(""), st.none()),
    st.tuples(
        st.sampled_from([k for k in ConditionKind if k != ConditionKind.ALWAYS]),
        st.sampled_from(FIELDS),
        st.none() | st.integers(min_value=0, max_value=200).map(Decimal),
    ),
)
changes = st.dictionaries(
    st.sampled_from(FIELDS), st.tuples(NUMBERS, NUMBERS), max_size=len(FIELDS)
)


@st.composite
def steps(draw) -> list[Step]:
    """Steps with distinct sequences, each with a condition, in any order."""
    sequences = draw(
        st.lists(st.integers(min_value=1, max_value=8), unique=True, max_size=5)
    )
    return [
        Step(sequence, *draw(conditions))
        for sequence in draw(st.permutations(sequences))
    ]


rules = st.builds(
    lambda field, condition: Rule(field, condition[0], condition[2]),
    st.sampled_from(FIELDS),
    conditions.filter(lambda c: c[0] != ConditionKind.ALWAYS),
)
