"""Bulk approve checks the approval permission itself: an open work item is not enough."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from customers.models import Customer
from tests.conftest import submit
from tests.factories import CustomerFactory
from workflow import services
from workflow.exceptions import NO_PERMISSION
from workflow.models import ProposalState, WorkItemState


@pytest.mark.django_db
def test_an_approver_who_lost_the_permission_approves_nothing_in_bulk(
    clerk, approver, roles, approvals_on, active_workflow
):
    proposals = [
        submit(CustomerFactory(), clerk, credit_limit=Decimal(f"{n}")) for n in (1, 2)
    ]
    assert all(p.work_items.get().assignee == approver for p in proposals)
    approver.groups.remove(roles["Approvers"])
    # A fresh object, as the next request would load it: no cached permissions.
    former_approver = get_user_model().objects.get(pk=approver.pk)

    outcome = services.proposals_approve_bulk(
        proposal_ids=[p.pk for p in proposals], actor=former_approver
    )

    assert outcome.refused == {p.pk: str(NO_PERMISSION) for p in proposals}
    assert (outcome.approved, outcome.applied) == ([], [])
    for proposal in proposals:
        proposal.refresh_from_db()
        assert proposal.state == ProposalState.PENDING
        assert proposal.work_items.get().state == WorkItemState.OPEN
        customer = Customer.objects.get(pk=proposal.object_id)
        assert customer.credit_limit == Decimal("10000.00")


@pytest.mark.django_db
def test_the_same_approver_with_the_permission_approves_in_bulk(
    clerk, approver, approvals_on, active_workflow
):
    proposal = submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))

    outcome = services.proposals_approve_bulk(
        proposal_ids=[proposal.pk], actor=approver
    )

    assert (outcome.approved, outcome.applied, outcome.refused) == (
        [proposal.pk],
        [proposal.pk],
        {},
    )
