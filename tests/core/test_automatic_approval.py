"""Automatic approval: a proposal needs no approval only when every changed field has
a rule of its own that matches."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tests.core.strategies import Rule, changes, rules
from workflow.core.conditions import ConditionKind, condition_holds
from workflow.core.routing import automatic_approval


def matches(rule: Rule, field_name: str, found: dict) -> bool:
    return rule.field_name == field_name and condition_holds(
        rule.kind, rule.field_name, rule.value, found
    )


@given(given_rules=st.lists(rules, max_size=5), found=changes)
def test_approved_only_when_every_change_has_a_matching_rule(given_rules, found):
    approved = automatic_approval(given_rules, found)

    every_field_matched = all(
        any(matches(r, name, found) for r in given_rules) for name in found
    )
    if found and every_field_matched:
        assert approved == tuple(
            next(r for r in given_rules if matches(r, name, found)) for name in found
        )
    else:
        assert approved == ()


DECREASE = Rule("credit_limit", ConditionKind.DECREASES)
TERMS = Rule("payment_terms", ConditionKind.CHANGES)
CREDIT_DOWN = {"credit_limit": ("200", "100")}


def test_no_changes_or_no_rules_need_approval():
    assert automatic_approval([DECREASE], {}) == ()
    assert automatic_approval([], CREDIT_DOWN) == ()


def test_one_rule_per_field_in_the_order_of_the_changes():
    found = {"payment_terms": ("Net30", "Net10"), **CREDIT_DOWN}

    assert automatic_approval([DECREASE, TERMS], found) == (TERMS, DECREASE)


def test_one_unmatched_field_needs_approval_for_all():
    found = {"credit_limit": ("200", "100"), "bank_account": ("A", "B")}

    assert automatic_approval([DECREASE, TERMS], found) == ()


def test_a_rule_of_another_field_does_not_match():
    always_terms = Rule("payment_terms", ConditionKind.CHANGES)

    assert automatic_approval([always_terms], CREDIT_DOWN) == ()


def test_the_first_matching_rule_of_a_field_is_given():
    above = Rule("credit_limit", ConditionKind.ABOVE, Decimal(50))

    assert automatic_approval(
        [Rule("credit_limit", ConditionKind.INCREASES), above, DECREASE], CREDIT_DOWN
    ) == (above,)
