"""An import checks a million rows with `FieldChecks`, which remembers each field's
verdict on a value; the single-record paths ask Django's `full_clean`. Both must say
the same of every record, in the same words, however often a value comes back."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from customers.models import Customer
from workflow.core.applicability import FieldChecks, record_problems

# Uniqueness asks the database, which these tests do not have (an import checks its
# keys itself, in bulk).
UNIQUE_KNOWN = {"uniqueness_checked": True}
REFERENCES = ["customer_group", "payment_terms", "invoice_account"]

texts = st.one_of(
    st.sampled_from(["", " ", "Contoso", "Zoë", "a\u200bb", "x" * 101, "=1+1"]),
    st.text(max_size=12),
)
decimals = st.one_of(
    st.sampled_from(
        [
            Decimal("0"),
            Decimal("1.0"),
            Decimal("1.000"),
            Decimal("-1"),
            Decimal("1E+20"),
        ]
    ),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, max_value=10**13),
)
customers = st.fixed_dictionaries(
    {
        "account": st.one_of(st.sampled_from(["C00001", "C\u00a01", "c 1"]), texts),
        "name": texts,
        "currency": st.sampled_from(["EUR", "usd", "XXY", "EU", ""]),
        "credit_limit": decimals,
        "credit_rating": st.sampled_from(["", "A", "Z", "good"]),
        "bank_account": st.sampled_from(
            [
                "",
                "NL91ABNA0417164300",
                "nl91 abna 0417 1643 00",
                "NL91ABNA0417164301",
                "BE68539007547034",
                "XX00",
                "NL91-ABNA",
            ]
        ),
        "email": st.sampled_from(["", "a@example.com", "not an address"]),
        "country": st.sampled_from(["NL", "de", "QQ", ""]),
        "cash_discount_base_days": st.one_of(st.none(), st.integers(-5, 70000)),
        "mandatory_credit_limit": st.sampled_from([True, False, None]),
        "customer_group_id": st.sampled_from([None, 3]),
    }
)


def record(values: dict) -> Customer:
    found = Customer(pk=7, **values)
    found._state.adding = False
    return found


@settings(deadline=None)
@given(st.lists(customers, min_size=1, max_size=6), st.data())
def test_remembered_verdicts_say_what_full_clean_says(rows, data):
    checks = FieldChecks(Customer)
    # Every record twice: the second time each verdict comes from memory.
    for values in rows + rows:
        changed = data.draw(st.sets(st.sampled_from(sorted(values))))
        expected = record_problems(
            record(values), changed, references_resolved=REFERENCES, **UNIQUE_KNOWN
        )
        remembered = record_problems(
            record(values),
            changed,
            references_resolved=REFERENCES,
            checks=checks,
            **UNIQUE_KNOWN,
        )
        assert remembered == expected


def test_the_value_cleaned_is_the_one_full_clean_leaves():
    checks = FieldChecks(Customer)
    for _ in range(2):
        candidate = record(
            {
                "account": "C1",
                "name": "N",
                "customer_group_id": 3,
                "bank_account": "nl91 abna 0417 1643 00",
                "currency": "eur",
            }
        )
        assert record_problems(candidate, ["bank_account"], checks=checks) == {}
        assert candidate.bank_account == "NL91ABNA0417164300"
        assert candidate.currency == "EUR"


def test_values_equal_in_python_but_spelled_apart_get_their_own_verdict():
    """Decimal("1.0") == Decimal("1.000"), but only one fits two decimal places."""
    checks = FieldChecks(Customer)
    fits = record(
        {
            "account": "C1",
            "name": "N",
            "customer_group_id": 3,
            "credit_limit": Decimal("1.0"),
        }
    )
    too_precise = record(
        {
            "account": "C1",
            "name": "N",
            "customer_group_id": 3,
            "credit_limit": Decimal("1.000"),
        }
    )

    assert record_problems(fits, ["credit_limit"], checks=checks) == {}
    assert record_problems(too_precise, ["credit_limit"], checks=checks) == {
        "credit_limit": ["Ensure that there are no more than 2 decimal places."]
    }


def test_a_field_remembers_a_bounded_number_of_values():
    checks = FieldChecks(Customer, max_values=3)
    for n in range(10):
        candidate = record(
            {"account": f"C{n}", "name": f"N{n}", "customer_group_id": 3}
        )
        record_problems(candidate, ["name"], checks=checks)

    assert len(checks.remembered["name"]) == 3


def test_references_are_never_remembered():
    """A reference's check asks the database: asked every time."""
    checks = FieldChecks(Customer)

    assert "customer_group_id" not in checks.remembered
    assert "name" in checks.remembered
