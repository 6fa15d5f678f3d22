"""On PostgreSQL an import finds each batch's customers by their indexes, whatever the
size of the table and whatever PostgreSQL last counted of it: looking 500 keys up by
index takes a millisecond or two, and scanning a table of 100,000 customers for them
once per batch took 25 to 30 ms (`make bench`; the planner chose the scan there, its
statistics taken before the import created the rows it then looked up).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from tests.factories import (
    CustomerGroupFactory,
    PaymentTermsFactory,
    customers_by_sql,
)
from workflow.bulk_sql import key_lookups_by_index
from workflow.importing.plan import ImportOptions
from workflow.services import governed_records_import

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROWS = 20_000
FILE_ROWS = 500
TABLE_SCAN = "Seq Scan on customers_customer"


@pytest.fixture
def large_book():
    group = CustomerGroupFactory(code="10")
    terms = PaymentTermsFactory(code="Net30")
    with connection.cursor() as cursor:
        # The search indexes (trigram) serve no lookup by key; dropped for this test's
        # transaction only, they spare the rows' insertion most of its time.
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'customers_customer' "
            "AND indexdef LIKE '%%gin_trgm_ops%%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
    customers_by_sql(ROWS, prefix="P", group=group, terms=terms)


def imported_statements(tmp_path, clerk, rows: int, *, dry_run: bool) -> list[str]:
    """The SQL of an import (or its preview) that renames the first `rows` customers."""
    path = tmp_path / "rename.csv"
    path.write_text(
        "account;name\n"
        + "".join(f"P{n:06d};Renamed customer {n}\n" for n in range(1, rows + 1))
    )
    with CaptureQueriesContext(connection) as captured:
        report = governed_records_import(
            model=Customer,
            path=path,
            file_name=path.name,
            options=ImportOptions(behaviour="allow"),
            actor=clerk,
            dry_run=dry_run,
        )
    assert report.ok, report.as_dict()
    assert report.counts["updated"] == rows
    return [q["sql"] for q in captured]


def batch_read(statements: list[str]) -> str:
    return next(
        s
        for s in statements
        if s.startswith('SELECT "customers_customer"."id"') and "FOR UPDATE" in s
    )


def batch_update(statements: list[str]) -> str:
    return next(s for s in statements if s.startswith('UPDATE "customers_customer"'))


def plan_as_imported(statement: str) -> str:
    """The plan of one of the import's statements, under the import's settings."""
    with key_lookups_by_index(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + statement)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_import_reads_and_updates_a_batch_by_index(tmp_path, clerk, large_book):
    statements = imported_statements(tmp_path, clerk, FILE_ROWS, dry_run=False)
    read, update = batch_read(statements), batch_update(statements)

    # The import's own transaction asks for index plans before it reads a batch.
    setting = statements.index("SET LOCAL enable_seqscan = off")
    assert setting < statements.index(read) < statements.index(update)
    read_plan = plan_as_imported(read)
    update_plan = plan_as_imported(update)
    assert TABLE_SCAN not in read_plan
    assert "customer_account_unique_ignoring_case" in read_plan
    assert TABLE_SCAN not in update_plan
    assert "customers_customer_pkey" in update_plan


def test_the_preview_reads_by_index_too(tmp_path, clerk, large_book):
    statements = imported_statements(tmp_path, clerk, 1, dry_run=True)

    read = next(
        s for s in statements if s.startswith('SELECT "customers_customer"."id"')
    )
    assert statements.index("SET LOCAL enable_seqscan = off") < statements.index(read)
    assert Customer.objects.get(account="P000001").name == "P customer 1"
