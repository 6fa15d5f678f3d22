"""Time limits: past the limit a step is reassigned, approved or rejected by the system."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import make_workflow, submit
from tests.factories import UserFactory
from workflow import services
from workflow.models import (
    AuditAction,
    EscalationAction,
    ProposalState,
    TimeUnit,
    WorkItemState,
)

START = timezone.datetime(2026, 3, 2, 9, 0, tzinfo=timezone.get_current_timezone())


def late_workflow(admin, approver, action, **extra):
    return make_workflow(
        admin,
        {
            "users": [approver],
            "time_limit_value": 2,
            "time_limit_unit": TimeUnit.HOURS,
            "escalation_action": action,
            **extra,
        },
    )


@pytest.fixture
def supervisor(roles):
    user = UserFactory(username="supervisor")
    user.groups.add(roles["Finance managers"])
    return user


@pytest.mark.django_db
def test_nothing_escalates_before_the_limit(
    customer, clerk, approver, approvals_on, approval_admin
):
    late_workflow(approval_admin, approver, EscalationAction.APPROVE)
    with time_machine.travel(START, tick=False):
        proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    assert proposal.work_items.get().due_at == START + timedelta(hours=2)
    with time_machine.travel(START + timedelta(hours=1, minutes=59), tick=False):
        assert services.work_items_escalate_overdue() == 0
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PENDING


@pytest.mark.django_db
def test_overdue_step_is_reassigned(
    customer, clerk, approver, supervisor, approvals_on, approval_admin, roles
):
    late_workflow(
        approval_admin,
        approver,
        EscalationAction.REASSIGN,
        escalate_to_group=roles["Finance managers"],
    )
    with time_machine.travel(START, tick=False):
        proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    with time_machine.travel(START + timedelta(hours=3), tick=False):
        assert services.work_items_escalate_overdue() == 1

    items = {
        i.assignee.username: i.state
        for i in proposal.work_items.select_related("assignee")
    }
    assert items == {
        "approver": WorkItemState.ESCALATED,
        "supervisor": WorkItemState.OPEN,
    }
    entry = proposal.audit_entries.get(action=AuditAction.ESCALATED)
    assert entry.actor is None
    assert entry.source == "system"
    assert "reassigned to supervisor" in entry.comment
    proposal = services.proposal_approve(proposal=proposal, actor=supervisor)
    assert proposal.state == ProposalState.APPLIED


@pytest.mark.django_db
def test_overdue_step_is_approved_by_the_system(
    customer, clerk, approver, approvals_on, approval_admin
):
    late_workflow(approval_admin, approver, EscalationAction.APPROVE)
    with time_machine.travel(START, tick=False):
        proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    with time_machine.travel(START + timedelta(hours=3), tick=False):
        out = StringIO()
        call_command("process_escalations", stdout=out)
    assert "Escalated 1" in out.getvalue()
    proposal.refresh_from_db()
    customer.refresh_from_db()
    assert proposal.state == ProposalState.APPLIED
    assert customer.credit_limit == Decimal("1.00")
    assert (
        "approved by the system"
        in proposal.audit_entries.get(action=AuditAction.ESCALATED).comment
    )


@pytest.mark.django_db
def test_overdue_step_is_rejected_by_the_system(
    customer, clerk, approver, approvals_on, approval_admin
):
    late_workflow(approval_admin, approver, EscalationAction.REJECT)
    with time_machine.travel(START, tick=False):
        proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    with time_machine.travel(START + timedelta(days=1), tick=False):
        services.work_items_escalate_overdue()
    proposal.refresh_from_db()
    customer.refresh_from_db()
    assert proposal.state == ProposalState.REJECTED
    assert customer.credit_limit == Decimal("10000.00")


@pytest.mark.django_db
def test_time_limit_in_days(customer, clerk, approver, approvals_on, approval_admin):
    make_workflow(
        approval_admin,
        {"users": [approver], "time_limit_value": 3, "time_limit_unit": TimeUnit.DAYS},
    )
    with time_machine.travel(START, tick=False):
        proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    assert proposal.work_items.get().due_at == START + timedelta(days=3)
