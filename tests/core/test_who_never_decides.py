"""Separation of duties, whatever else is true of a proposal: nobody who proposed,
withdrew or submitted any of it decides it or is handed a work item of it, and a person
who decided one step never decides, or is handed, another."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import assume, given
from hypothesis import strategies as st

from tests.core.strategies import (
    STEPS,
    actors,
    participants,
    pending_proposals,
    proposals,
)
from workflow.core.actions import action_refusal, eligible, handover_refusal
from workflow.core.facts import ActorFacts, ItemFacts
from workflow.core.lifecycle import DECIDED
from workflow.core.permissions import DECIDE_PERMISSION, Action
from workflow.core.refusals import RefusalKind
from workflow.exceptions import ONE_STEP_ONLY, OWN_PROPOSAL

DECISIONS = st.sampled_from(
    [Action.APPROVE, Action.REJECT, Action.REQUEST_CHANGE, Action.DELEGATE]
)


def refusal(action, facts, actor):
    return action_refusal(
        action, facts, actor, app_label="customers", model_name="customer"
    )


def deciders_elsewhere(facts, step) -> set[int]:
    return {
        item.assignee_id
        for item in facts.work_items
        if item.state in DECIDED and item.step_sequence != step
    }


@given(facts=proposals(), data=st.data(), action=DECISIONS)
def test_a_participant_never_decides(facts, data, action):
    assume(participants(facts))
    user_id = data.draw(st.sampled_from(sorted(participants(facts))))
    actor = data.draw(actors(user_id=st.just(user_id)))

    refused = refusal(action, facts, actor)

    assert refused is not None
    if facts.state == "pending" and actor.holds(DECIDE_PERMISSION):
        assert (refused.kind, refused.message) == (
            RefusalKind.SEPARATION,
            OWN_PROPOSAL,
        )


@given(facts=proposals(), data=st.data(), step=STEPS)
def test_a_participant_is_never_eligible_for_a_work_item(facts, data, step):
    assume(participants(facts))
    user_id = data.draw(st.sampled_from(sorted(participants(facts))))
    candidates = data.draw(st.lists(actors(), max_size=4))
    person = data.draw(actors(user_id=st.just(user_id)))

    chosen = eligible(facts, [*candidates, person], step)

    assert user_id not in {c.user_id for c in chosen}
    assert handover_refusal(facts, person, step).kind == RefusalKind.SEPARATION


@given(facts=pending_proposals(), data=st.data(), action=DECISIONS)
def test_who_decided_one_step_never_decides_another(facts, data, action):
    step = facts.current_step_sequence
    assume(deciders_elsewhere(facts, step))
    user_id = data.draw(st.sampled_from(sorted(deciders_elsewhere(facts, step))))
    actor = data.draw(actors(user_id=st.just(user_id)))

    refused = refusal(action, facts, actor)

    assert refused is not None
    if actor.holds(DECIDE_PERMISSION):
        assert refused.kind == RefusalKind.SEPARATION
        expected = OWN_PROPOSAL if user_id in participants(facts) else ONE_STEP_ONLY
        assert refused.message == expected


@given(facts=proposals(), data=st.data(), step=STEPS)
def test_who_decided_one_step_is_never_eligible_for_another(facts, data, step):
    assume(deciders_elsewhere(facts, step))
    user_id = data.draw(st.sampled_from(sorted(deciders_elsewhere(facts, step))))
    person = data.draw(actors(user_id=st.just(user_id)))

    assert eligible(facts, [person], step) == []
    assert handover_refusal(facts, person, step) is not None


@given(facts=pending_proposals(), superuser=st.booleans(), action=DECISIONS)
def test_an_outsider_with_an_open_item_decides(facts, superuser, action):
    """The other side: separation refuses nobody else. A person who took no part,
    decided no other step and holds an open work item of the current step and round
    may decide, as an active approver or as a superuser."""
    outsider = 99
    item = ItemFacts(
        assignee_id=outsider,
        step_sequence=facts.current_step_sequence,
        submission_round=facts.submission_round,
        state="open",
    )
    facts = replace(facts, work_items=(*facts.work_items, item))
    actor = ActorFacts(
        user_id=outsider,
        permissions=frozenset() if superuser else frozenset({DECIDE_PERMISSION}),
        is_superuser=superuser,
    )

    assert refusal(action, facts, actor) is None


@given(facts=proposals(), step=STEPS)
def test_an_outsider_approver_is_eligible(facts, step):
    outsider = ActorFacts(user_id=99, permissions=frozenset({DECIDE_PERMISSION}))

    assert eligible(facts, [outsider], step) == [outsider]
