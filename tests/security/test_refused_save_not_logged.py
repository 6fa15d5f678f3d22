"""A save of the customer form that was refused leaves no "Changed …" or "Added …" in
the admin's Recent actions: only what was written is logged."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse

from customers import services as customer_services
from customers.services import customer_update
from tests.customers.test_admin_walk import form_data, save_customer, workflow_url
from workflow.exceptions import PermissionRefused

REFUSED_BY_VALIDATION = "Credit limit: another write made this value invalid."
REFUSED_BY_ENGINE = "Refused by the engine."


def change_url(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


def changes_logged(customer) -> list[str]:
    return [
        entry.get_change_message()
        for entry in LogEntry.objects.filter(
            object_id=str(customer.pk), action_flag=CHANGE
        ).order_by("pk")
    ]


@pytest.mark.django_db
def test_a_stale_save_logs_only_what_it_wrote(client, clerk, clerk2, customer):
    client.force_login(clerk)
    page = client.get(change_url(customer))
    customer_update(
        customer_id=customer.pk, values={"phone": "+31 1 (other clerk)"}, actor=clerk2
    )

    client.post(change_url(customer), {**form_data(page), "name": "My edit"})

    # The phone the form still showed was the other clerk's business, not a change.
    assert changes_logged(customer) == ["Changed Name."]


@pytest.mark.django_db
def test_a_save_that_only_clashed_is_not_logged(client, clerk, clerk2, customer):
    client.force_login(clerk)
    page = client.get(change_url(customer))
    customer_update(
        customer_id=customer.pk, values={"phone": "+31 1 (other clerk)"}, actor=clerk2
    )

    response = client.post(
        change_url(customer), {**form_data(page), "phone": "+31 2 (mine)"}
    )

    assert [c.field_name for c in response.context["clashes"]] == ["phone"]
    customer.refresh_from_db()
    assert customer.phone == "+31 1 (other clerk)"
    assert LogEntry.objects.count() == 0


@pytest.mark.django_db
def test_a_fresh_save_is_logged_with_the_fields_it_wrote(client, clerk, customer):
    client.force_login(clerk)
    save_customer(client, customer, name="My edit")

    assert changes_logged(customer) == ["Changed Name."]


@pytest.mark.django_db
def test_a_save_refused_by_validation_is_not_logged(
    client, clerk, customer, monkeypatch
):
    def refuse(**kwargs):
        raise ValidationError(REFUSED_BY_VALIDATION)

    monkeypatch.setattr(customer_services, "customer_update", refuse)
    client.force_login(clerk)

    response = save_customer(client, customer, name="My edit")

    assert REFUSED_BY_VALIDATION in client.get(response["Location"]).text
    assert LogEntry.objects.count() == 0


@pytest.mark.django_db
def test_a_save_whose_every_field_is_refused_is_not_logged(
    client, clerk, approver, customer, approvals_on, active_workflow
):
    client.force_login(clerk)
    save_customer(client, customer, credit_limit="25000")
    client.post(workflow_url(customer, "submit"))
    logged_before = changes_logged(customer)

    response = save_customer(client, customer, credit_limit="30000")

    assert "Credit limit was not saved" in client.get(response["Location"]).text
    assert changes_logged(customer) == logged_before


@pytest.mark.django_db
def test_a_refused_add_is_not_logged(client, clerk, customer, monkeypatch):
    def refuse(**kwargs):
        raise PermissionRefused(REFUSED_BY_ENGINE)

    monkeypatch.setattr(customer_services, "customer_create", refuse)
    client.force_login(clerk)

    response = client.post(
        reverse("admin:customers_customer_add"),
        {
            "account": "C09999",
            "name": "New Customer",
            "customer_group": customer.customer_group_id,
            "currency": "EUR",
            "credit_limit": "5000",
            "country": "NL",
        },
        follow=True,
    )

    assert REFUSED_BY_ENGINE in response.text
    assert not LogEntry.objects.filter(action_flag=ADDITION).exists()
