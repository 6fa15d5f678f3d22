"""Imports when new customers wait for approval: "propose" creates them awaiting
approval, one creation proposal per row, in batches; "reject" refuses them; "allow"
creates them active. A reference to a customer that may not be used fails its row."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.models import Customer
from tests.factories import CustomerFactory, CustomerGroupFactory
from workflow import services
from workflow.importing.plan import ImportOptions
from workflow.models import (
    AuditAction,
    AuditEntry,
    ChangeProposal,
    DataEntityBehavior,
    ProposalState,
    WorkItem,
)
from workflow.services import governed_records_import

HEADER = "account;name;customer_group;credit_limit;invoice_account\n"


@pytest.fixture
def importer(clerk):
    return clerk


@pytest.fixture
def run(tmp_path, importer, group):
    def run(text: str, behaviour="propose", dry_run=False):
        path = tmp_path / "new.csv"
        path.write_text(text)
        return governed_records_import(
            model=Customer,
            path=path,
            file_name="new.csv",
            options=ImportOptions(behaviour=behaviour),
            actor=importer,
            dry_run=dry_run,
        )

    return run


@pytest.fixture
def group(db):
    return CustomerGroupFactory(code="10")


def _allow_imports(approval_admin, behaviour):
    from tests.conftest import GOVERNED_FIELDS

    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=behaviour,
        enabled_fields=GOVERNED_FIELDS,
        new_records_need_approval=True,
        actor=approval_admin,
    )


@pytest.mark.django_db
def test_propose_creates_each_new_row_awaiting_approval_with_its_own_proposal(
    run, approver, creation_needs_approval
):
    report = run(HEADER + "N00001;New one;10;1000;\nN00002;New two;10;2000;\n")

    assert report.ok, report.errors
    assert report.counts["new"] == 2 and report.counts["proposals"] == 2
    customers = Customer.objects.filter(account__startswith="N").order_by("account")
    assert [c.record_status for c in customers] == ["awaiting", "awaiting"]
    proposals = ChangeProposal.objects.filter(creates_record=True).order_by("object_id")
    assert [p.state for p in proposals] == [ProposalState.PENDING] * 2
    changes = {c.field_name: c for c in proposals[0].changes.all()}
    assert changes["credit_limit"].original_value is None
    assert changes["credit_limit"].proposed_value == "1000.00"
    assert changes["customer_group"].proposed_value == group_pk()
    assert WorkItem.objects.filter(assignee=approver).count() == 2
    assert AuditEntry.objects.filter(
        action=AuditAction.FIELD_PROPOSED, proposal__in=proposals
    ).exists()

    services.proposal_approve(proposal=proposals[0], actor=approver)
    first = customers[0]
    first.refresh_from_db()
    assert first.record_status == "active"
    assert first.credit_limit == Decimal("1000.00")


def group_pk():
    from customers.models import CustomerGroup

    return CustomerGroup.objects.get(code="10").pk


@pytest.mark.django_db
def test_the_preview_counts_the_creation_proposals_and_writes_nothing(
    run, approver, creation_needs_approval
):
    report = run(HEADER + "N00001;New one;10;1000;\n", dry_run=True)

    assert report.ok and report.counts["proposals"] == 1
    assert report.rows[0]["awaiting_approval"] is True
    assert not Customer.objects.filter(account="N00001").exists()


@pytest.mark.django_db
def test_reject_refuses_new_rows_naming_row_and_account(
    run, approval_admin, creation_needs_approval
):
    _allow_imports(approval_admin, DataEntityBehavior.REJECT)
    report = run(HEADER + "N00001;New one;10;1000;\n", behaviour="reject")

    assert not report.ok
    error = report.errors[0]
    assert error["line"] == 2 and error["column"] == "account"
    assert (
        "Customer N00001 was not created: new customers wait for approval"
        in (error["message"])
    )
    assert not Customer.objects.filter(account="N00001").exists()


@pytest.mark.django_db
def test_allow_creates_new_rows_active(run, approval_admin, creation_needs_approval):
    _allow_imports(approval_admin, DataEntityBehavior.ALLOW)
    report = run(HEADER + "N00001;New one;10;1000;\n", behaviour="allow")

    assert report.ok, report.errors
    assert Customer.objects.get(account="N00001").record_status == "active"
    assert not ChangeProposal.objects.filter(creates_record=True).exists()


@pytest.mark.django_db
def test_an_invoice_account_awaiting_approval_fails_the_row_naming_field_and_value(
    run, creation_needs_approval
):
    CustomerFactory(account="W00001", record_status="awaiting")
    report = run(HEADER + "N00001;New one;10;1000;W00001\n")

    assert not report.ok
    error = report.errors[0]
    assert (error["line"], error["column"], error["value"]) == (
        2,
        "invoice_account",
        "W00001",
    )
    assert error["message"] == (
        "Customer W00001 cannot be used as invoice account: its status is "
        "“Awaiting approval”. A record is used only once its creation is approved."
    )
    assert not Customer.objects.filter(account="N00001").exists()


@pytest.mark.django_db
def test_an_invoice_account_created_awaiting_by_the_same_file_fails_the_row(
    run, approver, creation_needs_approval
):
    report = run(HEADER + "N00001;New one;10;1000;\nN00002;New two;10;5;N00001\n")

    assert not report.ok
    assert report.errors[0]["line"] == 3
    assert report.errors[0]["column"] == "invoice_account"
    assert "“Awaiting approval”" in report.errors[0]["message"]


@pytest.mark.django_db
def test_a_customer_not_active_is_changed_on_its_page_not_by_an_import(
    run, approver, creation_needs_approval
):
    CustomerFactory(account="W00001", name="Waiting", record_status="rejected")
    report = run("account;name;credit_limit\nW00001;Waiting;99\n")

    assert not report.ok
    assert report.errors[0]["line"] == 2
    assert "its status is “Rejected”" in report.errors[0]["message"]


@pytest.mark.django_db
def test_a_large_import_creates_every_row_awaiting_in_batches(
    run, approver, creation_needs_approval
):
    rows = "".join(f"N{n:05d};Customer {n};10;{n};\n" for n in range(1200))
    report = run(HEADER + rows)

    assert report.ok, report.errors[:3]
    assert Customer.objects.filter(record_status="awaiting").count() == 1200
    assert (
        ChangeProposal.objects.filter(
            creates_record=True, state=ProposalState.PENDING
        ).count()
        == 1200
    )


@pytest.mark.django_db
def test_creation_proposals_cost_queries_per_batch_not_per_row(
    tmp_path, clerk, approver, creation_needs_approval, monkeypatch, group
):
    from tests.performance.test_import_queries import import_queries
    from workflow.importing import plan

    monkeypatch.setattr(plan, "BATCH_SIZE", 10)
    import_queries(tmp_path, clerk, 1, "propose", existing=False, start=99)
    ten = import_queries(tmp_path, clerk, 10, "propose", existing=False, start=100)
    thirty = import_queries(tmp_path, clerk, 30, "propose", existing=False, start=200)
    # Three batches cost three times one (the audit rows' insert may be split by
    # SQLite's limit of parameters per statement: still per batch, not per row).
    assert thirty <= 3 * ten


@pytest.mark.django_db
def test_import_data_follows_the_behaviour_for_new_rows(
    clerk, approver, approval_admin, creation_needs_approval, group
):
    """The scripted import (django-import-export's import_data) decides new rows as
    the Import page does."""
    import tablib

    from customers.resources import CustomerResource

    dataset = tablib.Dataset(headers=["account", "name", "customer_group"])
    dataset.append(["D00001", "Scripted", "10"])
    result = CustomerResource().import_data(dataset, user=clerk, behaviour="propose")
    assert not result.has_errors() and not result.has_validation_errors()
    assert Customer.objects.get(account="D00001").record_status == "awaiting"

    _allow_imports(approval_admin, DataEntityBehavior.REJECT)
    dataset = tablib.Dataset(headers=["account", "name", "customer_group"])
    dataset.append(["D00002", "Refused", "10"])
    result = CustomerResource().import_data(dataset, user=clerk, behaviour="reject")
    assert result.has_validation_errors()
    messages = [str(e) for row in result.invalid_rows for e in row.error.messages]
    assert any(
        "Customer D00002 was not created: new customers wait for approval" in m
        for m in messages
    )
    assert not Customer.objects.filter(account="D00002").exists()


@pytest.mark.django_db
def test_a_creation_whose_every_step_is_skipped_is_applied_with_its_batch(
    run, approver, approval_admin, roles
):
    """The import applies at once, in its batch, what needs no approval: a creation
    whose workflow has no step that applies is active at once, audited as such."""
    from customers.management.commands.seed_demo import APPROVERS
    from tests.conftest import GOVERNED_FIELDS, make_workflow

    make_workflow(
        approval_admin,
        {
            "assigned_group": roles[APPROVERS],
            "condition_kind": "changes",
            "condition_field": "bank_account",
        },
    )
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=DataEntityBehavior.PROPOSE,
        enabled_fields=GOVERNED_FIELDS,
        new_records_need_approval=True,
        actor=approval_admin,
    )
    report = run(HEADER + "N00001;No bank;10;1000;\n")

    assert report.ok, report.errors
    customer = Customer.objects.get(account="N00001")
    assert customer.record_status == "active"
    proposal = ChangeProposal.objects.get(creates_record=True)
    assert proposal.state == ProposalState.APPLIED
    actions = set(
        AuditEntry.objects.filter(proposal=proposal).values_list("action", flat=True)
    )
    assert {
        AuditAction.RECORD_AWAITING,
        AuditAction.STEP_SKIPPED,
        AuditAction.APPLIED,
        AuditAction.RECORD_ACTIVATED,
    } <= actions
    written = AuditEntry.objects.get(
        proposal=proposal, action=AuditAction.FIELD_CHANGED, field_name="credit_limit"
    )
    assert written.old_value is None and written.new_value == "1000.00"
