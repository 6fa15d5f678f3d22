"""No N+1: every list page runs the same number of queries for 1 row as for 50."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import submit
from tests.factories import CustomerFactory, PaymentTermsFactory


def queries_for(client, url) -> int:
    # The first page of a session also records the user's language once; count the
    # steady state that every later page costs.
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len([q for q in captured if "SAVEPOINT" not in q["sql"]])


def grow_customers(count):
    terms = PaymentTermsFactory(code="Net45")
    for _ in range(count):
        CustomerFactory(payment_terms=terms)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url_name",
    [
        "admin:customers_customer_changelist",
        "admin:workflow_changeproposal_changelist",
        "admin:workflow_auditentry_changelist",
    ],
)
def test_list_pages_do_not_grow_with_rows(
    client,
    approval_admin,
    clerk,
    approver,
    approvals_on,
    active_workflow,
    url_name,
    roles,
):
    approval_admin.groups.add(roles["Clerks"])
    client.force_login(approval_admin)
    first = CustomerFactory()
    submit(first, clerk, credit_limit=Decimal("1"))
    one = queries_for(client, reverse(url_name))
    for _ in range(49):
        customer = CustomerFactory()
        submit(customer, clerk, credit_limit=Decimal("1"))
    fifty = queries_for(client, reverse(url_name))
    assert fifty == one


@pytest.mark.django_db
def test_my_work_items_do_not_grow_with_rows(
    client, clerk, approver, approvals_on, active_workflow
):
    client.force_login(approver)
    submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))
    one = queries_for(client, reverse("admin:workflow_workitem_changelist"))
    for _ in range(49):
        submit(
            CustomerFactory(),
            clerk,
            credit_limit=Decimal("1"),
            bank_account="DE89370400440532013000",
        )
    fifty = queries_for(client, reverse("admin:workflow_workitem_changelist"))
    assert fifty == one


@pytest.mark.django_db
def test_the_customer_list_needs_few_queries(client, clerk):
    grow_customers(50)
    client.force_login(clerk)
    # session, user, two for permissions, then the customers part (a filter list per
    # reference table, the count or its estimate, the page, the page's bank-account
    # statuses in one query), and the session's renewal.
    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("admin:customers_customer_changelist"))
    own = [q for q in captured if "customers_" in q["sql"] or "reltuples" in q["sql"]]
    assert len(own) <= 5
    assert queries_for(client, reverse("admin:customers_customer_changelist")) <= 11


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_large_unfiltered_customer_list_is_not_counted_row_by_row(client, clerk):
    from customers.models import Customer, CustomerGroup

    group = CustomerGroup.objects.create(code="99")
    Customer.objects.bulk_create(
        [
            Customer(account=f"L{n:06d}", name=f"Large {n}", customer_group=group)
            for n in range(12_000)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    client.force_login(clerk)

    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("admin:customers_customer_changelist"))
    sqls = [q["sql"] for q in captured]
    assert not [
        q for q in sqls if q.startswith("SELECT COUNT(*)") and "customers_customer" in q
    ]
    assert any("reltuples" in q for q in sqls)
    assert "12" in page.content.decode()

    from workflow.admin.pagination import EstimatedCountPaginator

    filtered = EstimatedCountPaginator(
        Customer.objects.filter(customer_group=group).order_by("pk"), 100
    )
    # A filtered list counts exactly, but no further than its pages reach: 12,000
    # matches read as "more than 10,000".
    with CaptureQueriesContext(connection) as captured:
        assert filtered.count == 10_000
    assert filtered.capped
    assert captured[0]["sql"].startswith("SELECT COUNT(*)")
    assert "LIMIT 10001" in captured[0]["sql"]
    few = EstimatedCountPaginator(
        Customer.objects.filter(account__lt="L000050").order_by("pk"), 100
    )
    assert few.count == 50
    assert not few.capped
