"""The decision core's bank-detail rules: the call-back and the warnings."""

from __future__ import annotations

import datetime

import pytest

from workflow.core.bank import (
    BankFacts,
    BankWarning,
    CallbackEvidence,
    CallbackFacts,
    bank_warnings,
    callback_refusal,
    decision_kind_refusal,
    same_number,
)
from workflow.core.refusals import RefusalKind

ON_FILE = CallbackFacts(step_kind="callback", numbers_on_file=("+31 20 555 0102",))


def call(phone="+31 20 555 0102", person="Jan", outcome="confirmed"):
    return CallbackEvidence(phone=phone, person=person, outcome=outcome)


@pytest.mark.parametrize(
    "phone", ["+31 20 555 0102", "0031205550102", "020-555 01 02", "(020) 5550102"]
)
def test_a_number_on_file_is_recognised_however_written(phone):
    assert callback_refusal(ON_FILE, call(phone=phone)) is None


@pytest.mark.parametrize(
    "phone", ["+31 6 1234 5678", "5550102", "0102", "+44 20 555 0102"]
)
def test_any_other_number_is_refused(phone):
    refusal = callback_refusal(ON_FILE, call(phone=phone))
    assert refusal is not None and refusal.kind == RefusalKind.INPUT
    assert "before this change" in str(refusal)


def test_a_short_tail_is_not_the_same_number():
    assert not same_number("0102", "+31 20 555 0102")
    assert same_number("020 555 0102", "+31 20 555 0102")


@pytest.mark.parametrize(
    ("evidence", "words"),
    [
        (call(phone=""), "Choose the phone number"),
        (call(person="  "), "name of the person"),
        (call(outcome="maybe"), "confirmed the change or not"),
    ],
)
def test_missing_evidence_is_refused_in_words(evidence, words):
    assert words in str(callback_refusal(ON_FILE, evidence))


def test_without_a_number_on_file_nobody_can_be_called():
    facts = CallbackFacts(step_kind="callback", numbers_on_file=())
    assert "no phone number before this change" in str(callback_refusal(facts, call()))


def test_a_call_belongs_to_a_call_back_step_and_such_a_step_needs_one():
    assert decision_kind_refusal("callback", with_call=False) is not None
    assert decision_kind_refusal("approval", with_call=True) is not None
    assert decision_kind_refusal("approval", with_call=False) is None
    assert decision_kind_refusal("callback", with_call=True) is None
    approval = CallbackFacts(step_kind="approval", numbers_on_file=("020 555 0102",))
    assert callback_refusal(approval, call()) is not None


NOW = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)


def kinds(facts):
    return [w.kind for w in bank_warnings(facts)]


def test_a_clean_change_has_no_warning():
    assert kinds(BankFacts(proposed_account="NL91ABNA0417164300", country="NL")) == []


def test_each_sign_of_fraud_is_found():
    facts = BankFacts(
        proposed_account="DE89370400440532013000",
        other_holders=("C00002",),
        country="NL",
        recent_changes=(NOW,),
        window_days=90,
        contact_changes=("Phone",),
    )
    assert kinds(facts) == [
        BankWarning.DUPLICATE,
        BankWarning.COUNTRY,
        BankWarning.RECENT,
        BankWarning.CONTACT,
    ]


def test_two_earlier_changes_in_the_window_are_several_times():
    facts = BankFacts(
        proposed_account="NL91ABNA0417164300",
        country="NL",
        recent_changes=(NOW, NOW),
        window_days=30,
    )
    (found,) = bank_warnings(facts)
    assert (found.kind, found.count) == (BankWarning.REPEATED, 3)


def test_a_blank_account_warns_of_nothing():
    assert kinds(BankFacts(proposed_account="", other_holders=("C1",))) == []


def test_contact_details_changed_another_way_recently_warn():
    facts = BankFacts(
        proposed_account="NL91ABNA0417164300",
        country="NL",
        window_days=90,
        recent_contact_changes=("Phone",),
    )
    (found,) = bank_warnings(facts)
    assert (found.kind, found.detail, found.days) == (
        BankWarning.CONTACT_RECENT,
        ("Phone",),
        90,
    )
