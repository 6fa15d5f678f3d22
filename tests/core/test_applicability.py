"""Whether proposed values still apply to a record: nothing moved since they were
proposed, and the whole record with them is valid. Checked on records that are built,
not stored: the core reads no database."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.db.models import CheckConstraint, Q, UniqueConstraint

from customers.models import Customer, CustomerGroup, PaymentTerms
from workflow.core.applicability import (
    attvalue,
    cleaned,
    moved_fields,
    record_problems,
    touches_uniqueness,
    with_values,
)
from workflow.models import WorkflowStep


def same(name, left, right):
    return str(left) == str(right)


def test_moved_fields_are_those_whose_value_changed_since():
    originals = {"credit_limit": "100", "city": "Delft", "name": "Contoso"}
    current = {"credit_limit": "100", "city": "Leiden", "name": "Fabrikam", "x": "1"}

    assert moved_fields(originals, current, same) == ["city", "name"]
    assert moved_fields(originals, dict(originals), same) == []
    assert moved_fields({}, current, same) == []


def test_moved_fields_ask_equality_by_field_name():
    asked = []

    def equal(name, left, right):
        asked.append((name, left, right))
        return True

    moved_fields({"city": "Delft"}, {"city": "Leiden"}, equal)

    assert asked == [("city", "Leiden", "Delft")]


def customer(**values) -> Customer:
    """A valid customer that was never stored, as loaded from the database."""
    fields = {
        "pk": 7,
        "account": "C00007",
        "name": "Contoso",
        "customer_group_id": 3,
        "credit_limit": Decimal("100.00"),
        "bank_account": "NL91ABNA0417164300",
        **values,
    }
    found = Customer(**fields)
    found._state.adding = False
    return found


def test_a_valid_record_has_no_problems():
    assert record_problems(customer(), ["credit_limit", "name"]) == {}


def test_a_changed_value_that_fails_its_field_is_a_problem():
    problems = record_problems(customer(credit_limit=Decimal("-1")), ["credit_limit"])

    assert problems == {
        "credit_limit": ["Ensure this value is greater than or equal to 0."]
    }


def test_an_unchanged_stored_value_that_no_longer_passes_is_a_problem_too():
    problems = record_problems(customer(bank_account="NL00XXXX"), ["credit_limit"])

    assert list(problems) == ["bank_account"]


def test_a_required_reference_left_empty_is_a_problem_without_a_query():
    problems = record_problems(customer(customer_group_id=None), ["credit_limit"])

    assert problems == {"customer_group": ["This field cannot be null."]}


def test_a_required_reference_resolved_by_the_caller_is_still_checked_for_empty():
    problems = record_problems(
        customer(customer_group_id=None),
        ["customer_group"],
        references_resolved=["customer_group"],
    )

    assert problems == {"customer_group": ["This field cannot be null."]}


def test_an_empty_optional_reference_is_fine():
    assert record_problems(customer(payment_terms_id=None), ["name"]) == {}


def test_uniqueness_is_touched_by_a_unique_field_only():
    assert touches_uniqueness(Customer, {"account"}) is True
    assert touches_uniqueness(Customer, {"account", "name"}) is True
    assert touches_uniqueness(Customer, {"name", "credit_limit"}) is False
    assert touches_uniqueness(Customer, set()) is False


def test_uniqueness_is_touched_by_a_field_of_a_unique_constraint():
    assert touches_uniqueness(WorkflowStep, {"sequence"}) is True
    assert touches_uniqueness(WorkflowStep, {"name", "workflow"}) is True
    assert touches_uniqueness(WorkflowStep, {"name"}) is False


def test_uniqueness_is_touched_by_a_field_of_unique_together():
    assert touches_uniqueness(Permission, {"codename"}) is True
    assert touches_uniqueness(Permission, {"name"}) is False


def test_unique_together_and_unique_constraints_both_count():
    """A model with both (none of the project's has, yet)."""
    meta = SimpleNamespace(
        unique_together=[("region", "number")],
        constraints=[
            UniqueConstraint(fields=["code"], name="one_code"),
            CheckConstraint(condition=Q(number__gte=0), name="positive"),
        ],
        get_field=lambda name: SimpleNamespace(unique=False),
        concrete_fields=[],
    )
    model = SimpleNamespace(_meta=meta)

    assert touches_uniqueness(model, {"number"}) is True
    assert touches_uniqueness(model, {"code"}) is True
    assert touches_uniqueness(model, {"name"}) is False


def test_a_changed_unique_field_is_checked_unless_the_caller_did(monkeypatch):
    """The check itself asks the database; here a stand-in answers "taken"."""
    asked = []

    def taken(self, exclude=None):
        asked.append(self.account)
        raise ValidationError({"account": ["Taken."]})

    monkeypatch.setattr(Customer, "validate_unique", taken)

    assert record_problems(customer(account="C00008"), ["account"]) == {
        "account": ["Taken."]
    }
    assert record_problems(customer(), ["name"]) == {}
    assert (
        record_problems(
            customer(account="C00009"), ["account"], uniqueness_checked=True
        )
        == {}
    )
    assert asked == ["C00008"]


def test_a_reference_is_set_by_its_key():
    field = Customer._meta.get_field("customer_group")
    group = CustomerGroup(pk=11, code="20")

    assert attvalue(field, group) == 11
    assert attvalue(field, 11) == 11
    assert attvalue(Customer._meta.get_field("name"), "Fabrikam") == "Fabrikam"


def test_with_values_sets_a_copy_and_leaves_the_record_alone():
    record = customer()
    terms = PaymentTerms(pk=4, code="Net30")
    record._state.fields_cache["payment_terms"] = None

    candidate = with_values(
        record, {"name": "Fabrikam", "payment_terms": terms, "credit_limit": "5"}
    )

    assert (candidate.pk, candidate.name, candidate.payment_terms_id) == (
        7,
        "Fabrikam",
        4,
    )
    assert candidate.credit_limit == "5"
    assert (record.name, record.payment_terms_id, record.credit_limit) == (
        "Contoso",
        None,
        Decimal("100.00"),
    )
    assert candidate._state is not record._state
    assert candidate._state.adding is False
    assert candidate._state.fields_cache is not record._state.fields_cache


def test_cleaned_reads_the_values_clean_left():
    candidate = with_values(customer(), {"bank_account": "nl91 abna 0417 1643 00"})
    assert record_problems(candidate, ["bank_account"]) == {}

    assert cleaned(candidate, ["bank_account", "customer_group"]) == {
        "bank_account": "NL91ABNA0417164300",
        "customer_group": 3,
    }


def test_a_changed_reference_resolved_by_the_caller_is_not_looked_up_again():
    record = customer(customer_group_id=5, account_manager_id=8)

    assert (
        record_problems(
            record,
            ["customer_group", "account_manager"],
            references_resolved=["customer_group", "account_manager"],
        )
        == {}
    )


def test_a_change_that_touches_uniqueness_checks_the_constraints_too(monkeypatch):
    """Customer's case-insensitive account is a unique constraint: it is checked (a
    query) when the account changes, not when the name does."""
    checked = []
    monkeypatch.setattr(
        Customer, "validate_constraints", lambda self, exclude=None: checked.append(1)
    )
    monkeypatch.setattr(Customer, "validate_unique", lambda self, exclude=None: None)
    record_problems(customer(account="C00009"), ["account"])
    assert checked == [1]
    record_problems(customer(), ["name"])
    assert checked == [1]


def test_a_check_constraint_is_checked_whatever_changes(monkeypatch):
    checked = []
    monkeypatch.setattr(
        WorkflowStep,
        "validate_constraints",
        lambda self, exclude=None: checked.append(1),
    )
    step = WorkflowStep(sequence=1, name="Step", approval_percentage=50)
    record_problems(step, ["name"])
    assert checked == [1]


def test_a_unique_constraint_on_an_expression_counts_for_its_field():
    from django.db.models.functions import Lower

    meta = SimpleNamespace(
        unique_together=[],
        constraints=[UniqueConstraint(Lower("code"), name="one_code_any_case")],
        get_field=lambda name: SimpleNamespace(unique=False),
        concrete_fields=[SimpleNamespace(name="code"), SimpleNamespace(name="name")],
    )
    model = SimpleNamespace(_meta=meta)
    assert touches_uniqueness(model, {"code"}) is True
    assert touches_uniqueness(model, {"name"}) is False
