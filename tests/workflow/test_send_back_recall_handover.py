"""Request change and resubmit, recall, delegate and reassign."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.services import customer_update
from tests.conftest import make_workflow, submit
from tests.factories import UserFactory
from workflow import services
from workflow.exceptions import (
    COMMENT_REQUIRED,
    AlreadyDecided,
    NotSubmittable,
    PermissionRefused,
)
from workflow.models import AuditAction, ProposalState, WorkItemState


@pytest.fixture
def two_steps(roles, approval_admin, approver, approver2):
    return make_workflow(approval_admin, {"users": [approver]}, {"users": [approver2]})


@pytest.mark.django_db
def test_request_change_needs_a_comment(
    customer, clerk, approver, approvals_on, two_steps
):
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    with pytest.raises(NotSubmittable) as refused:
        services.proposal_request_change(proposal=proposal, actor=approver, comment="")
    assert refused.value.message == COMMENT_REQUIRED


@pytest.mark.django_db
def test_sent_back_proposal_is_edited_resubmitted_and_restarts_at_step_one(
    customer, clerk, approver, approver2, approvals_on, two_steps
):
    proposal = submit(customer, clerk, credit_limit=Decimal("50000"))
    proposal = services.proposal_approve(proposal=proposal, actor=approver)
    proposal = services.proposal_request_change(
        proposal=proposal, actor=approver2, comment="50k is too much, make it 30k"
    )
    assert proposal.state == ProposalState.CHANGES_REQUESTED
    assert proposal.get_state_display() == "Changes requested"

    outcome = customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("30000")}, actor=clerk
    )
    assert outcome.proposal.pk == proposal.pk
    assert outcome.proposal.changes.get().proposed_value == "30000.00"
    proposal = services.proposal_submit(proposal=proposal, actor=clerk)

    assert proposal.state == ProposalState.PENDING
    assert proposal.current_step.sequence == 1
    assert proposal.submission_round == 2
    open_items = proposal.work_items.filter(state=WorkItemState.OPEN)
    assert list(open_items.values_list("assignee__username", flat=True)) == ["approver"]
    assert proposal.audit_entries.filter(action=AuditAction.RESUBMITTED).exists()
    proposal = services.proposal_approve(proposal=proposal, actor=approver)
    proposal = services.proposal_approve(proposal=proposal, actor=approver2)
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("30000.00")


@pytest.mark.django_db
def test_submitter_recalls_a_pending_proposal(
    customer, clerk, approver, approvals_on, two_steps
):
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    proposal = services.proposal_recall(proposal=proposal, actor=clerk)

    # Back to the submitter as a draft, with its values; the record is untouched.
    assert proposal.state == ProposalState.DRAFT
    assert proposal.current_step is None
    assert proposal.closed_at is None
    assert list(proposal.changes.values_list("field_name", "proposed_value")) == [
        ("credit_limit", "1.00")
    ]
    assert not proposal.work_items.filter(state=WorkItemState.OPEN).exists()
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("10000.00")
    with pytest.raises(AlreadyDecided):
        services.proposal_approve(proposal=proposal, actor=approver)


@pytest.mark.django_db
def test_only_the_submitter_recalls(
    customer, clerk, clerk2, approver, approvals_on, two_steps
):
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    for other in (clerk2, approver):
        with pytest.raises(PermissionRefused):
            services.proposal_recall(proposal=proposal, actor=other)


@pytest.mark.django_db
def test_delegate_hands_the_work_item_to_another_approver(
    customer, clerk, approver, approver2, approvals_on, roles, approval_admin
):
    make_workflow(approval_admin, {"users": [approver]})
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    services.work_item_delegate(
        proposal=proposal, actor=approver, to_user=approver2, comment="On leave"
    )

    with pytest.raises(AlreadyDecided):
        services.proposal_approve(proposal=proposal, actor=approver)
    proposal = services.proposal_approve(proposal=proposal, actor=approver2)
    assert proposal.state == ProposalState.APPLIED
    delegated = proposal.work_items.get(assignee=approver)
    assert (delegated.state, delegated.handed_over_to) == (
        WorkItemState.DELEGATED,
        approver2,
    )


@pytest.mark.django_db
def test_delegate_cannot_be_the_submitter(
    customer, clerk, approver, approvals_on, roles, approval_admin
):
    clerk.groups.add(roles["Approvers"])
    make_workflow(approval_admin, {"users": [approver]})
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    with pytest.raises(PermissionRefused) as refused:
        services.work_item_delegate(proposal=proposal, actor=approver, to_user=clerk)
    assert "clerk proposed or submitted these changes" in refused.value.message


@pytest.mark.django_db
def test_delegate_must_be_allowed_to_approve(
    customer, clerk, clerk2, approver, approvals_on, approval_admin
):
    make_workflow(approval_admin, {"users": [approver]})
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    with pytest.raises(PermissionRefused) as refused:
        services.work_item_delegate(proposal=proposal, actor=approver, to_user=clerk2)
    assert "not allowed to approve" in refused.value.message


@pytest.mark.django_db
def test_admin_reassigns_and_others_may_not(
    customer, clerk, approver, approver2, approvals_on, approval_admin
):
    make_workflow(approval_admin, {"users": [approver]})
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    item = proposal.work_items.get()
    with pytest.raises(PermissionRefused):
        services.work_item_reassign(work_item=item, actor=approver2, to_user=approver2)

    services.work_item_reassign(
        work_item=item, actor=approval_admin, to_user=approver2, comment="Vacation"
    )
    item.refresh_from_db()
    assert item.state == WorkItemState.REASSIGNED
    assert (
        services.proposal_approve(proposal=proposal, actor=approver2).state
        == ProposalState.APPLIED
    )


@pytest.mark.django_db
def test_field_driven_assignment_goes_to_the_account_manager(
    customer, clerk, approvals_on, approval_admin, roles
):
    manager = UserFactory(username="accountmanager")
    manager.groups.add(roles["Approvers"])
    customer.account_manager = manager
    customer.save(update_fields=["account_manager"])
    make_workflow(approval_admin, {"assignee_field": "account_manager"})

    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    assert list(proposal.work_items.values_list("assignee__username", flat=True)) == [
        "accountmanager"
    ]
