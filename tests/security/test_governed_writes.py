"""A field under approval cannot be written around the engine: not by save(), update(),
bulk_update() or bulk_create(), and on PostgreSQL not from a plain SQL session."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test.utils import isolate_apps

from customers.models import Customer
from tests.factories import CustomerFactory
from workflow import services
from workflow.enforcement import GovernedWriteRefused, engine_writes
from workflow.models import AuditEntry, DataEntityBehavior

REFUSED = (
    "Credit limit of C00001 Contoso Retail is under approval and cannot be written "
    "directly. Change it on the record's page, or by an import, so that it goes "
    "through approval."
)


def stored_credit_limit(customer) -> Decimal:
    return Customer.objects.values_list("credit_limit", flat=True).get(pk=customer.pk)


@pytest.mark.django_db
def test_save_of_a_field_under_approval_is_refused_and_writes_nothing(
    customer, approvals_on
):
    customer.credit_limit = Decimal("1")
    customer.city = "Utrecht"
    with pytest.raises(GovernedWriteRefused) as refused:
        customer.save()
    assert refused.value.message == REFUSED
    assert stored_credit_limit(customer) == Decimal("10000.00")
    assert Customer.objects.get(pk=customer.pk).city == ""


@pytest.mark.django_db
def test_save_of_other_fields_still_works(customer, approvals_on):
    fresh = Customer.objects.get(pk=customer.pk)
    fresh.city = "Utrecht"
    fresh.save()
    assert Customer.objects.get(pk=customer.pk).city == "Utrecht"
    fresh.credit_limit = Decimal("1")
    fresh.save(update_fields=["city"])  # the governed field is not among those written
    assert stored_credit_limit(customer) == Decimal("10000.00")


@pytest.mark.django_db
def test_queryset_update_is_refused_unless_it_changes_nothing(customer, approvals_on):
    queryset = Customer.objects.filter(pk=customer.pk)
    with pytest.raises(GovernedWriteRefused):
        queryset.update(credit_limit=Decimal("1"))
    with pytest.raises(GovernedWriteRefused):
        queryset.update(payment_terms=None)
    assert queryset.update(credit_limit=Decimal("10000.00"), city="Delft") == 1
    assert stored_credit_limit(customer) == Decimal("10000.00")
    assert Customer.objects.get(pk=customer.pk).city == "Delft"


@pytest.mark.django_db
def test_bulk_update_of_changed_governed_values_is_refused(customer, approvals_on):
    other = CustomerFactory(account="C00002")
    rows = list(Customer.objects.filter(pk__in=[customer.pk, other.pk]))
    for row in rows:
        row.city = "Breda"
    rows[1].bank_account = "DE89370400440532013000"
    with pytest.raises(GovernedWriteRefused):
        Customer.objects.bulk_update(rows, ["city", "bank_account"])
    assert set(Customer.objects.values_list("city", flat=True)) == {""}
    Customer.objects.bulk_update(rows, ["city"])
    assert set(Customer.objects.values_list("city", flat=True)) == {"Breda"}


@pytest.mark.django_db
def test_bulk_create_that_would_overwrite_governed_values_is_refused(
    customer, approvals_on
):
    clash = Customer(
        account=customer.account,
        name=customer.name,
        customer_group=customer.customer_group,
        credit_limit=Decimal("1"),
    )
    with pytest.raises(GovernedWriteRefused):
        Customer.objects.bulk_create(
            [clash],
            update_conflicts=True,
            unique_fields=["account"],
            update_fields=["credit_limit"],
        )
    assert stored_credit_limit(customer) == Decimal("10000.00")


@pytest.mark.django_db
def test_new_records_and_fields_without_approval_pass(customer, approvals_on):
    """New customers are not governed (there is no value to protect yet)."""
    created = Customer.objects.create(
        account="C00099",
        name="New",
        customer_group=customer.customer_group,
        credit_limit=Decimal("5"),
    )
    assert stored_credit_limit(created) == Decimal("5.00")


@pytest.mark.django_db
def test_writes_pass_when_approvals_are_off(customer):
    Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal("3"))
    assert stored_credit_limit(customer) == Decimal("3.00")


@pytest.mark.django_db
def test_the_engines_own_writes_pass(customer, approvals_on):
    with transaction.atomic(), engine_writes():
        Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal("4"))
    assert stored_credit_limit(customer) == Decimal("4.00")
    with pytest.raises(GovernedWriteRefused):
        Customer.objects.filter(pk=customer.pk).update(credit_limit=Decimal("5"))


# --- PostgreSQL: the trigger --------------------------------------------------------


def sql_update(customer, value="1.00"):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_customer SET credit_limit = %s WHERE id = %s",
            [value, customer.pk],
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_plain_sql_cannot_change_a_column_under_approval(customer, approvals_on):
    with pytest.raises(DatabaseError) as refused:
        with transaction.atomic():
            sql_update(customer)
    assert "customers_customer.credit_limit is under approval" in str(refused.value)
    assert stored_credit_limit(customer) == Decimal("10000.00")
    with connection.cursor() as cursor:  # other columns are free
        cursor.execute(
            "UPDATE customers_customer SET city = 'Gouda' WHERE id = %s", [customer.pk]
        )
    assert Customer.objects.get(pk=customer.pk).city == "Gouda"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_plain_sql_may_change_the_column_once_it_is_not_under_approval(
    customer, approvals_on, approval_admin
):
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=DataEntityBehavior.PROPOSE,
        enabled_fields=["bank_account"],
        actor=approval_admin,
    )
    sql_update(customer, "2.00")
    assert stored_credit_limit(customer) == Decimal("2.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_engine_marker_lasts_only_as_long_as_the_engines_write(
    customer, approvals_on
):
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            with engine_writes():
                sql_update(customer, "3.00")
            # Later in the same transaction, outside the engine: refused again.
            sql_update(customer, "4.00")
    assert stored_credit_limit(customer) == Decimal("10000.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_approval_writes_through_the_trigger(
    customer, clerk, approver, approvals_on, active_workflow
):
    from tests.conftest import submit

    proposal = submit(customer, clerk, credit_limit=Decimal("25000"))
    services.proposal_approve(proposal=proposal, actor=approver)
    assert stored_credit_limit(customer) == Decimal("25000.00")
    assert AuditEntry.objects.filter(
        object_id=customer.pk, field_name="credit_limit", action="field_changed"
    ).exists()


@pytest.mark.django_db
def test_a_new_instance_forced_over_an_existing_row_is_refused(customer, approvals_on):
    impostor = Customer(
        pk=customer.pk,
        account=customer.account,
        name=customer.name,
        customer_group=customer.customer_group,
        credit_limit=Decimal("1"),
    )
    with pytest.raises(GovernedWriteRefused):
        impostor.save(force_update=True)
    assert stored_credit_limit(customer) == Decimal("10000.00")


@pytest.mark.django_db
def test_the_base_manager_is_guarded_too(customer, approvals_on):
    with pytest.raises(GovernedWriteRefused):
        Customer._base_manager.filter(pk=customer.pk).update(credit_limit=Decimal("1"))
    with pytest.raises(GovernedWriteRefused):
        customer.customer_group.customer_set.update(credit_limit=Decimal("1"))
    assert stored_credit_limit(customer) == Decimal("10000.00")


@isolate_apps("customers")
def test_a_governed_model_without_the_guard_fails_the_system_check(monkeypatch):
    from django.db import models

    from workflow import enforcement, registry

    class Unguarded(models.Model):
        class Meta:
            app_label = "customers"

        def __str__(self) -> str:
            return "unguarded"

    monkeypatch.setattr(
        registry,
        "_registry",
        {
            **registry._registry,
            "customers.unguarded": registry.GovernedModel(
                model=Unguarded, governable_field_names=(), labels=None
            ),
        },
    )
    errors = enforcement.governed_models_are_guarded()
    assert [e.id for e in errors] == ["workflow.E001"]
    assert errors[0].obj is Unguarded
