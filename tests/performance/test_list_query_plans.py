"""On PostgreSQL the customer list's status filter and its searches by city, e-mail,
IBAN and phone read indexes, never the whole customer table, and the records without
proposed changes (nearly all of them) are not counted row by row.

The table is filled with 12,000 customers by SQL and analysed. For the EXPLAIN,
sequential scans are switched off, so that a plan that still reads the table from end
to end proves that no index could serve it; for the searches, plain index scans too
(walking the whole account index in order is what the planner falls back on), so that
the plan shows which index can find the rows. `make bench` prints the plans the
planner chooses by itself at a million customers.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer
from tests.factories import (
    CustomerGroupFactory,
    PaymentTermsFactory,
    customers_by_sql,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

CUSTOMERS = reverse("admin:customers_customer_changelist")
ROWS = 12_000


@pytest.fixture
def large_book(clerk):
    """12,000 customers; every 100th has a pending proposal, every 1,000th a draft,
    every 2,000th one sent back and every 3,000th one that ended in conflict."""
    group = CustomerGroupFactory(code="10")
    terms = PaymentTermsFactory(code="Net30")
    customers_by_sql(
        ROWS,
        prefix="L",
        group=group,
        terms=terms,
        bank_account="'NL' || lpad(mod(n, 97)::text, 2, '0') || 'BANK' "
        "|| lpad(n::text, 10, '0')",
        city="CASE WHEN mod(n, 1000) = 711 THEN 'Zierikzee' ELSE 'Utrecht' END",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO workflow_changeproposal (content_type_id, object_id,
                object_repr, state, source, created_by_id, created_at,
                submission_round, justification)
            SELECT %s, c.id, c.account,
                CASE WHEN mod(n, 3000) = 0 THEN 'conflict'
                     WHEN mod(n, 2000) = 0 THEN 'changes_requested'
                     WHEN mod(n, 1000) = 0 THEN 'draft'
                     ELSE 'pending' END,
                'browser', %s, now(), 1, ''
            FROM customers_customer c,
                LATERAL (SELECT substr(c.account, 2)::int AS n) AS number
            WHERE c.account LIKE 'L%%' AND mod(n, 100) = 0
            """,
            [ContentType.objects.get_for_model(Customer).pk, clerk.pk],
        )
        cursor.execute("ANALYZE customers_customer")
        cursor.execute("ANALYZE workflow_changeproposal")


def list_queries(client, params) -> list[str]:
    """The SQL the customer list runs that reads the customer table."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(CUSTOMERS, params).status_code == 200
    return [q["sql"] for q in captured if 'FROM "customers_customer"' in q["sql"]]


def plan_nodes(sql: str, *, off: tuple[str, ...] = ("seqscan",)) -> list[dict]:
    """Every node of the plan PostgreSQL runs for `sql` with the scans `off` off, with
    the rows each node read (EXPLAIN ANALYZE)."""
    with connection.cursor() as cursor:
        for scan in off:
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        (plan,) = cursor.fetchone()
        for scan in off:
            cursor.execute(f"SET LOCAL enable_{scan} = on")
    if isinstance(plan, str):
        plan = json.loads(plan)
    nodes, stack = [], [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.get("Plans", []))
    return nodes


def rows_read(nodes: list[dict], table: str) -> int:
    """How many rows of `table` the plan's scans of it went through, kept or not."""
    return sum(
        (
            node["Actual Rows"]
            + node.get("Rows Removed by Filter", 0)
            + node.get("Rows Removed by Index Recheck", 0)
        )
        * node["Actual Loops"]
        for node in nodes
        if node.get("Relation Name") == table
    )


