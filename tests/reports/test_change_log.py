"""The change log: every change of a governed record's field in a period, with who
proposed, submitted and approved it, where it came from and what allowed it; as a page
and as CSV and XLSX."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from customers.models import Customer
from customers.services import customer_update
from tests.conftest import submit
from tests.factories import CustomerFactory
from tests.reports.conftest import exported, report_url
from workflow import selectors_reports, services
from workflow.models import AuditAction, AuditEntry
from workflow.report_exports import when

CREDIT_CHECKED = "Checked the credit report."
WITHIN_LIMIT = "Within my limit."


def at(action: str, **filters) -> str:
    """When the audit trail says `action` happened, as the exports write it."""
    entry = AuditEntry.objects.filter(action=action, **filters).latest("id")
    return when(entry.created_at)


@pytest.fixture
def approved_in_two_steps(customer, clerk, approver, manager, approvals_on, two_steps):
    """The clerk raises the credit limit; the approver and then the finance manager
    approve it, each with a comment."""
    proposal = submit(customer, clerk, credit_limit=Decimal("25000"))
    services.proposal_approve(proposal=proposal, actor=approver, comment=CREDIT_CHECKED)
    services.proposal_approve(proposal=proposal, actor=manager, comment=WITHIN_LIMIT)
    return proposal


def expected_row(proposal) -> dict[str, str]:
    return {
        "Audit row": str(
            AuditEntry.objects.get(
                action=AuditAction.FIELD_CHANGED, proposal=proposal
            ).pk
        ),
        "Changed at": at(AuditAction.FIELD_CHANGED, proposal=proposal),
        "Model": "Customer",
        "Record": "C00001 Contoso Retail",
        "Field": "Credit limit",
        "Old value": "10000.00",
        "New value": "25000.00",
        "Proposal": str(proposal.pk),
        "Proposed by": f"clerk ({at(AuditAction.FIELD_PROPOSED)})",
        "Submitted by": (
            f"clerk ({at(AuditAction.SUBMITTED)}) “Sent to Test workflow (v1).”"
        ),
        "Approvals": (
            f"Step 1: approver, {at(AuditAction.APPROVED, actor_name='approver')} "
            f"“{CREDIT_CHECKED}”\n"
            f"Step 2: manager, {at(AuditAction.APPROVED, actor_name='manager')} "
            f"“{WITHIN_LIMIT}”"
        ),
        "Source": "Browser",
        "How it was allowed": "Approved proposal",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_has_old_and_new_value_every_approver_and_their_comments(
    as_auditor, approved_in_two_steps, fmt
):
    rows = exported(as_auditor, "changes", fmt)

    assert [{k: str(v) for k, v in r.items()} for r in rows] == [
        expected_row(approved_in_two_steps)
    ]


@pytest.mark.django_db
def test_the_page_shows_the_change_with_each_step_and_comment(
    as_auditor, approved_in_two_steps
):
    response = as_auditor.get(report_url("changes"))

    assert response.status_code == 200
    (row,) = response.context["page"].rows
    assert (row.record, row.field_label, row.old, row.new) == (
        "C00001 Contoso Retail",
        "Credit limit",
        "10000.00",
        "25000.00",
    )
    assert [s.who for s in row.proposed] == ["clerk"]
    assert [s.who for s in row.submitted] == ["clerk"]
    assert [(s.step, s.who, s.comment) for s in row.approvals] == [
        ("Step 1", "approver", CREDIT_CHECKED),
        ("Step 2", "manager", WITHIN_LIMIT),
    ]
    assert (row.source, row.allowed_by) == ("Browser", "Approved proposal")
    page = response.content.decode()
    assert "Step 2: manager, " in page
    assert f"“{WITHIN_LIMIT}”" in page
    assert "Approved proposal" in page


@pytest.mark.django_db
def test_a_change_allowed_because_approvals_were_off_then_says_so_after_they_are_on(
    as_auditor, customer, clerk, approval_admin
):
    """The parameters of the time count, read back from their audit rows, not today's."""
    customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("12000")}, actor=clerk
    )
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior="propose",
        enabled_fields=["credit_limit"],
        actor=approval_admin,
    )
    customer_update(
        customer_id=customer.pk, values={"name": "Contoso Retail BV"}, actor=clerk
    )

    rows = exported(as_auditor, "changes", "csv")

    assert [(r["Field"], r["How it was allowed"], r["Proposed by"]) for r in rows] == [
        (
            "Credit limit",
            "Approvals off for the model at the time",
            f"clerk ({at(AuditAction.FIELD_CHANGED, field_name='credit_limit')})",
        ),
        (
            "Name",
            "Field not under approval at the time",
            f"clerk ({at(AuditAction.FIELD_CHANGED, field_name='name')})",
        ),
    ]


