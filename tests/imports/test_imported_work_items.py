"""The work items of an imported proposal are those of one submitted on its page: the
step's approvers, due when its time limit passes, escalated when it does."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from customers.models import Customer
from tests.conftest import make_workflow, submit
from tests.factories import CustomerFactory
from workflow import services
from workflow.importing.plan import ImportOptions
from workflow.models import (
    ChangeProposal,
    EscalationAction,
    ProposalState,
    TimeUnit,
    WorkItemState,
)

START = timezone.datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def two_hour_step(approval_admin, approver, approver2, approvals_on):
    return make_workflow(
        approval_admin,
        {
            "users": [approver, approver2],
            "time_limit_value": 2,
            "time_limit_unit": TimeUnit.HOURS,
            "escalation_action": EscalationAction.APPROVE,
        },
    )


def items_of(proposal: ChangeProposal) -> list[tuple]:
    return sorted(
        (
            item.assignee.username,
            item.state,
            item.due_at - item.created_at,
            item.submission_round,
            item.comment,
        )
        for item in proposal.work_items.select_related("assignee")
    )


@pytest.mark.django_db
def test_imported_proposal_waits_with_the_items_of_one_from_its_page(
    two_hour_step, clerk, tmp_path
):
    on_page, imported = (
        CustomerFactory(account=f"W{n}", name=f"Waiting {n}", credit_limit=1000)
        for n in range(2)
    )
    with time_machine.travel(START, tick=False):
        from_page = submit(on_page, clerk, credit_limit=Decimal("2000"))
        path = tmp_path / "raise.csv"
        path.write_text("account;name;credit_limit\nW1;Waiting 1;2000\n")
        report = services.governed_records_import(
            model=Customer,
            path=path,
            file_name=path.name,
            options=ImportOptions(behaviour="propose"),
            actor=clerk,
            dry_run=False,
        )
    assert report.ok, report.as_dict()
    from_file = ChangeProposal.objects.get(object_id=imported.pk)

    assert from_file.state == ProposalState.PENDING
    assert items_of(from_file) == items_of(from_page)
    assert items_of(from_file) == [
        ("approver", WorkItemState.OPEN, timedelta(hours=2), 1, ""),
        ("approver2", WorkItemState.OPEN, timedelta(hours=2), 1, ""),
    ]
    assert {i.due_at for i in from_file.work_items.all()} == {
        START + timedelta(hours=2)
    }

    with time_machine.travel(START + timedelta(hours=3), tick=False):
        assert services.work_items_escalate_overdue() == 2
    from_file.refresh_from_db()
    imported.refresh_from_db()
    assert from_file.state == ProposalState.APPLIED
    assert imported.credit_limit == Decimal("2000")