def table_scans(nodes: list[dict], table: str) -> list[tuple[str, str]]:
    """How a plan reads `table`: (node type, index), a bitmap's index scans included."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        indexes = {name for (name,) in cursor.fetchall()}
    return sorted(
        (node["Node Type"], node.get("Index Name", ""))
        for node in nodes
        if node.get("Relation Name") == table or node.get("Index Name") in indexes
    )


@pytest.mark.parametrize(
    ("term", "index"),
    [
        ("zierikzee", "customers_customer_city_trgm"),
        ("customer4711@example", "customers_customer_email_trgm"),
        ("NL55 BANK 0000 0047 11", "customers_customer_bank_account_prefix"),
        ("020 000 4711", "customers_customer_phone_digits_trgm"),
    ],
    ids=["city", "email", "iban-in-groups", "phone-national"],
)
def test_searches_read_their_trigram_index(client, clerk, large_book, term, index):
    client.force_login(clerk)
    client.get(CUSTOMERS)

    queries = list_queries(client, {"q": term})

    # Whether it finds few (up to FEW_MATCHES, sorted then), the count and the page.
    assert len(queries) == 3
    for sql in queries:
        nodes = plan_nodes(sql, off=("seqscan", "indexscan"))
        scans = table_scans(nodes, "customers_customer")
        assert ("Bitmap Index Scan", index) in scans, (sql, scans)
        assert rows_read(nodes, "customers_customer") <= 20, (sql, scans)
    assert "L004711" in client.get(CUSTOMERS, {"q": term}).content.decode()


@pytest.mark.parametrize(
    "status", ["draft", "pending", "changes_requested", "conflict"]
)
def test_the_status_filter_joins_on_the_proposal_index(
    client, clerk, large_book, status
):
    client.force_login(clerk)
    client.get(CUSTOMERS)

    queries = list_queries(client, {"approval_status": status})

    assert len(queries) == 2  # the count and the page
    for sql in queries:
        nodes = plan_nodes(sql)
        proposals = table_scans(nodes, "workflow_changeproposal")
        assert any(index for _node, index in proposals), (sql, proposals)
        # The proposals say which customers to read: at most those 120.
        assert rows_read(nodes, "customers_customer") <= 120, (sql, nodes)


def test_no_proposed_changes_is_counted_by_estimate_less_the_others(
    client, clerk, large_book
):
    client.force_login(clerk)
    client.get(CUSTOMERS)

    queries = list_queries(client, {"approval_status": "none"})

    # The page reads the customer table, and the count only the rejected customers
    # (by the index of the customers not active): no COUNT(*) of the whole table.
    counts = [q for q in queries if q.startswith("SELECT COUNT(*)")]
    pages = [q for q in queries if not q.startswith("SELECT COUNT(*)")]
    assert len(pages) == 1
    assert len(counts) <= 1
    for count in counts:
        assert "record_status" in count
        count_nodes = plan_nodes(count)
        assert rows_read(count_nodes, "customers_customer") == 0, count_nodes
    # The page walks the customers in order, skipping those with a status, until
    # it has its 100: it reads no more than that.
    nodes = plan_nodes(pages[0])
    assert rows_read(nodes, "customers_customer") <= 200, nodes
    # 12,000 customers, 120 of them with a proposal (4 of those in conflict).
    page = client.get(CUSTOMERS, {"approval_status": "none"}).content.decode()
    assert "11880 customers" in page


def test_the_start_of_an_account_is_read_as_a_range_of_the_account_index(
    client, clerk, large_book
):
    """The last hundred accounts: walking the account index in order to find them
    would read the whole table first."""
    client.force_login(clerk)
    client.get(CUSTOMERS)

    queries = list_queries(client, {"q": "L0119"})

    assert len(queries) == 3  # the first account found, the count and the page
    for sql in queries:
        nodes = plan_nodes(sql)
        scans = table_scans(nodes, "customers_customer")
        assert all(index == "customers_customer_account_c" for _type, index in scans), (
            sql,
            scans,
        )
        assert rows_read(nodes, "customers_customer") <= 100, (sql, scans)
    page = client.get(CUSTOMERS, {"q": "l0119"}).content.decode()
    assert "L011900" in page
    assert "L011899" not in page
