"""A form loaded before someone else's change is refused with "reload"; nothing is overwritten."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from customers.services import customer_update
from tests.customers.test_admin_walk import form_data


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
