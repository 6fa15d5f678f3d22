"""Imports cost a few queries per batch of rows, not per row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from tests.factories import CustomerFactory
from workflow.importing import plan
from workflow.importing.plan import ImportOptions
from workflow.services import governed_records_import


def import_queries(
    tmp_path, actor, rows: int, behaviour: str, *, existing: bool, start: int = 0
) -> int:
    lines = "".join(
        f"Q{n:05d};Query customer {n} renamed;10;{n + 1}\n"
        for n in range(start, start + rows)
    )
    path = tmp_path / f"q{rows}{behaviour}{existing}{start}.csv"
    path.write_text("account;name;customer_group;credit_limit\n" + lines)
    actor.has_perm("customers.add_customer")
    with CaptureQueriesContext(connection) as captured:
        report = governed_records_import(
            model=Customer,
            path=path,
            file_name=path.name,
            options=ImportOptions(behaviour=behaviour),
            actor=actor,
            dry_run=False,
        )
    assert report.ok, report.as_dict()
    return len([q for q in captured if "SAVEPOINT" not in q["sql"]])


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(plan, "BATCH_SIZE", 10)


@pytest.mark.django_db
def test_creating_rows_costs_queries_per_batch(
    tmp_path, clerk, small_batches, customer
):
    import_queries(
        tmp_path, clerk, 1, "allow", existing=False, start=99
    )  # warms the caches
    five = import_queries(tmp_path, clerk, 5, "allow", existing=False)
    Customer.objects.filter(account__startswith="Q").delete()
    ten = import_queries(tmp_path, clerk, 10, "allow", existing=False)
    Customer.objects.filter(account__startswith="Q").delete()
    thirty = import_queries(tmp_path, clerk, 30, "allow", existing=False)
    assert five == ten
    assert thirty <= 3 * ten


@pytest.mark.django_db
def test_proposals_from_an_import_cost_queries_per_batch(
    tmp_path, clerk, approver, approvals_on, active_workflow, small_batches, customer
):
    for n in range(30):
        CustomerFactory(account=f"Q{n:05d}", name=f"Query customer {n}")
    import_queries(
        tmp_path, clerk, 1, "propose", existing=True, start=29
    )  # warms the caches
    five = import_queries(tmp_path, clerk, 5, "propose", existing=True, start=0)
    ten = import_queries(tmp_path, clerk, 10, "propose", existing=True, start=10)
    assert five == ten
