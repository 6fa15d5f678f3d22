"""When the votes on a step decide it: never approved with fewer approvals than its
policy needs, and an approval never undoes an approval (nor turns a step rejected)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.core.strategies import POLICIES
from workflow.core.completion import (
    APPROVED,
    REJECTED,
    approvals_needed,
    step_outcome,
)
from workflow.core.lifecycle import VOTES

PERCENTAGES = st.integers(min_value=1, max_value=100)
votes = st.lists(st.sampled_from(VOTES), min_size=1, max_size=12)
policies = st.sampled_from(POLICIES)


def needed(policy: str, percentage: int, voters: int) -> int:
    """The approvals each policy needs, from its definition."""
    return {
        "single": 1,
        "majority": voters // 2 + 1,
        "all": voters,
        "percentage": max(1, math.ceil(Fraction(voters * percentage, 100))),
    }[policy]


@given(policy=policies, percentage=PERCENTAGES, voters=st.integers(1, 50))
def test_approvals_needed_follow_the_policy(policy, percentage, voters):
    assert approvals_needed(policy, percentage, voters) == needed(
        policy, percentage, voters
    )


@given(policy=policies, percentage=PERCENTAGES, states=votes)
def test_never_approved_with_fewer_approvals_than_needed(policy, percentage, states):
    outcome = step_outcome(policy, percentage, states)

    approvals = states.count(APPROVED)
    enough = approvals >= needed(policy, percentage, len(states))
    if outcome == APPROVED:
        assert enough
    if enough and not (policy == "single" and REJECTED in states):
        assert outcome == APPROVED


@given(policy=policies, percentage=PERCENTAGES, states=votes)
def test_rejected_only_when_approval_is_out_of_reach(policy, percentage, states):
    outcome = step_outcome(policy, percentage, states)

    within_reach = len(states) - states.count(REJECTED) >= needed(
        policy, percentage, len(states)
    )
    if policy == "single":
        assert (outcome == REJECTED) == (REJECTED in states or not within_reach)
    elif states.count(APPROVED) < needed(policy, percentage, len(states)):
        assert (outcome == REJECTED) == (not within_reach)


@given(policy=policies, percentage=PERCENTAGES, states=votes, data=st.data())
def test_an_open_item_approving_never_undoes_the_outcome(
    policy, percentage, states, data
):
    open_at = [i for i, s in enumerate(states) if s == "open"]
    if not open_at:
        states = [*states, "open"]
        open_at = [len(states) - 1]
    at = data.draw(st.sampled_from(open_at))
    after = [*states[:at], APPROVED, *states[at + 1 :]]

    before_outcome = step_outcome(policy, percentage, states)
    after_outcome = step_outcome(policy, percentage, after)

    if before_outcome == APPROVED:
        assert after_outcome == APPROVED
    if before_outcome != REJECTED:
        assert after_outcome != REJECTED


@given(policy=policies, percentage=PERCENTAGES, states=votes)
def test_one_more_approving_voter_never_undoes_an_approval(policy, percentage, states):
    if step_outcome(policy, percentage, states) == APPROVED:
        assert step_outcome(policy, percentage, [*states, APPROVED]) == APPROVED


@given(percentage=PERCENTAGES, voters=st.integers(1, 30))
def test_percentage_approves_at_the_share_rounded_up_and_not_before(percentage, voters):
    share = needed("percentage", percentage, voters)

    enough = [APPROVED] * share + ["open"] * (voters - share)
    one_short = [APPROVED] * (share - 1) + ["open"] * (voters - share + 1)

    assert step_outcome("percentage", percentage, enough) == APPROVED
    assert step_outcome("percentage", percentage, one_short) is None


@pytest.mark.parametrize(
    ("voters", "percentage", "expected"),
    [(3, 50, 2), (4, 50, 2), (5, 50, 3), (3, 67, 3), (3, 66, 2), (10, 1, 1), (1, 1, 1)],
)
def test_percentage_rounds_up(voters, percentage, expected):
    assert approvals_needed("percentage", percentage, voters) == expected


def test_percentage_without_a_share_needs_everyone():
    assert approvals_needed("percentage", None, 4) == 4
    assert step_outcome("percentage", None, [APPROVED] * 3 + ["open"]) is None
    assert step_outcome("percentage", None, [APPROVED] * 4) == APPROVED


@pytest.mark.parametrize(
    ("policy", "states", "expected"),
    [
        ("single", ["open", "open"], None),
        ("single", ["approved", "open"], APPROVED),
        ("single", ["rejected", "open", "open"], REJECTED),
        ("single", ["sent_back", "open"], None),
        ("majority", ["approved", "open", "open"], None),
        ("majority", ["approved", "approved", "open"], APPROVED),
        ("majority", ["rejected", "rejected", "open"], REJECTED),
        ("majority", ["approved", "rejected", "open", "open"], None),
        ("majority", ["approved", "approved", "open", "open"], None),
        ("majority", ["approved", "approved", "rejected", "open"], None),
        ("majority", ["approved", "rejected", "rejected", "open"], REJECTED),
        ("all", ["approved", "approved", "open"], None),
        ("all", ["approved", "approved", "approved"], APPROVED),
        ("all", ["approved", "rejected", "open"], REJECTED),
        ("all", ["approved", "closed"], None),
    ],
)
def test_outcomes_of_each_policy(policy, states, expected):
    assert step_outcome(policy, None, states) == expected