@pytest.mark.django_db
def test_an_import_names_its_file_and_the_setting_that_let_it_write(
    as_auditor, customer, clerk, approval_admin, tmp_path
):
    from workflow.importing.plan import ImportOptions

    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior="allow",
        enabled_fields=["credit_limit"],
        actor=approval_admin,
    )
    path = tmp_path / "limits.csv"
    path.write_text("account;name;credit_limit\nC00001;Contoso Retail;30000\n")
    report = services.governed_records_import(
        model=Customer,
        path=path,
        file_name="limits.csv",
        options=ImportOptions(behaviour="allow"),
        actor=clerk,
        dry_run=False,
    )
    assert report.ok, report.as_dict()

    (row,) = exported(as_auditor, "changes", "csv")

    assert (row["Field"], row["Old value"], row["New value"]) == (
        "Credit limit",
        "10000.00",
        "30000.00",
    )
    assert row["Source"] == "Import: From the file limits.csv."
    assert row["How it was allowed"] == (
        "Import with “Allow changes without approval”, as the parameters allowed "
        "at the time"
    )


@pytest.mark.django_db
def test_a_proposal_from_an_import_names_its_file_once_applied(
    as_auditor, customer, clerk, approver, approvals_on, active_workflow, tmp_path
):
    from workflow.importing.plan import ImportOptions

    path = tmp_path / "limits.csv"
    path.write_text("account;name;credit_limit\nC00001;Contoso Retail;30000\n")
    services.governed_records_import(
        model=Customer,
        path=path,
        file_name="limits.csv",
        options=ImportOptions(behaviour="propose"),
        actor=clerk,
        dry_run=False,
    )
    proposal = customer_proposal(customer)
    services.proposal_approve(proposal=proposal, actor=approver, comment="Fine.")

    (row,) = exported(as_auditor, "changes", "xlsx")

    assert row["Source"] == "Import: From the file limits.csv."
    assert row["Approvals"].startswith("Step 1: approver, ")
    assert row["How it was allowed"] == "Approved proposal"


def customer_proposal(customer):
    from workflow.selectors import open_proposal_for

    return open_proposal_for(customer)


@pytest.mark.django_db
def test_filters_narrow_to_a_model_record_field_and_period(
    as_auditor, clerk, roles, approval_admin
):
    first = CustomerFactory(account="C00001", name="Contoso Retail")
    second = CustomerFactory(account="C00002", name="Fabrikam")
    for customer in (first, second):
        customer_update(
            customer_id=customer.pk,
            values={"name": customer.name + " BV", "phone": "+31 1"},
            actor=clerk,
        )
    customers = selectors_reports.governed_content_types()[0][0]

    def fields(**query):
        return [
            (r["Record"], r["Field"])
            for r in exported(as_auditor, "changes", "csv", **query)
        ]

    assert fields(model=customers.pk, record="c00002", field="phone") == [
        ("C00002 Fabrikam BV", "Phone")
    ]
    assert fields(record="Contoso", field="name") == [
        ("C00001 Contoso Retail BV", "Name")
    ]
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert fields(first=tomorrow.isoformat(), last=tomorrow.isoformat()) == []


@pytest.mark.django_db
def test_a_period_that_ends_before_it_starts_is_refused(as_auditor):
    response = as_auditor.get(
        report_url("changes", first="2026-02-01", last="2026-01-01")
    )

    assert response.status_code == 200
    assert "The period ends before it starts." in response.content.decode()
    assert "page" not in response.context


@pytest.mark.django_db
def test_the_export_writes_no_formula_a_record_name_could_start(
    as_auditor, clerk, roles
):
    customer = CustomerFactory(account="C00001", name="Contoso")
    customer_update(
        customer_id=customer.pk, values={"name": '=HYPERLINK("x")'}, actor=clerk
    )

    for fmt in ("csv", "xlsx"):
        (row,) = exported(as_auditor, "changes", fmt)
        assert row["New value"] == '\'=HYPERLINK("x")'
        assert row["Record"] == 'C00001 =HYPERLINK("x")'


@pytest.mark.django_db
def test_the_page_and_export_are_in_dutch_for_a_dutch_reader(
    as_auditor, approved_in_two_steps
):
    as_auditor.cookies["django_language"] = "nl"

    page = as_auditor.get(report_url("changes")).content.decode()
    (row,) = exported(as_auditor, "changes", "csv")

    assert "Wijzigingslogboek" in page
    assert "Goedgekeurd voorstel" in page
    assert (row["Veld"], row["Oude waarde"], row["Nieuwe waarde"]) == (
        "Kredietlimiet",
        "10000,00",
        "25000,00",
    )
    assert row["Hoe het werd toegestaan"] == "Goedgekeurd voorstel"


