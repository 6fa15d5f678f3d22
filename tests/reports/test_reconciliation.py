"""The reconciliation: every change of a governed field in the period matched to its
approval or to the setting that permitted it at the time; anything else, and any value
changed without an audit row, is an exception. Empty means clean."""

from __future__ import annotations

import datetime
import os
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer
from customers.services import customer_update
from tests.conftest import propose, submit
from tests.factories import CustomerFactory
from tests.reports.conftest import exported, report_url
from workflow import registry, selectors_reports, services
from workflow.admin import reports as reports_admin
from workflow.enforcement import engine_writes
from workflow.models import AuditAction, AuditEntry, Source
from workflow.selectors_reports import Allowance, Period, ReportFilter
from workflow.services.common import write_fields

UNAUDITED = (
    "Changed without an audit row: the value differs from the last one the audit "
    "trail recorded."
)
DIRECT_UNDER_APPROVAL = (
    "Written without a proposal while the field was under approval, by no import the "
    "parameters allowed to."
)


def this_month() -> ReportFilter:
    return ReportFilter(period=Period.last_days())


def forge(instance, **values) -> None:
    """A write that carries the engine's marker but writes no audit row: what a bug in
    the engine, or someone who forged the marker in SQL, would leave behind."""
    with transaction.atomic(), engine_writes():
        type(instance).objects.filter(pk=instance.pk).update(**values)


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=open(os.devnull, "w"))


@pytest.mark.django_db
def test_the_demo_history_is_clean(demo, client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="auditor"))
    response = client.get(report_url("reconciliation"))

    result = response.context["result"]
    assert result.clean
    assert [(c.label, c.count) for c in result.counts] == [("Approved proposal", 1)]
    assert "Clean: every change in the period is matched" in response.content.decode()
    assert exported(client, "reconciliation", "csv") == []
    assert exported(client, "reconciliation", "xlsx") == []


@pytest.mark.django_db
def test_a_value_changed_with_the_forged_marker_is_an_exception(demo, client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="auditor"))
    applied = Customer.objects.get(account="C00041")
    forge(applied, credit_limit=Decimal("99000"))

    response = client.get(report_url("reconciliation"))
    rows = exported(client, "reconciliation", "csv")

    result = response.context["result"]
    assert not result.clean
    assert [
        (v.record, v.field_label, v.audited, v.current) for v in result.unaudited
    ] == [("C00041 García Componentes", "Credit limit", "45000.00", "99000.00")]
    assert UNAUDITED in response.content.decode()
    assert [
        (r["Exception"], r["Record"], r["Field"], r["Old value"], r["New value"])
        for r in rows
    ] == [
        (UNAUDITED, "C00041 García Componentes", "Credit limit", "45000.00", "99000.00")
    ]


@pytest.mark.django_db
def test_a_direct_write_while_the_field_was_under_approval_is_an_exception(
    as_auditor, customer, clerk, approvals_on
):
    """What a bug writing around the approval would leave: an audit row and no
    approval."""
    with transaction.atomic():
        write_fields(
            instance=Customer.objects.get(pk=customer.pk),
            values={"credit_limit": Decimal("50000")},
            actor=clerk,
            source=Source.BROWSER,
        )

    response = as_auditor.get(report_url("reconciliation"))
    (row,) = exported(as_auditor, "reconciliation", "xlsx")

    (exception,) = response.context["page"].rows
    assert (exception.field_label, exception.old, exception.new) == (
        "Credit limit",
        "10000.00",
        "50000.00",
    )
    assert exception.exception_reason == DIRECT_UNDER_APPROVAL
    assert (row["Exception"], row["By"], row["Source"]) == (
        DIRECT_UNDER_APPROVAL,
        "clerk",
        "Browser",
    )
    assert response.context["result"].unaudited == []


@pytest.mark.django_db
def test_a_value_written_from_a_proposal_nobody_approved_is_an_exception(
    as_auditor, customer, clerk, approver, approvals_on, active_workflow
):
    proposal = submit(customer, clerk, credit_limit=Decimal("50000"))
    with transaction.atomic():
        write_fields(
            instance=Customer.objects.get(pk=customer.pk),
            values={"credit_limit": Decimal("50000")},
            actor=clerk,
            source=Source.BROWSER,
            proposal=proposal,
        )

    (row,) = exported(as_auditor, "reconciliation", "csv")

    assert row["Exception"] == (
        f"Written from proposal {proposal.pk}, which has no recorded approval."
    )
    assert row["Proposal"] == str(proposal.pk)


