"""A step completes by its policy: single, majority, percentage or all approvers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.services import customer_update
from tests.conftest import make_workflow
from tests.factories import UserFactory
from workflow import services
from workflow.models import CompletionPolicy, ProposalState


@pytest.fixture
def four_approvers(roles):
    users = [UserFactory(username=f"appr{i}") for i in range(4)]
    for user in users:
        user.groups.add(roles["Approvers"])
    return users


def pending_with(customer, clerk, admin, users, policy, percentage=None):
    make_workflow(
        admin,
        {
            "users": users,
            "completion_policy": policy,
            "approval_percentage": percentage,
        },
    )
    proposal = customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("1")}, actor=clerk
    ).proposal
    return services.proposal_submit(proposal=proposal, actor=clerk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("policy", "percentage", "approvals_needed"),
    [
        (CompletionPolicy.SINGLE, None, 1),
        (CompletionPolicy.MAJORITY, None, 3),
        (CompletionPolicy.PERCENTAGE, 50, 2),
        (CompletionPolicy.ALL, None, 4),
    ],
)
def test_step_completes_after_the_needed_approvals(
    customer,
    clerk,
    approval_admin,
    approvals_on,
    four_approvers,
    policy,
    percentage,
    approvals_needed,
):
    proposal = pending_with(
        customer, clerk, approval_admin, four_approvers, policy, percentage
    )
    for number, user in enumerate(four_approvers[:approvals_needed], start=1):
        proposal = services.proposal_approve(proposal=proposal, actor=user)
        expected = (
            ProposalState.APPLIED
            if number == approvals_needed
            else ProposalState.PENDING
        )
        assert proposal.state == expected


@pytest.mark.django_db
def test_all_policy_is_rejected_by_one_rejection(
    customer, clerk, approval_admin, approvals_on, four_approvers
):
    proposal = pending_with(
        customer, clerk, approval_admin, four_approvers, CompletionPolicy.ALL
    )
    services.proposal_approve(proposal=proposal, actor=four_approvers[0])
    proposal = services.proposal_reject(
        proposal=proposal, actor=four_approvers[1], comment="no"
    )
    assert proposal.state == ProposalState.REJECTED


@pytest.mark.django_db
def test_majority_survives_one_rejection(
    customer, clerk, approval_admin, approvals_on, four_approvers
):
    proposal = pending_with(
        customer, clerk, approval_admin, four_approvers, CompletionPolicy.MAJORITY
    )
    proposal = services.proposal_reject(
        proposal=proposal, actor=four_approvers[0], comment="no"
    )
    assert proposal.state == ProposalState.PENDING
    proposal = services.proposal_reject(
        proposal=proposal, actor=four_approvers[1], comment="no"
    )
    assert proposal.state == ProposalState.REJECTED
