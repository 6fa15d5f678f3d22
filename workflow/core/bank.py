"""Bank-detail controls: the call-back a verifier records, and the warnings where fraud
shows in a proposed bank account.

Pure functions over facts loaded for them (`selectors_facts.callback_facts`,
`selectors_facts.bank_facts`); a test builds the facts by hand.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from enum import StrEnum

from ..exceptions import (
    CALLBACK_NO_NUMBERS,
    CALLBACK_NOT_A_CALLBACK_STEP,
    CALLBACK_OUTCOME_REQUIRED,
    CALLBACK_PERSON_REQUIRED,
    CALLBACK_PHONE_NOT_ON_FILE,
    CALLBACK_PHONE_REQUIRED,
    CALLBACK_STEP_NEEDS_CALL,
)
from .refusals import Refusal, RefusalKind


class StepKind(StrEnum):
    APPROVAL = "approval"
    CALLBACK = "callback"


class CallbackOutcome(StrEnum):
    CONFIRMED = "confirmed"
    FAILED = "failed"


class BankWarning(StrEnum):
    """A sign of fraud in a proposed bank account; the pages word each one."""

    DUPLICATE = "duplicate"
    COUNTRY = "country"
    RECENT = "recent"
    REPEATED = "repeated"
    CONTACT = "contact"
    CONTACT_RECENT = "contact_recent"


# Two changes of the bank account within the window are "several times".
REPEATED_CHANGES = 2


def phone_digits(number: object) -> str:
    """A phone number's digits, however it is written ("+31 20-555 0102" → "31205550102")."""
    return re.sub(r"\D", "", str(number or ""))


# A national number ("020 555 0102") is the international one ("+31 20 555 0102")
# when this many of its digits, after its leading zero, end the other.
MIN_NATIONAL_DIGITS = 8


def same_number(left: object, right: object) -> bool:
    """Whether two phone numbers are the same however they are written, with or
    without the country code."""
    a, b = phone_digits(left).lstrip("0"), phone_digits(right).lstrip("0")
    if not a or not b:
        return False
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return len(short) >= MIN_NATIONAL_DIGITS and long.endswith(short)


@dataclass(frozen=True)
class CallbackFacts:
    """What a call-back decision is checked against: the kind of the current step and
    the numbers the record had *before* the proposed change (never one it proposes)."""

    step_kind: str
    numbers_on_file: tuple[str, ...]


@dataclass(frozen=True)
class CallbackEvidence:
    """What the verifier records: the number called, the person reached, the outcome."""

    phone: str
    person: str
    outcome: str


def decision_kind_refusal(step_kind: str, *, with_call: bool) -> Refusal | None:
    """A call-back step is approved only with its call recorded; a call is recorded
    only at a call-back step."""
    if step_kind == StepKind.CALLBACK and not with_call:
        return Refusal(RefusalKind.INPUT, CALLBACK_STEP_NEEDS_CALL)
    if step_kind != StepKind.CALLBACK and with_call:
        return Refusal(RefusalKind.INPUT, CALLBACK_NOT_A_CALLBACK_STEP)
    return None


def callback_refusal(
    facts: CallbackFacts, evidence: CallbackEvidence
) -> Refusal | None:
    """Why this call-back cannot be recorded, or None if it can."""
    kind = decision_kind_refusal(facts.step_kind, with_call=True)
    if kind is not None:
        return kind
    if not evidence.phone.strip():
        return Refusal(RefusalKind.INPUT, CALLBACK_PHONE_REQUIRED)
    if not facts.numbers_on_file:
        return Refusal(RefusalKind.INPUT, CALLBACK_NO_NUMBERS)
    if not any(same_number(evidence.phone, n) for n in facts.numbers_on_file):
        return Refusal(RefusalKind.INPUT, CALLBACK_PHONE_NOT_ON_FILE)
    if not evidence.person.strip():
        return Refusal(RefusalKind.INPUT, CALLBACK_PERSON_REQUIRED)
    if evidence.outcome not in set(CallbackOutcome):
        return Refusal(RefusalKind.INPUT, CALLBACK_OUTCOME_REQUIRED)
    return None


@dataclass(frozen=True)
class BankFacts:
    """What the warnings read of one proposal that changes a bank account."""

    proposed_account: str
    # Keys of the other records that hold the proposed account now.
    other_holders: tuple[str, ...] = ()
    country: str = ""
    # When the account was changed before, within the window.
    recent_changes: tuple[datetime.datetime, ...] = ()
    window_days: int = 0
    # Contact fields (e-mail, phone) the same proposal changes.
    contact_changes: tuple[str, ...] = ()
    # Contact fields changed another way within the window before it, or since.
    recent_contact_changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FoundWarning:
    kind: BankWarning
    # What the sentence needs: the other records, the countries, a count, the fields.
    detail: tuple[str, ...] = ()
    count: int = 0
    days: int = 0


def bank_warnings(facts: BankFacts) -> list[FoundWarning]:
    """The signs of fraud in the proposed bank account, in a fixed order."""
    found: list[FoundWarning] = []
    account = facts.proposed_account.replace(" ", "").upper()
    if not account:
        return found
    if facts.other_holders:
        found.append(FoundWarning(BankWarning.DUPLICATE, tuple(facts.other_holders)))
    iban_country = account[:2]
    country = facts.country.strip().upper()
    if country and iban_country.isalpha() and iban_country != country:
        found.append(FoundWarning(BankWarning.COUNTRY, (iban_country, country)))
    changes = len(facts.recent_changes)
    if changes >= REPEATED_CHANGES:
        found.append(
            FoundWarning(
                BankWarning.REPEATED,
                count=changes + 1,
                detail=(str(facts.window_days),),
            )
        )
    elif changes:
        found.append(
            FoundWarning(
                BankWarning.RECENT, count=changes, detail=(str(facts.window_days),)
            )
        )
    if facts.contact_changes:
        found.append(FoundWarning(BankWarning.CONTACT, tuple(facts.contact_changes)))
    if facts.recent_contact_changes:
        found.append(
            FoundWarning(
                BankWarning.CONTACT_RECENT,
                tuple(facts.recent_contact_changes),
                days=facts.window_days,
            )
        )
    return found
