"""Automatic approval rules, and proposals pinned to the version they were submitted under."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import make_workflow, submit
from workflow import services
from workflow.core.conditions import ConditionKind
from workflow.exceptions import NotSubmittable
from workflow.models import AuditAction, AutoApprovalRule, ProposalState, WorkflowStep


def with_decrease_rule(workflow, actor):
    new = services.workflow_copy(workflow=workflow, actor=actor, as_new_version=True)
    services.auto_approval_rule_save(
        rule=AutoApprovalRule(
            workflow=new, field_name="credit_limit", kind=ConditionKind.DECREASES
        ),
        actor=actor,
    )
    return services.workflow_activate(workflow=new, actor=actor)


@pytest.mark.django_db
def test_a_decrease_needs_no_approval(
    customer, clerk, approver, approvals_on, active_workflow, approval_admin
):
    with_decrease_rule(active_workflow, approval_admin)
    proposal = submit(customer, clerk, credit_limit=Decimal("5000"))

    customer.refresh_from_db()
    assert proposal.state == ProposalState.APPLIED
    assert customer.credit_limit == Decimal("5000.00")
    entry = proposal.audit_entries.get(action=AuditAction.AUTO_APPROVED)
    assert "Credit limit: the value decreases" in entry.comment
    assert not proposal.work_items.exists()


@pytest.mark.django_db
def test_a_rule_approves_only_when_every_change_matches(
    customer, clerk, approver, approvals_on, active_workflow, approval_admin
):
    with_decrease_rule(active_workflow, approval_admin)
    increase = submit(customer, clerk, credit_limit=Decimal("50000"))
    assert increase.state == ProposalState.PENDING
    services.proposal_recall(proposal=increase, actor=clerk)

    mixed = submit(
        customer,
        clerk,
        credit_limit=Decimal("5000"),
        bank_account="DE89370400440532013000",
    )
    assert mixed.state == ProposalState.PENDING


@pytest.mark.django_db
def test_a_proposal_keeps_the_version_it_was_submitted_under(
    customer, clerk, approver, approver2, approvals_on, roles, approval_admin
):
    first = make_workflow(approval_admin, {"users": [approver]}, {"users": [approver2]})
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))

    second = services.workflow_copy(
        workflow=first, actor=approval_admin, as_new_version=True
    )
    services.workflow_step_delete(
        step=second.steps.get(sequence=2), actor=approval_admin
    )
    services.workflow_activate(workflow=second, actor=approval_admin)

    proposal = services.proposal_approve(proposal=proposal, actor=approver)
    assert proposal.workflow == first
    assert proposal.state == ProposalState.PENDING
    assert proposal.current_step.sequence == 2
    first.refresh_from_db()
    assert not first.is_active and second.version == 2


@pytest.mark.django_db
def test_a_workflow_in_use_cannot_be_changed_by_any_path(
    customer, clerk, approver, approvals_on, active_workflow, approval_admin
):
    step = active_workflow.steps.get()
    step.name = "Changed"
    with pytest.raises(NotSubmittable) as refused:
        services.workflow_step_save(step=step, actor=approval_admin)
    assert "create a new version" in refused.value.message.lower()
    with pytest.raises(NotSubmittable):
        services.workflow_step_save(
            step=WorkflowStep(workflow=active_workflow, sequence=5, name="x"),
            actor=approval_admin,
        )
    with pytest.raises(NotSubmittable):
        services.workflow_save(workflow=active_workflow, actor=approval_admin)


@pytest.mark.django_db
def test_copy_starts_a_series_of_its_own(active_workflow, approval_admin):
    copy = services.workflow_copy(
        workflow=active_workflow, actor=approval_admin, as_new_version=False
    )
    assert copy.series != active_workflow.series
    assert copy.version == 1
    assert copy.name == "Copy of Test workflow"
    assert copy.steps.count() == 1


@pytest.mark.django_db
def test_a_new_version_keeps_the_named_users_of_its_steps(
    approver, approver2, approval_admin
):
    original = make_workflow(approval_admin, {"users": [approver, approver2]})
    copy = services.workflow_copy(
        workflow=original, actor=approval_admin, as_new_version=True
    )
    assert set(copy.steps.get().assigned_users.values_list("username", flat=True)) == {
        "approver",
        "approver2",
    }