@pytest.mark.django_db
def test_an_import_allowed_at_the_time_stays_matched_after_the_parameters_change(
    as_auditor, customer, clerk, approval_admin, tmp_path
):
    from workflow.importing.plan import ImportOptions

    def parameters(behaviour: str) -> None:
        services.approval_settings_update(
            model=Customer,
            approvals_enabled=True,
            data_entity_behavior=behaviour,
            enabled_fields=["credit_limit"],
            actor=approval_admin,
        )

    parameters("allow")
    path = tmp_path / "limits.csv"
    path.write_text("account;name;credit_limit\nC00001;Contoso Retail;30000\n")
    assert services.governed_records_import(
        model=Customer,
        path=path,
        file_name="limits.csv",
        options=ImportOptions(behaviour="allow"),
        actor=clerk,
        dry_run=False,
    ).ok
    parameters("propose")
    # The same kind of write once the parameters no longer allow it.
    with transaction.atomic():
        write_fields(
            instance=Customer.objects.get(pk=customer.pk),
            values={"credit_limit": Decimal("40000")},
            actor=clerk,
            source=Source.IMPORT,
        )

    result = as_auditor.get(report_url("reconciliation")).context["result"]

    assert [(c.allowance, c.count) for c in result.counts] == [
        (Allowance.IMPORT_ALLOW, 1)
    ]
    assert [(r.new, r.is_exception) for r in result.exceptions.rows] == [
        ("40000.00", True)
    ]


@pytest.mark.django_db
def test_the_change_log_and_the_reconciliation_agree_on_every_change(
    customer, clerk, approver, approval_admin, approvals_on, active_workflow
):
    """The reconciliation's queries are built from the rules a change log row is
    judged by: the two never disagree, whatever mix of changes the period holds."""
    submitted = submit(customer, clerk, credit_limit=Decimal("20000"))
    services.proposal_approve(proposal=submitted, actor=approver)
    customer_update(customer_id=customer.pk, values={"phone": "+31 5"}, actor=clerk)
    other = CustomerFactory()
    pending = submit(other, clerk, bank_account="NL20INGB0001234567")
    with transaction.atomic():
        write_fields(
            instance=Customer.objects.get(pk=other.pk),
            values={"credit_limit": Decimal("1")},
            actor=clerk,
            source=Source.BROWSER,
            proposal=pending,
        )
        write_fields(
            instance=Customer.objects.get(pk=other.pk),
            values={"payment_terms": customer.payment_terms},
            actor=None,
            source=Source.SYSTEM,
        )
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=False,
        data_entity_behavior="allow",
        enabled_fields=[],
        actor=approval_admin,
    )
    customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("30000")}, actor=clerk
    )
    propose(other, clerk, name="Other name")

    flt = this_month()
    logged = list(selectors_reports.change_log_export(flt))
    found = selectors_reports.reconciliation(flt, size=100)
    names = registry.get(Customer).governable_field_names
    governable = {r.entry_id for r in logged if r.field_name in names}

    assert (
        {r.entry_id for r in found.exceptions.rows}
        == {r.entry_id for r in logged if r.is_exception and r.entry_id in governable}
        != set()
    )
    by_allowance = {c.allowance: c.count for c in found.counts}
    assert by_allowance == {
        a: n
        for a in Allowance
        if a != Allowance.NONE
        and (
            n := sum(1 for r in logged if r.allowance == a and r.entry_id in governable)
        )
    }
    # The approved credit limit; the phone; the credit limit and the name once
    # approvals were off.
    assert by_allowance == {
        Allowance.APPROVED: 1,
        Allowance.FIELD_FREE: 1,
        Allowance.APPROVALS_OFF: 2,
    }


@pytest.mark.django_db
def test_values_are_compared_a_batch_of_records_at_a_time(roles, clerk):
    customers = [CustomerFactory() for _ in range(5)]
    for customer in customers:
        customer_update(
            customer_id=customer.pk,
            values={"credit_limit": Decimal("500")},
            actor=clerk,
        )
    forge(customers[3], credit_limit=Decimal("600"))
    customers_type = selectors_reports.governed_content_types()[0][0]

    with CaptureQueriesContext(connection) as queries:
        found = selectors_reports.unaudited_values(
            content_type_id=customers_type.pk, batch=2
        )

    assert [(v.object_id, v.audited, v.current) for v in found] == [
        (customers[3].pk, "500.00", "600.00")
    ]
    # Records and their last recorded values, two queries per batch of two records,
    # and the content types once.
    assert len(queries) <= 3 * 2 + 1


