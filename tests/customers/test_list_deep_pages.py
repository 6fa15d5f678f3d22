"""The customer list pages to a bounded depth: a deeper page would cost more the more
customers there are, so the list says to search or filter instead."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
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


@pytest.mark.django_db
def test_a_search_matching_more_than_the_pages_hold_says_more_than_and_counts_no_further(
    client, clerk, two_pages_at_most
):
    for n in range(250):
        CustomerFactory(name=f"Many {n}")
    CustomerFactory(name="Someone else")
    client.force_login(clerk)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, {"q": "many"})

    text = response.content.decode()
    assert response.context["cl"].paginator.capped
    assert "more than 200 customers" in text
    assert "more than 200 results" in text
    assert "250" not in text
    # No count of every match: the list's stops one row past what its pages show (the
    # search's own check of how many it found stops too).
    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert all(" LIMIT " in sql for sql in counts), counts
    assert any("LIMIT 201)" in sql for sql in counts), counts


@pytest.mark.django_db
def test_a_search_the_pages_hold_counts_exactly(client, clerk, two_pages_at_most):
    for n in range(150):
        CustomerFactory(name=f"Few {n}")
    client.force_login(clerk)

    response = client.get(URL, {"q": "few"})

    text = response.content.decode()
    assert not response.context["cl"].paginator.capped
    assert "150 customers" in text
    assert "more than" not in text


@pytest.mark.django_db
def test_more_than_reads_in_dutch(client, clerk, two_pages_at_most):
    for n in range(250):
        CustomerFactory(name=f"Many {n}")
    client.force_login(clerk)

    response = client.get(URL, {"q": "many"}, HTTP_ACCEPT_LANGUAGE="nl")

    text = response.content.decode()
    assert "meer dan 200 klanten" in text
    assert "meer dan 200 resultaten" in text
