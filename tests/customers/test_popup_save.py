"""The customer form opened from a related-object popup (the invoice account's "+" and
pencil) closes the popup when it saves, and stays in the popup when the save is refused."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from customers import services as customer_services
from customers.models import Customer
from customers.services import customer_update
from tests.customers.test_admin_walk import form_data
from workflow import services
from workflow.exceptions import PermissionRefused
from workflow.models import ChangeProposal, DataEntityBehavior

POPUP = {"_popup": "1", "_to_field": "id"}
POPUP_QUERY = "?_to_field=id&_popup=1"
REFUSED_BY_ENGINE = "Refused by the engine."
NEW_CUSTOMER = {
    "account": "C09999",
    "name": "New Customer",
    "currency": "EUR",
    "credit_limit": "5000",
    "country": "NL",
}


def add_url() -> str:
    return reverse("admin:customers_customer_add")


def change_url(customer) -> str:
    return reverse("admin:customers_customer_change", args=[customer.pk])


def popup_answer(response) -> dict[str, str]:
    """What the popup page hands to the window that opened it."""
    assert response.status_code == 200
    assert "admin/popup_response.html" in [t.name for t in response.templates]
    return json.loads(response.context["popup_response_data"])


def stays_in_popup(response, url: str) -> None:
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == url
    assert parse_qs(location.query) == {"_popup": ["1"], "_to_field": ["id"]}


@pytest.mark.django_db
def test_adding_a_customer_in_a_popup_closes_the_popup(client, clerk, customer):
    client.force_login(clerk)
    assert client.get(add_url() + POPUP_QUERY).context["is_popup"]

    response = client.post(
        add_url() + POPUP_QUERY,
        {**NEW_CUSTOMER, "customer_group": customer.customer_group_id, **POPUP},
    )

    created = Customer.objects.get(account="C09999")
    assert popup_answer(response) == {"value": str(created.pk), "obj": str(created)}


@pytest.mark.django_db
def test_changing_a_customer_in_a_popup_closes_the_popup(client, clerk, customer):
    client.force_login(clerk)
    page = client.get(change_url(customer) + POPUP_QUERY)
    assert page.context["is_popup"]

    response = client.post(
        change_url(customer) + POPUP_QUERY,
        {**form_data(page), "name": "Contoso Wholesale", **POPUP},
    )

    assert popup_answer(response) == {
        "action": "change",
        "value": str(customer.pk),
        "obj": "C00001 Contoso Wholesale",
        "new_value": str(customer.pk),
    }
    customer.refresh_from_db()
    assert customer.name == "Contoso Wholesale"


@pytest.mark.django_db
def test_a_change_proposed_in_a_popup_closes_it_naming_the_customer_as_it_is(
    client, clerk, customer, approval_admin
):
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=DataEntityBehavior.PROPOSE,
        enabled_fields=["name"],
        actor=approval_admin,
    )
    client.force_login(clerk)
    page = client.get(change_url(customer) + POPUP_QUERY)

    response = client.post(
        change_url(customer) + POPUP_QUERY,
        {**form_data(page), "name": "Contoso Wholesale", **POPUP},
    )

    assert popup_answer(response)["obj"] == "C00001 Contoso Retail"
    proposal = ChangeProposal.objects.get()
    assert [c.field_name for c in proposal.changes.all()] == ["name"]
    # The warning waits for the next page the clerk opens.
    assert (
        "Your changes have not been submitted."
        in client.get(reverse("admin:index")).text
    )


@pytest.mark.django_db
def test_a_clash_in_a_popup_stays_in_the_popup_with_both_values(
    client, clerk, clerk2, customer
):
    client.force_login(clerk)
    page = client.get(change_url(customer) + POPUP_QUERY)
    customer_update(
        customer_id=customer.pk, values={"phone": "+31 1 (other clerk)"}, actor=clerk2
    )

    response = client.post(
        change_url(customer) + POPUP_QUERY,
        {**form_data(page), "phone": "+31 2 (mine)", "name": "My edit", **POPUP},
    )

    assert response.status_code == 200
    assert response.context["is_popup"]
    assert '<input type="hidden" name="_popup" value="1">' in response.text
    assert [(c.mine, c.theirs) for c in response.context["clashes"]] == [
        ("+31 2 (mine)", "+31 1 (other clerk)")
    ]
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("My edit", "+31 1 (other clerk)")


@pytest.mark.django_db
def test_a_refused_add_in_a_popup_stays_in_the_popup_with_the_error(
    client, clerk, customer, monkeypatch
):
    def refuse(**kwargs):
        raise PermissionRefused(REFUSED_BY_ENGINE)

    monkeypatch.setattr(customer_services, "customer_create", refuse)
    client.force_login(clerk)

    response = client.post(
        add_url() + POPUP_QUERY,
        {**NEW_CUSTOMER, "customer_group": customer.customer_group_id, **POPUP},
    )

    stays_in_popup(response, add_url())
    again = client.get(response["Location"])
    assert again.context["is_popup"]
    assert REFUSED_BY_ENGINE in again.text
    assert not Customer.objects.filter(account="C09999").exists()