@pytest.mark.django_db
def test_a_change_outside_the_period_is_not_in_it(
    as_auditor, customer, clerk, approvals_on
):
    with transaction.atomic():
        write_fields(
            instance=Customer.objects.get(pk=customer.pk),
            values={"credit_limit": Decimal("50000")},
            actor=clerk,
            source=Source.BROWSER,
        )
    yesterday = timezone.localdate() - datetime.timedelta(days=1)

    response = as_auditor.get(
        report_url(
            "reconciliation", first=yesterday.isoformat(), last=yesterday.isoformat()
        )
    )

    assert response.context["page"].rows == []
    assert AuditEntry.objects.filter(action=AuditAction.FIELD_CHANGED).count() == 1


@pytest.mark.django_db
def test_the_reports_say_when_the_audit_trail_was_last_verified(
    as_auditor, monkeypatch
):
    """A hook for the tamper evidence: until the chain of hashes exists it says so."""
    page = as_auditor.get(report_url("reconciliation")).content.decode()
    assert "The audit trail's chain of hashes has not been verified." in page

    verified = timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 30))
    monkeypatch.setattr(
        reports_admin,
        "audit_chain_check",
        lambda: reports_admin.ChainCheck(verified, "Intact."),
    )
    page = as_auditor.get(report_url("reconciliation")).content.decode()
    assert (
        "On 03/02/2026 9:30 a.m. the audit trail's chain of hashes was last "
        "verified: Intact."
    ) in page


@pytest.mark.django_db
def test_with_many_records_the_values_are_compared_when_asked(
    as_auditor, customer, clerk, settings
):
    """Comparing reads every record: beyond REPORTS_VALUE_CHECK_RECORDS the page does
    it only on request, and until then does not call the trail clean."""
    settings.REPORTS_VALUE_CHECK_RECORDS = 0
    customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("500")}, actor=clerk
    )
    forge(customer, credit_limit=Decimal("600"))

    first = as_auditor.get(report_url("reconciliation"))
    asked = as_auditor.get(first.context["compare_url"])

    assert first.context["result"].unaudited is None
    assert not first.context["result"].clean
    page = first.content.decode()
    assert "The values were not compared with the audit trail" in page
    assert "Compare the values now" in page
    assert [(v.audited, v.current) for v in asked.context["result"].unaudited] == [
        ("500.00", "600.00")
    ]
    # The export compares them as the page does.
    assert exported(as_auditor, "reconciliation", "csv") == []
    assert [
        r["New value"] for r in exported(as_auditor, "reconciliation", "csv", values=1)
    ] == ["600.00"]


@pytest.mark.django_db
def test_a_value_written_from_a_proposal_approved_at_one_step_of_two_is_an_exception(
    as_auditor, customer, clerk, approver, manager, approvals_on, two_steps
):
    """An approval counts only once the proposal was applied: the last step decides."""
    proposal = submit(customer, clerk, credit_limit=Decimal("50000"))
    services.proposal_approve(proposal=proposal, actor=approver)
    with transaction.atomic():
        write_fields(
            instance=Customer.objects.get(pk=customer.pk),
            values={"credit_limit": Decimal("50000")},
            actor=approver,
            source=Source.BROWSER,
            proposal=proposal,
        )

    (row,) = exported(as_auditor, "reconciliation", "csv")
    (logged,) = exported(as_auditor, "changes", "csv")

    assert row["Exception"] == (
        f"Written from proposal {proposal.pk}, which has no recorded approval."
    )
    assert logged["How it was allowed"] == "No approval and no setting permitted it"


@pytest.mark.django_db
def test_the_reports_show_the_last_verification_of_the_chain(
    as_auditor, customer, clerk
):
    from workflow.selectors_audit_chain import INTACT
    from workflow.services import audit_chain as chain_services

    customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("500")}, actor=clerk
    )
    chain_services.audit_trail_seal(wait_seconds=5)
    verification = chain_services.audit_trail_verify(actor=None)

    for report in ("changes", "reconciliation", "duties", "access"):
        page = as_auditor.get(report_url(report))
        assert page.context["chain"] == reports_admin.ChainCheck(
            verification.finished_at, str(INTACT)
        )
        assert f"was last verified: {INTACT}" in page.content.decode()
