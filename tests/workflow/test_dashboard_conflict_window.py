"""The dashboard's "Conflict, last 30 days" counts conflicts of the last 30 days only."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.conftest import store_around_approval, submit
from tests.factories import CustomerFactory
from tests.workflow.test_dashboard import NOW, approve, at, dashboard_of
from workflow import selectors_dashboard
from workflow.models import ProposalState


def conflict_closed(days_ago, clerk, approver):
    """A proposal that ended in Conflict `days_ago` days before NOW."""
    with at(NOW - timedelta(days=days_ago)):
        moved = CustomerFactory()
        proposal = submit(moved, clerk, credit_limit=Decimal("16000"))
        store_around_approval(moved, credit_limit=Decimal("1"))
        proposal = approve(proposal, approver)
    assert proposal.state == ProposalState.CONFLICT


@pytest.mark.django_db
def test_conflicts_older_than_30_days_are_not_counted(
    client, clerk, approver, approvals_on, active_workflow
):
    for days_ago in (4, 29, 31, 45):
        conflict_closed(days_ago, clerk, approver)

    with at(NOW):
        page = dashboard_of(client, approver)
        counted = selectors_dashboard.open_proposals(now=NOW).recent_conflicts

    assert counted == 2
    assert page.tables["dashboard-states"]["Conflict, last 30 days"] == "2"
