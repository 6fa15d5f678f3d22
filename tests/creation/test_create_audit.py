"""The audit trail of approval on create: the change log shows the creation's values
(old values empty) with the approval that let them in, the reconciliation is clean
after it, and a record made active around the engine is an exception. On PostgreSQL,
plain SQL cannot activate a record at all."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from customers.models import Customer
from customers.services import customer_create
from tests.reports.conftest import exported, report_url
from workflow import selectors_reports, services
from workflow.enforcement import engine_writes
from workflow.models import AuditAction, AuditEntry
from workflow.selectors import open_proposal_for
from workflow.selectors_reports import Period, ReportFilter


def this_month() -> ReportFilter:
    return ReportFilter(period=Period.last_days())


@pytest.fixture
def approved(clerk, approver, creation_needs_approval, new_values):
    customer = customer_create(values=new_values, actor=clerk)
    services.proposal_approve(
        proposal=open_proposal_for(customer), actor=approver, comment="Known to us"
    )
    customer.refresh_from_db()
    return customer


@pytest.mark.django_db
def test_the_change_log_shows_the_creation_and_its_approval(approved, as_auditor):
    rows = exported(as_auditor, "changes", "csv", record="C09001")

    by_field = {r["Field"]: r for r in rows}
    credit = by_field["Credit limit"]
    assert credit["Old value"] == "(blank)"
    assert credit["New value"] == "5000.00"
    assert credit["Approvals"].startswith("Step 1: approver, ")
    assert credit["Approvals"].endswith("“Known to us”")
    assert credit["Proposed by"].startswith("clerk (")
    assert credit["Submitted by"].startswith("clerk (")
    assert credit["How it was allowed"] == "Approved proposal"
    assert {"Name", "Bank account (IBAN)", "Customer group"} <= set(by_field)


@pytest.mark.django_db
def test_the_reconciliation_is_clean_after_an_approved_creation(approved):
    result = selectors_reports.reconciliation(this_month())

    assert result.clean
    written = AuditEntry.objects.filter(
        action=AuditAction.FIELD_CHANGED, object_id=approved.pk
    ).count()
    assert written >= 6
    assert [(c.label, c.count) for c in result.counts] == [
        ("Approved proposal", written)
    ]


@pytest.mark.django_db
def test_a_record_activated_around_the_engine_is_an_exception(
    clerk, approver, creation_needs_approval, new_values, as_auditor
):
    customer = customer_create(values=new_values, actor=clerk)
    # The engine's marker forged: what a bug, or SQL that set it, would leave.
    with transaction.atomic(), engine_writes():
        Customer.objects.filter(pk=customer.pk).update(record_status="active")

    result = selectors_reports.reconciliation(this_month())

    assert not result.clean
    assert [
        (v.record, v.field_label, v.audited, v.current) for v in result.unaudited
    ] == [("C09001 Fabrikam New", "Record status", "Awaiting approval", "Active")]
    page = as_auditor.get(report_url("reconciliation"))
    assert "Record status" in page.content.decode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_plain_sql_cannot_activate_a_record(
    clerk, approver, creation_needs_approval, new_values
):
    customer = customer_create(values=new_values, actor=clerk)

    with pytest.raises(DatabaseError) as refused:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE customers_customer SET record_status = 'active' WHERE id = %s",
                [customer.pk],
            )
    assert "a record becomes active only when the approval engine approves" in str(
        refused.value
    )
    customer.refresh_from_db()
    assert customer.record_status == "awaiting"

    # The engine's approval passes the trigger.
    services.proposal_approve(proposal=open_proposal_for(customer), actor=approver)
    customer.refresh_from_db()
    assert customer.record_status == "active"
