"""The customer list pages to a bounded depth: a deeper page would cost more the more
customers there are, so the list says to search or filter instead."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory
from workflow.admin.pagination import EstimatedCountPaginator

URL = reverse("admin:customers_customer_changelist")


@pytest.fixture
def two_pages_at_most(monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "max_pages", 2)


def accounts_on(response) -> list[str]:
    return [c.account for c in response.context["cl"].result_list]


@pytest.mark.django_db
def test_a_page_past_the_bound_shows_the_last_one_with_a_message(
    client, clerk, two_pages_at_most
):
    CustomerFactory.create_batch(250)
    client.force_login(clerk)

    deep = client.get(URL, {"p": 3})
    last = client.get(URL, {"p": 2})

    assert deep.status_code == 200
    assert deep.context["cl"].paginator.num_pages == 2
    assert accounts_on(deep) == accounts_on(last)
    assert len(accounts_on(deep)) == 100
    text = deep.content.decode()
    assert "The list shows its first 2 pages (200 rows)." in text
    assert "Search or filter to find the others." in text


@pytest.mark.django_db
def test_a_search_within_the_bound_pages_as_before(client, clerk, two_pages_at_most):
    for n in range(150):
        CustomerFactory(name=f"Within {n}")
    client.force_login(clerk)

    response = client.get(URL, {"q": "within", "p": 2})

    assert len(accounts_on(response)) == 50
    assert "The list shows its first" not in response.content.decode()
