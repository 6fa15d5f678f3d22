"""Submit, approve and reject: the walk of a proposal through its workflow."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.services import customer_update
from tests.conftest import make_workflow, member
from workflow import services
from workflow.exceptions import (
    COMMENT_REQUIRED_TO_REJECT,
    NO_PERMISSION,
    NOT_ASSIGNED,
    OWN_PROPOSAL,
    AlreadyDecided,
    NotSubmittable,
    PermissionRefused,
)
from workflow.models import AuditAction, AuditEntry, ProposalState, WorkItemState


def draft(customer, clerk, **values):
    values = values or {
        "credit_limit": Decimal("25000"),
        "bank_account": "DE89370400440532013000",
    }
    return customer_update(customer_id=customer.pk, values=values, actor=clerk).proposal


@pytest.fixture
def pending(customer, clerk, approver, approver2, approvals_on, active_workflow):
    return services.proposal_submit(proposal=draft(customer, clerk), actor=clerk)


@pytest.mark.django_db
def test_submit_sets_pending_and_opens_work_items_for_the_step(
    pending, approver, approver2
):
    assert pending.state == ProposalState.PENDING
    assert pending.get_state_display() == "Changes pending approval"
    assignees = set(pending.work_items.values_list("assignee__username", flat=True))
    assert assignees == {"approver", "approver2"}


@pytest.mark.django_db
def test_submit_without_active_workflow_is_refused_with_a_reason(
    customer, clerk, approvals_on
):
    with pytest.raises(NotSubmittable) as refused:
        services.proposal_submit(proposal=draft(customer, clerk), actor=clerk)
    assert "no workflow is active" in refused.value.message


@pytest.mark.django_db
def test_submit_is_refused_when_only_the_submitter_could_approve(
    customer, clerk, approvals_on, approval_admin
):
    make_workflow(approval_admin, {"users": [clerk]})
    proposal = draft(customer, clerk)
    with pytest.raises(NotSubmittable):
        services.proposal_submit(proposal=proposal, actor=clerk)
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.DRAFT


@pytest.mark.django_db
def test_submit_needs_the_submit_permission(
    customer, clerk, approver, approvals_on, active_workflow
):
    proposal = draft(customer, clerk)
    with pytest.raises(PermissionRefused):
        services.proposal_submit(proposal=proposal, actor=approver)


@pytest.mark.django_db
def test_last_approval_writes_all_fields_at_once(pending, customer, approver):
    proposal = services.proposal_approve(proposal=pending, actor=approver, comment="ok")

    customer.refresh_from_db()
    assert proposal.state == ProposalState.APPLIED
    assert customer.credit_limit == Decimal("25000")
    assert customer.bank_account == "DE89370400440532013000"
    applied = AuditEntry.objects.filter(
        proposal=proposal, action=AuditAction.FIELD_CHANGED
    )
    assert set(applied.values_list("field_name", flat=True)) == {
        "credit_limit",
        "bank_account",
    }
    assert set(applied.values_list("source", flat=True)) == {"browser"}
    assert proposal.work_items.filter(state=WorkItemState.CLOSED).count() == 1


@pytest.mark.django_db
def test_reject_needs_a_comment(pending, approver):
    with pytest.raises(NotSubmittable) as refused:
        services.proposal_reject(proposal=pending, actor=approver, comment="  ")
    assert refused.value.message == COMMENT_REQUIRED_TO_REJECT


@pytest.mark.django_db
def test_rejected_proposal_leaves_the_customer_untouched(pending, customer, approver):
    proposal = services.proposal_reject(
        proposal=pending, actor=approver, comment="Wrong IBAN"
    )

    customer.refresh_from_db()
    assert proposal.state == ProposalState.REJECTED
    assert customer.credit_limit == Decimal("10000.00")
    assert customer.bank_account == "NL91ABNA0417164300"
    entry = AuditEntry.objects.get(proposal=proposal, action=AuditAction.REJECTED)
    assert (entry.actor, entry.comment) == (approver, "Wrong IBAN")


@pytest.mark.django_db
def test_submitter_in_the_approver_group_cannot_approve(
    customer, clerk, approver, approvals_on, active_workflow, roles
):
    clerk.groups.add(roles["Approvers"])
    proposal = services.proposal_submit(proposal=draft(customer, clerk), actor=clerk)

    assert not proposal.work_items.filter(assignee=clerk).exists()
    with pytest.raises(PermissionRefused) as refused:
        services.proposal_approve(proposal=proposal, actor=clerk)
    assert refused.value.message == str(OWN_PROPOSAL)
    with pytest.raises(PermissionRefused):
        services.proposal_reject(proposal=proposal, actor=clerk, comment="self")


@pytest.mark.django_db
def test_a_clerk_who_proposed_a_field_cannot_approve_it_after_another_submits(
    customer, clerk, clerk2, approver, approvals_on, active_workflow, roles
):
    clerk.groups.add(roles["Approvers"])
    proposal = draft(customer, clerk)
    services.proposal_submit(proposal=proposal, actor=clerk2)
    with pytest.raises(PermissionRefused):
        services.proposal_approve(proposal=proposal, actor=clerk)


@pytest.mark.django_db
def test_only_an_assigned_approver_may_decide(pending, clerk2, roles):
    with pytest.raises(PermissionRefused) as refused:
        services.proposal_approve(proposal=pending, actor=clerk2)
    assert refused.value.message == NO_PERMISSION


@pytest.mark.django_db
def test_joining_the_group_after_the_step_started_gives_no_say_in_it(pending, roles):
    """The step's work items went to the group's members when it started; a newcomer
    to the group holds none, so cannot decide this proposal."""
    newcomer = member("newcomer", roles["Approvers"])
    with pytest.raises(PermissionRefused) as refused:
        services.proposal_approve(proposal=pending, actor=newcomer)
    assert refused.value.message == NOT_ASSIGNED
    pending.refresh_from_db()
    assert pending.state == ProposalState.PENDING


@pytest.mark.django_db
def test_approving_a_decided_proposal_says_already_decided(
    pending, approver, approver2
):
    services.proposal_approve(proposal=pending, actor=approver)
    with pytest.raises(AlreadyDecided) as refused:
        services.proposal_approve(proposal=pending, actor=approver2)
    assert "already decided" in refused.value.message


@pytest.mark.django_db
def test_two_steps_apply_only_after_the_second(
    customer, clerk, approver, approver2, approvals_on, approval_admin
):
    make_workflow(approval_admin, {"users": [approver]}, {"users": [approver2]})
    proposal = services.proposal_submit(proposal=draft(customer, clerk), actor=clerk)

    proposal = services.proposal_approve(proposal=proposal, actor=approver)
    customer.refresh_from_db()
    assert proposal.state == ProposalState.PENDING
    assert proposal.current_step.sequence == 2
    assert customer.credit_limit == Decimal("10000.00")

    proposal = services.proposal_approve(proposal=proposal, actor=approver2)
    customer.refresh_from_db()
    assert proposal.state == ProposalState.APPLIED
    assert customer.credit_limit == Decimal("25000")


@pytest.mark.django_db
def test_every_transition_leaves_an_audit_row(pending, approver):
    services.proposal_approve(proposal=pending, actor=approver)
    actions = set(
        AuditEntry.objects.filter(proposal=pending).values_list("action", flat=True)
    )
    assert {
        AuditAction.FIELD_PROPOSED,
        AuditAction.SUBMITTED,
        AuditAction.APPROVED,
        AuditAction.FIELD_CHANGED,
        AuditAction.APPLIED,
    } <= actions
