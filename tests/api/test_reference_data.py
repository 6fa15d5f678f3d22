"""The reference tables read by code."""

from __future__ import annotations

import pytest

from tests.api.conftest import token_client
from tests.factories import CustomerFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    "prefix",
    [
        "customer-groups",
        "terms-of-payment",
        "methods-of-payment",
        "cash-discounts",
        "sales-tax-groups",
    ],
)
def test_every_reference_table_lists_and_reads_by_code(clerk, prefix):
    from customers.api import REFERENCE_ROUTES

    model = {p: m for p, m, _s in REFERENCE_ROUTES}[prefix]
    model.objects.create(code="X1", description="Test code")
    api = token_client(clerk)

    listed = api.get(f"/api/v1/{prefix}/").json()
    one = api.get(f"/api/v1/{prefix}/X1/")

    assert "X1" in [row["code"] for row in listed]
    assert one.json()["description"] == "Test code"
    assert api.get(f"/api/v1/{prefix}/NOPE/").status_code == 404


@pytest.mark.django_db
def test_terms_of_payment_say_their_days(clerk):
    CustomerFactory()  # makes Net30
    body = token_client(clerk).get("/api/v1/terms-of-payment/Net30/").json()

    assert body["code"] == "Net30"
    assert isinstance(body["days"], int)
