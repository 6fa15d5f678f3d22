"""Who may never decide a step of a proposal, with each reason as the review page
shows it."""

from __future__ import annotations

from workflow.core.facts import ItemFacts, Part, Participation, ProposalFacts
from workflow.core.separation import (
    Exclusion,
    ExclusionReason,
    exclusions,
    took_part,
)

PROPOSED = ExclusionReason.PROPOSED
SUBMITTED = ExclusionReason.SUBMITTED
DECIDED = ExclusionReason.DECIDED_OTHER_STEP


def item(user_id, state, step, round_=1):
    return ItemFacts(
        assignee_id=user_id, step_sequence=step, submission_round=round_, state=state
    )


def test_nobody_is_excluded_from_a_proposal_of_no_one():
    assert exclusions(ProposalFacts(state="draft"), None) == {}


def test_each_part_and_decision_is_a_reason():
    facts = ProposalFacts(
        state="pending",
        created_by_id=1,
        submitted_by_id=2,
        submission_round=2,
        participations=(
            Participation(1, Part.PROPOSED, "credit_limit"),
            Participation(3, Part.PROPOSED, "bank_account"),
            Participation(1, Part.SUBMITTED, submission_round=1),
            Participation(2, Part.SUBMITTED, submission_round=2),
        ),
        work_items=(
            item(4, "approved", 1),
            item(4, "open", 2),
            item(5, "rejected", 1),
            item(6, "sent_back", 1, round_=1),
            item(7, "closed", 1),
            item(8, "delegated", 1),
            item(9, "approved", 2),
        ),
    )

    assert exclusions(facts, 2) == {
        # Who started it is named by the field they proposed, not twice.
        1: (
            Exclusion(PROPOSED, field_name="credit_limit"),
            Exclusion(SUBMITTED, submission_round=1),
        ),
        2: (Exclusion(SUBMITTED, submission_round=2),),
        3: (Exclusion(PROPOSED, field_name="bank_account"),),
        4: (Exclusion(DECIDED, step_sequence=1),),
        5: (Exclusion(DECIDED, step_sequence=1),),
        6: (Exclusion(DECIDED, step_sequence=1),),
    }


def test_the_same_reason_twice_counts_once():
    facts = ProposalFacts(
        state="pending",
        submitted_by_id=2,
        submission_round=1,
        participations=(Participation(2, Part.SUBMITTED, submission_round=1),),
        work_items=(item(4, "approved", 1), item(4, "rejected", 1, round_=2)),
    )

    assert exclusions(facts, 3) == {
        2: (Exclusion(SUBMITTED, submission_round=1),),
        4: (Exclusion(DECIDED, step_sequence=1),),
    }


def test_decisions_on_the_step_itself_do_not_exclude_from_it():
    facts = ProposalFacts(state="pending", work_items=(item(4, "approved", 1),))

    assert exclusions(facts, 1) == {}
    assert exclusions(facts, None) == {4: (Exclusion(DECIDED, step_sequence=1),)}


def test_took_part_is_proposing_or_submitting_not_deciding():
    assert took_part((Exclusion(PROPOSED),)) is True
    assert took_part((Exclusion(SUBMITTED, submission_round=1),)) is True
    assert took_part((Exclusion(DECIDED, step_sequence=1),)) is False
    assert (
        took_part((Exclusion(DECIDED, step_sequence=1), Exclusion(SUBMITTED))) is True
    )
    assert took_part(()) is False


def test_who_started_it_is_excluded_even_without_an_audit_row_naming_a_field():
    facts = ProposalFacts(state="pending", created_by_id=1, submitted_by_id=2)
    assert exclusions(facts, 1)[1] == (Exclusion(PROPOSED),)


def test_who_started_it_and_only_submitted_is_still_named_as_proposing():
    facts = ProposalFacts(
        state="pending",
        created_by_id=1,
        participations=(Participation(1, Part.SUBMITTED, submission_round=1),),
    )
    assert exclusions(facts, 1)[1] == (
        Exclusion(PROPOSED),
        Exclusion(SUBMITTED, submission_round=1),
    )
