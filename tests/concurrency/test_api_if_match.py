"""Two systems update the same customer at once with the same ETag, against PostgreSQL:
one write wins, the other is told 412 and writes nothing."""

from __future__ import annotations

import pytest

from customers.models import Customer
from tests.api.conftest import token_client
from tests.concurrency.test_simultaneous_decisions import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_one_of_two_updates_with_the_same_etag_wins(clerk, clerk2, customer):
    first, second = token_client(clerk, "CRM"), token_client(clerk2, "Web shop")
    etag = first.get(f"/api/v1/customers/{customer.pk}/")["ETag"]

    def update(api, city):
        return lambda: (
            api.patch(
                f"/api/v1/customers/{customer.pk}/",
                {"city": city},
                format="json",
                HTTP_IF_MATCH=etag,
            ).status_code
        )

    results = run_at_once(update(first, "Delft"), update(second, "Leiden"))

    assert sorted(results) == [200, 412]
    winner = "Delft" if results[0] == 200 else "Leiden"
    assert Customer.objects.get(pk=customer.pk).city == winner
