"""The Percentage policy rounds the approvals it needs up: half of three is two."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.models import Customer
from tests.conftest import make_workflow, submit
from tests.factories import UserFactory
from workflow import services
from workflow.models import CompletionPolicy, ProposalState


def approvers(roles, count):
    users = [UserFactory(username=f"appr{n}") for n in range(count)]
    for user in users:
        user.groups.add(roles["Approvers"])
    return users


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("count", "percentage", "needed"),
    [(3, 50, 2), (4, 50, 2), (5, 50, 3), (3, 67, 3)],
)
def test_percentage_needs_the_share_rounded_up(
    customer, clerk, roles, approval_admin, approvals_on, count, percentage, needed
):
    users = approvers(roles, count)
    make_workflow(
        approval_admin,
        {
            "users": users,
            "completion_policy": CompletionPolicy.PERCENTAGE,
            "approval_percentage": percentage,
        },
    )
    proposal = submit(customer, clerk, credit_limit=Decimal("25000"))
    step = proposal.current_step

    for user in users[: needed - 1]:
        proposal = services.proposal_approve(proposal=proposal, actor=user)
        assert (proposal.state, proposal.current_step) == (ProposalState.PENDING, step)
    assert Customer.objects.get(pk=customer.pk).credit_limit == Decimal("10000.00")

    proposal = services.proposal_approve(proposal=proposal, actor=users[needed - 1])

    assert proposal.state == ProposalState.APPLIED
    assert Customer.objects.get(pk=customer.pk).credit_limit == Decimal("25000.00")
