"""Faults part-way through: everything rolls back, the proposal stays pending."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import submit
from workflow import services
from workflow.models import ProposalState


@pytest.mark.django_db
def test_an_audit_failure_during_apply_rolls_everything_back(
    customer, clerk, approver, approvals_on, active_workflow, monkeypatch
):
    proposal = submit(
        customer,
        clerk,
        credit_limit=Decimal("25000"),
        bank_account="DE89370400440532013000",
    )

    def broken_audit(entries):
        raise RuntimeError("the audit table is full")

    monkeypatch.setattr("workflow.services.common.audit_write", broken_audit)
    with pytest.raises(RuntimeError):
        services.proposal_approve(proposal=proposal, actor=approver)

    proposal.refresh_from_db()
    customer.refresh_from_db()
    assert proposal.state == ProposalState.PENDING
    assert proposal.work_items.get(assignee=approver).state == "open"
    assert (customer.credit_limit, customer.bank_account) == (
        Decimal("10000.00"),
        "NL91ABNA0417164300",
    )


@pytest.mark.django_db
def test_an_audit_failure_part_way_through_an_import_writes_nothing(
    customer, importer_user, tmp_path, monkeypatch
):
    from customers.models import Customer
    from workflow.importing.plan import ImportOptions

    path = tmp_path / "f.csv"
    path.write_text("account;name;customer_group\nC00900;A;10\nC00001;Renamed;10\n")
    monkeypatch.setattr(
        "workflow.services.imports.audit_rows_write",
        lambda entries: (_ for _ in ()).throw(RuntimeError("disk full")),
    )
    with pytest.raises(RuntimeError, match="disk full"):
        services.governed_records_import(
            model=Customer,
            path=path,
            file_name="f.csv",
            options=ImportOptions(behaviour="allow"),
            actor=importer_user,
            dry_run=False,
        )
    assert not Customer.objects.filter(account="C00900").exists()
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"


@pytest.mark.django_db
def test_a_double_click_on_approve_after_it_applied_says_there_is_nothing_left(
    customer, clerk, approver, approver2, approvals_on, active_workflow, client
):
    from django.urls import reverse
    from django.utils import timezone

    from workflow.models import AuditAction, AuditEntry

    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    client.force_login(approver)
    url = reverse("admin:customers_customer_workflow", args=[customer.pk, "approve"])
    shown_at = timezone.now().isoformat()
    client.post(url, {"comment": "", "shown_at": shown_at})
    second = client.post(url, {"comment": "", "shown_at": shown_at})
    assert second.status_code == 200
    # The first click applied the proposal: the second is told so, and by whom.
    assert (
        second.context["error"]
        == "This proposal was already decided; its status is now: Applied."
    )
    assert second.context["meanwhile"].startswith("Approved by approver at ")
    assert (
        AuditEntry.objects.filter(proposal=proposal, action=AuditAction.APPLIED).count()
        == 1
    )


@pytest.mark.django_db
def test_a_double_click_on_approve_while_the_step_waits_is_answered_already_decided(
    customer, clerk, approver, approver2, approvals_on, approval_admin, client
):
    from django.urls import reverse

    from tests.conftest import make_workflow
    from workflow.exceptions import ALREADY_DECIDED_STEP
    from workflow.models import AuditAction, AuditEntry, CompletionPolicy

    make_workflow(
        approval_admin,
        {"users": [approver, approver2], "completion_policy": CompletionPolicy.ALL},
    )
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    client.force_login(approver)
    url = reverse("admin:customers_customer_workflow", args=[customer.pk, "approve"])
    client.post(url, {"comment": ""})
    second = client.post(url, {"comment": ""}, follow=True)
    assert second.status_code == 200
    assert str(ALREADY_DECIDED_STEP) in second.content.decode()
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PENDING
    assert (
        AuditEntry.objects.filter(
            proposal=proposal, action=AuditAction.APPROVED, actor=approver
        ).count()
        == 1
    )
