"""Edge cases found in review: each one a way the rules could have been bent or a page break."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from customers.services import customer_update
from tests.conftest import make_workflow, submit
from tests.factories import UserFactory
from workflow import services
from workflow.exceptions import PermissionRefused
from workflow.models import CompletionPolicy, ProposalState


@pytest.fixture
def third_approver(roles):
    user = UserFactory(username="approver3")
    user.groups.add(roles["Approvers"])
    return user


@pytest.mark.django_db
def test_reassigning_to_someone_who_already_approved_the_step_is_refused(
    customer, clerk, approver, approver2, approvals_on, approval_admin
):
    make_workflow(
        approval_admin,
        {"users": [approver, approver2], "completion_policy": CompletionPolicy.ALL},
    )
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    services.proposal_approve(proposal=proposal, actor=approver)
    item = proposal.work_items.get(assignee=approver2)
    with pytest.raises(PermissionRefused, match="already has or has decided"):
        services.work_item_reassign(
            work_item=item, actor=approval_admin, to_user=approver
        )


@pytest.mark.django_db
def test_delegating_to_someone_who_already_approved_the_step_is_refused(
    customer, clerk, approver, approver2, third_approver, approvals_on, approval_admin
):
    make_workflow(
        approval_admin,
        {
            "users": [approver, approver2, third_approver],
            "completion_policy": CompletionPolicy.MAJORITY,
        },
    )
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    services.proposal_approve(proposal=proposal, actor=approver)
    with pytest.raises(PermissionRefused):
        services.work_item_delegate(
            proposal=proposal, actor=approver2, to_user=approver
        )
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PENDING


@pytest.mark.django_db
def test_one_step_per_person_holds_across_resubmissions(
    customer, clerk, approver, approver2, approvals_on, approval_admin
):
    make_workflow(
        approval_admin,
        {"users": [approver, approver2]},
        {"users": [approver, approver2]},
    )
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    proposal = services.proposal_approve(proposal=proposal, actor=approver)
    proposal = services.proposal_request_change(
        proposal=proposal, actor=approver2, comment="again"
    )
    customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("2")}, actor=clerk
    )
    proposal = services.proposal_submit(proposal=proposal, actor=clerk)
    proposal = services.proposal_approve(proposal=proposal, actor=approver)

    assert proposal.current_step.sequence == 2
    assert list(
        proposal.work_items.filter(submission_round=2, step__sequence=2).values_list(
            "assignee__username", flat=True
        )
    ) == ["approver2"]
    with pytest.raises(PermissionRefused):
        services.proposal_approve(proposal=proposal, actor=approver)


@pytest.mark.django_db
def test_one_failing_escalation_does_not_stop_the_others(
    customer, clerk, clerk2, approver, approvals_on, approval_admin
):
    from tests.factories import CustomerFactory

    other = CustomerFactory(account="C00002")
    make_workflow(
        approval_admin,
        {"users": [approver], "time_limit_value": 1, "escalation_action": "approve"},
        {"users": [clerk]},
    )
    stuck = submit(customer, clerk, credit_limit=Decimal("1"))
    make_workflow(
        approval_admin,
        {"users": [approver], "time_limit_value": 1, "escalation_action": "reject"},
    )
    fine = submit(other, clerk2, credit_limit=Decimal("1"))

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert services.work_items_escalate_overdue() == 1
    stuck.refresh_from_db()
    fine.refresh_from_db()
    assert stuck.state == ProposalState.PENDING
    assert fine.state == ProposalState.REJECTED


@pytest.mark.django_db
def test_a_work_item_address_that_is_not_a_number_is_not_found(client, approver):
    client.force_login(approver)
    assert (
        client.get(reverse("admin:workflow_workitem_change", args=["abc"])).status_code
        == 404
    )


@pytest.mark.django_db
def test_two_steps_can_swap_sequence_numbers(client, approval_admin, roles, approver):
    from customers.models import AccountsReceivableWorkflow
    from tests.workflow.test_admin_pages import workflow_post

    workflow = make_workflow(
        approval_admin, {"users": [approver]}, {"assigned_group": roles["Approvers"]}
    )
    workflow = services.workflow_copy(
        workflow=workflow, actor=approval_admin, as_new_version=True
    )
    first, second = workflow.steps.order_by("sequence")
    data = workflow_post(assigned_group=roles["Approvers"].pk)
    data.update(
        {
            "name": workflow.name,
            "steps-TOTAL_FORMS": "2",
            "steps-INITIAL_FORMS": "2",
            "steps-0-id": first.pk,
            "steps-0-workflow": workflow.pk,
            "steps-0-sequence": "2",
            "steps-0-name": "Was first",
            "steps-0-assigned_users": [approver.pk],
            "steps-0-assigned_group": "",
            "steps-1-id": second.pk,
            "steps-1-workflow": workflow.pk,
            "steps-1-sequence": "1",
            "steps-1-name": "Was second",
            "steps-1-assigned_group": roles["Approvers"].pk,
            "steps-1-completion_policy": "single",
            "steps-1-time_limit_unit": "hours",
        }
    )
    client.force_login(approval_admin)
    response = client.post(
        reverse(
            "admin:customers_accountsreceivableworkflow_change", args=[workflow.pk]
        ),
        data,
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(
        AccountsReceivableWorkflow.objects.get(pk=workflow.pk).steps.values_list(
            "name", flat=True
        )
    ) == [
        "Was second",
        "Was first",
    ]
