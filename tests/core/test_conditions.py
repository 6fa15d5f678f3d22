"""Step conditions and automatic approval rules: when each kind holds, at its edges,
and how a condition reads and is checked when an administrator enters it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.models import Customer
from tests.core.strategies import Step
from workflow import registry
from workflow.core.conditions import (
    FIELD_REQUIRED,
    FIELD_WITHOUT_KIND,
    NOT_NUMERIC,
    VALUE_REQUIRED,
    ConditionKind,
    condition_errors,
    condition_holds,
    condition_text,
    skipped_step_text,
)

K = ConditionKind
LIMIT = "credit_limit"


def holds(kind, original, proposed, value=None, field=LIMIT):
    return condition_holds(kind, field, value, {LIMIT: (original, proposed)})


@pytest.mark.parametrize(
    ("kind", "original", "proposed", "value", "expected"),
    [
        (K.INCREASES, "100", "100.01", None, True),
        (K.INCREASES, "100", "100", None, False),
        (K.INCREASES, "100", "99", None, False),
        (K.DECREASES, "100", "99.99", None, True),
        (K.DECREASES, "100", "100", None, False),
        (K.DECREASES, "100", "101", None, False),
        (K.ABOVE, "0", "500.01", Decimal(500), True),
        (K.ABOVE, "0", "500", Decimal(500), False),
        (K.ABOVE, "0", "1000000", None, False),
        (K.INCREASES_BY_MORE_THAN_PERCENT, "100", "150.01", Decimal(50), True),
        (K.INCREASES_BY_MORE_THAN_PERCENT, "100", "150", Decimal(50), False),
        (K.INCREASES_BY_MORE_THAN_PERCENT, "100", "100", Decimal(0), False),
        (K.INCREASES_BY_MORE_THAN_PERCENT, "0", "0", Decimal(0), False),
        (K.INCREASES_BY_MORE_THAN_PERCENT, "100", "90", Decimal(0), False),
        (K.INCREASES_BY_MORE_THAN_PERCENT, "100", "101", None, True),
        (K.INCREASES_BY_MORE_THAN_PERCENT, "1", "2", Decimal(150), False),
        (K.INCREASES_BY_MORE_THAN_PERCENT, "1", "3", Decimal(150), True),
        (K.INCREASES_BY_MORE_THAN_PERCENT, "200", "300", Decimal(49), True),
        (K.INCREASES_BY_MORE_THAN_PERCENT, "200", "300", Decimal(51), False),
        (K.INCREASES_BY_MORE_THAN_PERCENT, "0", "0.01", Decimal(1000), True),
        (K.INCREASES_BY_MORE_THAN_PERCENT, "-10", "5", Decimal(1000), True),
    ],
)
def test_numeric_kinds_at_their_edges(kind, original, proposed, value, expected):
    assert holds(kind, original, proposed, value) is expected


@pytest.mark.parametrize("empty", [None, "", "not a number"])
def test_an_empty_or_unreadable_value_counts_as_zero(empty):
    assert holds(K.INCREASES, empty, "0.5") is True
    assert holds(K.INCREASES, empty, "0") is False
    assert holds(K.DECREASES, "0.5", empty) is True
    assert holds(K.ABOVE, "9", empty, Decimal("-0.5")) is True
    assert holds(K.ABOVE, "9", empty, Decimal(0)) is False


def test_always_holds_even_without_changes():
    assert condition_holds(K.ALWAYS, "", None, {}) is True


@pytest.mark.parametrize("kind", [k for k in K if k != K.ALWAYS])
def test_a_condition_on_an_unchanged_field_does_not_hold(kind):
    changes = {"bank_account": ("1", "2")}

    assert condition_holds(kind, LIMIT, Decimal(0), changes) is False


def test_the_field_changes_holds_whatever_the_values():
    assert holds(K.CHANGES, "5", "5") is True
    assert holds(K.CHANGES, None, "IBAN") is True


def test_an_unknown_kind_never_holds():
    assert holds("sideways", "1", "2", Decimal(0)) is False


# --- As the administrator enters and reads it -----------------------------------------


@pytest.fixture
def governed():
    return registry.get(Customer)


@pytest.mark.parametrize(
    ("kind", "field", "value", "errors"),
    [
        (K.ALWAYS, "", None, {}),
        (K.ALWAYS, LIMIT, None, {"condition_kind": str(FIELD_WITHOUT_KIND)}),
        (K.CHANGES, "", None, {"condition_field": str(FIELD_REQUIRED)}),
        (K.ABOVE, "", None, {"condition_field": str(FIELD_REQUIRED)}),
        (K.CHANGES, "bank_account", None, {}),
        (K.INCREASES, LIMIT, None, {}),
        (K.INCREASES, "cash_discount_base_days", None, {}),
        (K.ABOVE, LIMIT, Decimal(5), {}),
        (K.INCREASES_BY_MORE_THAN_PERCENT, LIMIT, Decimal(0), {}),
        (K.ABOVE, LIMIT, None, {"condition_value": str(VALUE_REQUIRED)}),
        (
            K.INCREASES_BY_MORE_THAN_PERCENT,
            LIMIT,
            None,
            {"condition_value": str(VALUE_REQUIRED)},
        ),
        (
            K.DECREASES,
            "bank_account",
            None,
            {"condition_kind": str(NOT_NUMERIC % {"field": "Bank account (IBAN)"})},
        ),
        (
            K.ABOVE,
            "name",
            None,
            {
                "condition_kind": str(NOT_NUMERIC % {"field": "Name"}),
                "condition_value": str(VALUE_REQUIRED),
            },
        ),
    ],
)
def test_condition_errors(governed, kind, field, value, errors):
    assert condition_errors(kind, field, value, governed) == errors


@pytest.mark.parametrize(
    ("kind", "field", "value", "text"),
    [
        (K.ALWAYS, "", None, "Always"),
        (K.CHANGES, "bank_account", None, "Bank account (IBAN): the field changes"),
        (
            K.CHANGES,
            "bank_account",
            Decimal(3),
            "Bank account (IBAN): the field changes",
        ),
        (K.INCREASES, LIMIT, None, "Credit limit: the value increases"),
        (
            K.ABOVE,
            LIMIT,
            Decimal("15000.00"),
            "Credit limit: the new value is above 15000",
        ),
        (K.ABOVE, LIMIT, None, "Credit limit: the new value is above"),
        (
            K.INCREASES_BY_MORE_THAN_PERCENT,
            LIMIT,
            Decimal("12.50"),
            "Credit limit: the value increases by more than (%) 12.5",
        ),
        (K.DECREASES, "", None, "?: the value decreases"),
    ],
)
def test_condition_text(governed, kind, field, value, text):
    assert condition_text(kind, field, value, governed) == text


def test_skipped_step_text_names_the_step_and_its_condition(governed):
    class Named(Step):
        def __str__(self):
            return "2. Finance"

    step = Named(2, K.ABOVE, LIMIT, Decimal(100))

    assert skipped_step_text(step, governed) == (
        "Step “2. Finance” skipped: its condition "
        "(Credit limit: the new value is above 100) does not hold."
    )
