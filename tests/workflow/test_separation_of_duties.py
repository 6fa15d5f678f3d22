"""Separation of duties holds on every path: services, workflow pages and hand-made POSTs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.conftest import make_workflow, submit
from workflow import services
from workflow.exceptions import ONE_STEP_ONLY, PermissionRefused
from workflow.models import ProposalState


def workflow_url(customer, action):
    return reverse("admin:customers_customer_workflow", args=[customer.pk, action])


@pytest.fixture
def submitter_is_approver(clerk, roles):
    clerk.groups.add(roles["Approvers"])
    return clerk


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["approve", "reject", "request_change", "delegate"])
def test_submitter_cannot_decide_through_a_hand_made_post(
    client,
    customer,
    submitter_is_approver,
    approver,
    approver2,
    approvals_on,
    active_workflow,
    action,
):
    clerk = submitter_is_approver
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    client.force_login(clerk)

    page = client.post(
        workflow_url(customer, action),
        {"comment": "mine", "to_user": approver.pk},
        follow=True,
    )

    assert "because you proposed or submitted them" in page.content.decode()
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PENDING
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("10000.00")


@pytest.mark.django_db
def test_a_user_approves_at_most_one_step(
    customer, clerk, approver, approver2, approvals_on, approval_admin
):
    make_workflow(
        approval_admin,
        {"users": [approver, approver2]},
        {"users": [approver, approver2]},
    )
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    proposal = services.proposal_approve(proposal=proposal, actor=approver)

    assert list(
        proposal.work_items.filter(step__sequence=2).values_list(
            "assignee__username", flat=True
        )
    ) == ["approver2"]
    with pytest.raises(PermissionRefused) as refused:
        services.proposal_approve(proposal=proposal, actor=approver)
    assert refused.value.message == str(ONE_STEP_ONLY)


@pytest.mark.django_db
def test_delegating_to_the_approver_of_an_earlier_step_is_refused(
    customer, clerk, approver, approver2, approvals_on, approval_admin
):
    make_workflow(approval_admin, {"users": [approver]}, {"users": [approver2]})
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    proposal = services.proposal_approve(proposal=proposal, actor=approver)
    with pytest.raises(PermissionRefused) as refused:
        services.work_item_delegate(
            proposal=proposal, actor=approver2, to_user=approver
        )
    assert "already decided another step" in refused.value.message


@pytest.mark.django_db
def test_reassigning_to_the_submitter_is_refused(
    customer,
    submitter_is_approver,
    approver,
    approvals_on,
    active_workflow,
    approval_admin,
):
    proposal = submit(customer, submitter_is_approver, credit_limit=Decimal("1"))
    item = proposal.work_items.get(assignee=approver)
    with pytest.raises(PermissionRefused):
        services.work_item_reassign(
            work_item=item, actor=approval_admin, to_user=submitter_is_approver
        )


@pytest.mark.django_db
def test_escalation_never_hands_the_item_to_the_submitter(
    customer, submitter_is_approver, approver, approvals_on, approval_admin, roles
):
    import time_machine
    from django.utils import timezone

    make_workflow(
        approval_admin,
        {
            "users": [approver],
            "time_limit_value": 1,
            "escalation_action": "reassign",
            "escalate_to_user": submitter_is_approver,
        },
    )
    proposal = submit(customer, submitter_is_approver, credit_limit=Decimal("1"))
    with time_machine.travel(timezone.now() + timezone.timedelta(hours=2)):
        assert services.work_items_escalate_overdue() == 0
    assert not proposal.work_items.filter(assignee=submitter_is_approver).exists()
