"""An import builds a model instance per new row (workflow.importing.plan.NewInstances)
without Model() where Model() would only store the values: the instance must be the
one Model() builds, and a model that listens to its own creation still gets Model()."""

from __future__ import annotations

from decimal import Decimal

from django.db.models.signals import post_init

from customers.models import Customer, CustomerGroup
from workflow.importing.plan import NewInstances


def state_of(instance) -> dict[str, object]:
    values = {k: v for k, v in instance.__dict__.items() if k != "_state"}
    # created_at's default is the moment the instance is built.
    values.pop("created_at")
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
