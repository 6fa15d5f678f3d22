"""Approval on create, decided on facts: whether a new record waits, what an import
does with a new row, which fields of a record not yet active are proposed, and which
records may be used."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflow.core import creation

STATUSES = st.sampled_from(creation.STATUSES)
BEHAVIOURS = st.sampled_from(["allow", "reject", "propose"])


@pytest.mark.parametrize(
    ("approvals_enabled", "parameter", "status"),
    [
        (True, True, creation.AWAITING),
        (True, False, creation.ACTIVE),
        # Approvals off: nothing waits, whatever the parameter says.
        (False, True, creation.ACTIVE),
        (False, False, creation.ACTIVE),
    ],
)
def test_a_new_record_waits_only_with_approvals_on_and_the_parameter(
    approvals_enabled, parameter, status
):
    assert creation.status_of_new_record(approvals_enabled, parameter) == status


@given(STATUSES)
def test_only_an_active_record_may_be_used(status):
    assert creation.may_be_used(status) == (status == creation.ACTIVE)
    assert creation.is_active(status) == creation.may_be_used(status)


def test_an_import_proposes_refuses_or_allows_new_rows_as_its_behaviour_says():
    assert creation.new_record_by_import("propose", True) == creation.AWAITING
    assert creation.new_record_by_import("allow", True) == creation.ACTIVE
    assert creation.new_record_by_import("reject", True) is None


@given(BEHAVIOURS)
def test_without_the_parameter_every_import_creates_active_records(behaviour):
    assert creation.new_record_by_import(behaviour, False) == creation.ACTIVE


@given(STATUSES, st.sets(st.sampled_from(["a", "b", "c"])))
def test_every_governable_field_of_a_record_not_active_is_proposed(status, enabled):
    governable = ("a", "b", "c", "d")
    fields = creation.fields_under_approval(status, frozenset(enabled), governable)
    if status == creation.ACTIVE:
        assert fields == frozenset(enabled)
    else:
        assert fields == frozenset(governable)


@given(STATUSES, st.sampled_from([None, "allow", "reject", "propose"]))
def test_allow_proposes_into_a_record_not_active_and_nothing_else_changes(
    status, behaviour
):
    found = creation.behaviour_for_record(status, behaviour)
    if behaviour == "allow" and status != creation.ACTIVE:
        assert found == "propose"
    else:
        assert found == behaviour


def test_a_creation_proposal_holds_the_values_entered_and_never_nothing():
    assert creation.creation_values(
        {"name": "Fabrikam", "email": "", "credit_limit": "0.00", "terms": None}
    ) == {"name": "Fabrikam", "credit_limit": "0.00"}
    # A box left unticked is a value entered.
    assert creation.creation_values({"blocked": False}) == {"blocked": False}
    assert creation.creation_values({"email": "", "terms": None}) == {
        "email": "",
        "terms": None,
    }


def test_a_decision_leaves_the_record_active_or_rejected_and_a_submission_awaiting():
    assert creation.AFTER_APPROVAL == creation.ACTIVE
    assert creation.AFTER_REJECTION == creation.REJECTED
    assert creation.AFTER_SUBMISSION == creation.AWAITING
    assert set(creation.INACTIVE) == {creation.AWAITING, creation.REJECTED}
