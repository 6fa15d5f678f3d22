"""An import builds a model instance per new row (workflow.importing.plan.NewInstances)
without Model() where Model() would only store the values: the instance must be the
one Model() builds, and a model that listens to its own creation still gets Model()."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models.signals import post_init

from customers.models import Customer, CustomerGroup
from tests.factories import CustomerFactory
from workflow.importing.plan import NewInstances


def state_of(instance, stamped=("created_at",)) -> dict[str, object]:
    values = {k: v for k, v in instance.__dict__.items() if k != "_state"}
    # A time stamp's default is the moment the instance is built.
    for name in stamped:
        values.pop(name)
    return {
        **values,
        "adding": instance._state.adding,
        "db": instance._state.db,
        "cached": dict(instance._state.fields_cache),
    }


def test_a_new_instance_is_the_one_model_builds():
    values = {
        "account": "N00001",
        "name": "New customer",
        "credit_limit": Decimal("2500.00"),
        "customer_group_id": 7,
    }

    built = NewInstances(Customer)(values)

    assert state_of(built) == state_of(Customer(**values))
    assert built.created_at is not None
    assert built.pk is None and built._state.adding
    # Defaults are each instance's own, as Model() gives them.
    assert built.currency == "EUR" and built.country == "NL"


def test_a_model_that_listens_to_its_own_creation_is_built_by_model(monkeypatch):
    heard = []

    def listener(sender, instance, **kwargs):
        heard.append(instance.code)

    post_init.connect(listener, sender=CustomerGroup)
    try:
        NewInstances(CustomerGroup)({"code": "G1", "description": "Group"})
    finally:
        post_init.disconnect(listener, sender=CustomerGroup)

    assert heard == ["G1"]


def test_each_instance_has_its_own_values_and_state():
    build = NewInstances(Customer)
    first, second = build({"name": "one"}), build({"name": "two"})
    first._state.adding = False

    assert (first.name, second.name) == ("one", "two")
    assert second._state.adding


def test_a_model_with_an_init_of_its_own_is_built_by_it(monkeypatch):
    """An __init__ of the model's own (a state machine noting each instance's first
    state, say) runs for every instance, new or read."""
    model_init = Customer.__init__

    def noting_init(self, *args, **kwargs):
        model_init(self, *args, **kwargs)
        self.noted_by_init = True

    monkeypatch.setattr(Customer, "__init__", noting_init)
    build = NewInstances(Customer)

    built = build({"account": "N00002", "name": "New"})
    read = build.stored([None] * len(build.attnames), "default")

    assert built.noted_by_init and built.name == "New"
    assert read.noted_by_init and not read._state.adding


@pytest.mark.django_db
def test_a_stored_record_is_the_one_the_orm_reads():
    stored = CustomerFactory(account="S00001", name="Stored", credit_limit=1200)
    build = NewInstances(Customer)
    (row,) = Customer.objects.filter(pk=stored.pk).values_list(*build.attnames)

    read = build.stored(row, "default")

    assert state_of(read, stamped=()) == state_of(
        Customer.objects.get(pk=stored.pk), stamped=()
    )
    assert not read._state.adding and read.credit_limit == Decimal("1200")