@pytest.mark.django_db
def test_a_page_costs_the_same_queries_for_few_and_many_changes(
    as_auditor, clerk, roles, approver, approvals_on, active_workflow
):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert as_auditor.get(report_url("changes")).status_code == 200
        return len(queries)

    def change_some(count: int) -> None:
        for _ in range(count):
            customer = CustomerFactory()
            proposal = submit(customer, clerk, credit_limit=Decimal("20000"))
            services.proposal_approve(proposal=proposal, actor=approver)
            customer_update(
                customer_id=customer.pk, values={"phone": "+31 2"}, actor=clerk
            )

    change_some(2)
    page_queries()  # the first request fills the caches of content types
    few = page_queries()
    change_some(12)
    many = page_queries()

    assert few == many


@pytest.mark.django_db
def test_pages_follow_each_other_by_key(as_auditor, clerk, roles, monkeypatch):
    monkeypatch.setattr(selectors_reports, "PAGE_SIZE", 2)
    customer = CustomerFactory(account="C00001", name="Contoso")
    for city in ("Delft", "Leiden", "Gouda", "Breda", "Assen"):
        customer_update(customer_id=customer.pk, values={"city": city}, actor=clerk)

    def cities(response) -> list[str]:
        return [row.new for row in response.context["page"].rows]

    first = as_auditor.get(report_url("changes"))
    second = as_auditor.get(first.context["next_url"])
    third = as_auditor.get(second.context["next_url"])
    back = as_auditor.get(third.context["previous_url"])

    assert cities(first) == ["Delft", "Leiden"]
    assert cities(second) == ["Gouda", "Breda"]
    assert cities(third) == ["Assen"]
    assert third.context["next_url"] == ""
    assert cities(back) == ["Gouda", "Breda"]
    assert first.context["page"].count == 5


@pytest.mark.django_db
def test_the_export_reads_a_fixed_number_of_rows_at_a_time(
    as_auditor, clerk, roles, monkeypatch
):
    """An export streams: each chunk is read with its own queries, never all at once."""
    monkeypatch.setattr(selectors_reports, "EXPORT_CHUNK", 2)
    customer = CustomerFactory(account="C00001", name="Contoso")
    for city in ("Delft", "Leiden", "Gouda", "Breda", "Assen"):
        customer_update(customer_id=customer.pk, values={"city": city}, actor=clerk)

    rows = exported(as_auditor, "changes", "csv")

    assert [r["New value"] for r in rows] == [
        "Delft",
        "Leiden",
        "Gouda",
        "Breda",
        "Assen",
    ]


@pytest.mark.django_db
def test_no_change_in_the_period_says_so(as_auditor):
    with translation.override("en"):
        page = as_auditor.get(report_url("changes")).content.decode()

    assert "No field of a record under approval changed in this period." in page


@pytest.mark.django_db
def test_the_submitters_justification_is_in_the_change_log(
    as_auditor, customer, clerk, approver, approvals_on, active_workflow
):
    from tests.conftest import propose

    proposal = services.proposal_submit(
        proposal=propose(customer, clerk, credit_limit=Decimal("25000")),
        actor=clerk,
        justification="New contract signed in March.",
    )
    services.proposal_approve(proposal=proposal, actor=approver)

    (row,) = exported(as_auditor, "changes", "csv")

    assert row["Submitted by"] == (
        f"clerk ({at(AuditAction.SUBMITTED)}) “Sent to Test workflow (v1). "
        "Justification: New contract signed in March.”"
    )


@pytest.mark.django_db
def test_a_change_log_too_long_for_one_download_is_refused_saying_so(
    as_auditor, clerk, roles, settings
):
    settings.REPORTS_EXPORT_MAX_ROWS = 2
    customer = CustomerFactory(account="C00001", name="Contoso")
    for city in ("Delft", "Leiden", "Gouda"):
        customer_update(customer_id=customer.pk, values={"city": city}, actor=clerk)

    refused = as_auditor.get(report_url("changes", export="csv"), follow=True)

    assert refused.redirect_chain == [(report_url("changes"), 302)]
    assert (
        "The change log has more than 2 rows in this period, more than one download "
        "holds: choose a shorter period, a model or a field."
    ) in refused.content.decode()
    settings.REPORTS_EXPORT_MAX_ROWS = 3
    assert [r["New value"] for r in exported(as_auditor, "changes", "xlsx")] == [
        "Delft",
        "Leiden",
        "Gouda",
    ]
