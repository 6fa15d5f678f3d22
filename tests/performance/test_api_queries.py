"""No N+1 in the API: a list page costs the same queries for 1 row as for 30, and a
page reads as many rows as it shows (a cursor, never a count of the whole table)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.conftest import token_client
from tests.conftest import submit
from tests.factories import CustomerFactory


def queries_for(api, url: str) -> tuple[int, int]:
    """Queries of the steady state (the first request also records the token's use)
    and the rows the page shows."""
    api.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200
    return (
        len([q for q in captured if "SAVEPOINT" not in q["sql"]]),
        len(response.json()["results"]),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/api/v1/customers/", "/api/v1/proposals/", "/api/v1/work-items/"]
)
def test_api_lists_do_not_grow_with_rows(
    clerk, approver, approvals_on, active_workflow, url
):
    submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))
    api = token_client(approver)
    one, shown_one = queries_for(api, url)
    for _ in range(29):
        submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))
    thirty, shown_thirty = queries_for(api, url)

    assert (shown_one, shown_thirty) == (1, 30)
    assert thirty == one


@pytest.mark.django_db
def test_the_customer_list_never_counts_the_table(clerk):
    for _ in range(3):
        CustomerFactory()
    api = token_client(clerk)
    api.get("/api/v1/customers/")
    with CaptureQueriesContext(connection) as captured:
        api.get("/api/v1/customers/")

    assert not [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
