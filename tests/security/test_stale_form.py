"""A form loaded before someone else's change is refused with "reload"; nothing is overwritten."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from customers.models import Customer
from customers.services import customer_update
from tests.customers.test_admin_walk import form_data
from workflow.exceptions import RECORD_VERSION_MISSING
from workflow.models import AuditEntry, ChangeProposal


@pytest.mark.django_db
def test_saving_a_stale_customer_form_is_refused(client, clerk, clerk2, customer):
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    client.force_login(clerk)
    page = client.get(url)
    version = re.search(
        r'name="_record_version" value="([^"]+)"', page.content.decode()
    ).group(1)

    customer_update(
        customer_id=customer.pk, values={"phone": "+31 1 (other clerk)"}, actor=clerk2
    )

    data = {**form_data(page), "name": "My edit", "_record_version": version}
    response = client.post(url, data, follow=True)
    assert (
        "Someone changed this customer after you opened it" in response.content.decode()
    )
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Contoso Retail", "+31 1 (other clerk)")


@pytest.mark.django_db
def test_a_fresh_form_saves(client, clerk, customer):
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    client.force_login(clerk)
    page = client.get(url)
    version = re.search(
        r'name="_record_version" value="([^"]+)"', page.content.decode()
    ).group(1)
    client.post(url, {**form_data(page), "name": "My edit", "_record_version": version})
    customer.refresh_from_db()
    assert customer.name == "My edit"


@pytest.mark.django_db
def test_a_change_without_the_record_version_is_refused_and_writes_nothing(
    client, clerk, customer, approvals_on
):
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    client.force_login(clerk)
    data = form_data(client.get(url))
    del data["_record_version"]

    response = client.post(
        url, {**data, "name": "My edit", "credit_limit": "25000"}, follow=True
    )

    assert str(RECORD_VERSION_MISSING % {"model": "customer"}) in response.text
    customer.refresh_from_db()
    assert (customer.name, customer.credit_limit) == (
        "Contoso Retail",
        Decimal("10000.00"),
    )
    assert not ChangeProposal.objects.exists()
    assert not AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer)
    ).exists()


@pytest.mark.django_db
def test_a_form_sent_back_with_errors_keeps_the_version_it_was_loaded_with(
    client, clerk, clerk2, customer
):
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    client.force_login(clerk)
    data = form_data(client.get(url))
    customer_update(
        customer_id=customer.pk, values={"phone": "+31 1 (other clerk)"}, actor=clerk2
    )

    with_errors = client.post(url, {**data, "name": ""})
    assert with_errors.status_code == 200
    resent = form_data(with_errors)
    assert resent["_record_version"] == data["_record_version"]
    response = client.post(url, {**resent, "name": "My edit"}, follow=True)

    assert (
        "Someone changed this customer after you opened it" in response.content.decode()
    )
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Contoso Retail", "+31 1 (other clerk)")
