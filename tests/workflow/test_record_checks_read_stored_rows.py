"""The checks of a whole record that read other rows: a changed reference is looked up,
and a changed unique value is compared with the stored ones, unless the caller did."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from tests.factories import CustomerFactory
from workflow.core.applicability import record_problems, with_values


@pytest.mark.django_db
def test_a_changed_reference_to_a_missing_row_is_a_problem():
    customer = CustomerFactory(credit_limit=Decimal("100"))
    gone = get_user_model()(pk=999_999, username="gone")

    problems = record_problems(
        with_values(customer, {"account_manager": gone}), ["account_manager"]
    )

    assert problems == {
        "account_manager": ["user instance with id 999999 is not a valid choice."]
    }
    assert record_problems(customer, ["account_manager"]) == {}


@pytest.mark.django_db
def test_a_changed_unique_value_that_is_taken_is_a_problem():
    CustomerFactory(account="C00001")
    customer = CustomerFactory(account="C00002")
    candidate = with_values(customer, {"account": "C00001"})

    assert record_problems(candidate, ["account"]) == {
        "account": ["Customer with this Customer account already exists."]
    }
    assert record_problems(candidate, ["account"], uniqueness_checked=True) == {}
