"""Two escalation loops (two hosts running `process_escalations --every`) pass over the
same overdue work items at the same moment: each overdue step escalates once."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import close_old_connections, connection

from tests.conftest import submit
from tests.factories import CustomerFactory, UserFactory
from tests.workflow.test_escalation import START, late_workflow
from workflow import services
from workflow.models import (
    AuditAction,
    AuditEntry,
    EscalationAction,
    ProposalState,
    WorkItemState,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PROPOSALS = 20
LATER = START + timedelta(hours=3)


def two_loops_at_once() -> list[object]:
    """One escalation pass on each of two threads, each with its own connection,
    released together."""
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def loop(index: int) -> None:
        close_old_connections()
        try:
            barrier.wait()
            results[index] = services.work_items_escalate_overdue(now=LATER)
        except Exception as error:  # noqa: BLE001 - the test looks at what each got
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_two_loops_reassign_each_overdue_step_once(
    approval_admin, approver, roles, clerk, approvals_on
):
    supervisor = UserFactory(username="supervisor")
    supervisor.groups.add(roles["Finance managers"])
    late_workflow(
        approval_admin,
        approver,
        EscalationAction.REASSIGN,
        escalate_to_group=roles["Finance managers"],
    )
    with time_machine.travel(START, tick=False):
        proposals = [
            submit(CustomerFactory(), clerk, credit_limit=Decimal(n + 1))
            for n in range(PROPOSALS)
        ]

    results = two_loops_at_once()

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == PROPOSALS
    for proposal in proposals:
        items = sorted(
            (item.assignee.username, item.state)
            for item in proposal.work_items.select_related("assignee")
        )
        assert items == [
            ("approver", WorkItemState.ESCALATED),
            ("supervisor", WorkItemState.OPEN),
        ]
        assert proposal.audit_entries.filter(action=AuditAction.ESCALATED).count() == 1


def test_two_loops_approve_each_overdue_step_once(
    approval_admin, approver, clerk, approvals_on
):
    late_workflow(approval_admin, approver, EscalationAction.APPROVE)
    with time_machine.travel(START, tick=False):
        proposals = [
            submit(CustomerFactory(), clerk, credit_limit=Decimal(n + 1))
            for n in range(PROPOSALS)
        ]

    results = two_loops_at_once()

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == PROPOSALS
    for proposal in proposals:
        proposal.refresh_from_db()
        assert proposal.state == ProposalState.APPLIED
        for action in (AuditAction.ESCALATED, AuditAction.APPLIED):
            assert (
                AuditEntry.objects.filter(proposal=proposal, action=action).count() == 1
            )
