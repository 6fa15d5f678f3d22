"""Approving many work items at once: the same rules, a few queries in all."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer
from tests.conftest import make_workflow, store_around_approval, submit
from tests.factories import CustomerFactory
from workflow import services
from workflow.models import AuditAction, AuditEntry, ProposalState


def pending_proposals(count, clerk):
    return [
        submit(CustomerFactory(), clerk, credit_limit=Decimal(f"{n + 1}"))
        for n in range(count)
    ]


@pytest.mark.django_db
def test_bulk_approve_applies_each_with_its_audit(
    clerk, approver, approvals_on, active_workflow
):
    proposals = pending_proposals(3, clerk)
    outcome = services.proposals_approve_bulk(
        proposal_ids=[p.pk for p in proposals], actor=approver
    )

    assert sorted(outcome.applied) == sorted(p.pk for p in proposals)
    for n, proposal in enumerate(proposals):
        proposal.refresh_from_db()
        assert proposal.state == ProposalState.APPLIED
        customer = Customer.objects.get(pk=proposal.object_id)
        assert customer.credit_limit == Decimal(f"{n + 1}.00")
        assert AuditEntry.objects.filter(
            proposal=proposal, action=AuditAction.FIELD_CHANGED, actor=approver
        ).exists()
        assert AuditEntry.objects.filter(
            proposal=proposal, action=AuditAction.APPROVED, actor=approver
        ).exists()


@pytest.mark.django_db
def test_bulk_approve_refuses_with_reasons(
    clerk, approver, approvals_on, active_workflow, roles
):
    clerk.groups.add(roles["Approvers"])
    mine = submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))

    outcome = services.proposals_approve_bulk(proposal_ids=[mine.pk], actor=clerk)
    assert "because you proposed or submitted them" in outcome.refused[mine.pk]
    mine.refresh_from_db()
    assert mine.state == ProposalState.PENDING


@pytest.mark.django_db
def test_bulk_approve_of_an_already_decided_proposal_says_so(
    clerk, approver, approver2, approvals_on, active_workflow
):
    proposal = pending_proposals(1, clerk)[0]
    services.proposal_approve(proposal=proposal, actor=approver2)
    outcome = services.proposals_approve_bulk(
        proposal_ids=[proposal.pk], actor=approver
    )
    assert "already decided" in outcome.refused[proposal.pk]


@pytest.mark.django_db
def test_bulk_approve_moves_multi_step_proposals_on(
    clerk, approver, approver2, approvals_on, approval_admin
):
    make_workflow(approval_admin, {"users": [approver]}, {"users": [approver2]})
    proposal = pending_proposals(1, clerk)[0]
    services.proposals_approve_bulk(proposal_ids=[proposal.pk], actor=approver)
    proposal.refresh_from_db()
    assert (proposal.state, proposal.current_step.sequence) == (
        ProposalState.PENDING,
        2,
    )


@pytest.mark.django_db
def test_bulk_approve_finds_conflicts(clerk, approver, approvals_on, active_workflow):
    proposal = pending_proposals(1, clerk)[0]
    store_around_approval(Customer(pk=proposal.object_id), credit_limit=Decimal("77"))
    outcome = services.proposals_approve_bulk(
        proposal_ids=[proposal.pk], actor=approver
    )
    assert outcome.conflicts == [proposal.pk]
    assert Customer.objects.get(pk=proposal.object_id).credit_limit == Decimal("77.00")


@pytest.mark.django_db
def test_bulk_approve_queries_do_not_grow_with_the_number_of_proposals(
    clerk, approver, approvals_on, active_workflow
):
    few = pending_proposals(2, clerk)
    approver.has_perm("workflow.decide_workitem")  # permissions load once per user
    with CaptureQueriesContext(connection) as small:
        services.proposals_approve_bulk(
            proposal_ids=[p.pk for p in few], actor=approver
        )
    # 12, not more: SQLite's fallback splits an insert at 999 parameters.
    many = pending_proposals(12, clerk)
    with CaptureQueriesContext(connection) as large:
        services.proposals_approve_bulk(
            proposal_ids=[p.pk for p in many], actor=approver
        )

    def real(captured):
        return [q for q in captured if "SAVEPOINT" not in q["sql"]]

    assert len(real(large)) == len(real(small))


@pytest.mark.django_db
def test_the_work_items_page_approves_selected_items(
    client, clerk, approver, approvals_on, active_workflow
):
    proposals = pending_proposals(2, clerk)
    client.force_login(approver)
    items = [p.work_items.get(assignee=approver).pk for p in proposals]
    response = client.post(
        reverse("admin:workflow_workitem_changelist"),
        {
            "action": "approve_selected",
            "_selected_action": items,
            "post": "yes",
            "comment": "Checked all two",
        },
        follow=True,
    )
    assert "Approved 2; 2 of them were applied" in response.content.decode()
    assert list(
        AuditEntry.objects.filter(action=AuditAction.APPROVED).values_list(
            "comment", flat=True
        )
    ) == ["Checked all two", "Checked all two"]


@pytest.mark.django_db
def test_bulk_approve_skips_later_steps_whose_condition_does_not_hold(
    clerk, approver, approver2, approvals_on, approval_admin
):
    from workflow.core.conditions import ConditionKind

    make_workflow(
        approval_admin,
        {"users": [approver]},
        {
            "users": [approver2],
            "condition_kind": ConditionKind.CHANGES,
            "condition_field": "bank_account",
        },
    )
    proposal = pending_proposals(1, clerk)[0]
    outcome = services.proposals_approve_bulk(
        proposal_ids=[proposal.pk], actor=approver
    )
    assert outcome.applied == [proposal.pk]
    assert proposal.audit_entries.filter(action=AuditAction.STEP_SKIPPED).exists()


@pytest.mark.django_db
def test_bulk_approve_refuses_a_record_the_single_path_would_not_write(
    clerk, approver, approvals_on, active_workflow
):
    proposal = pending_proposals(1, clerk)[0]
    store_around_approval(Customer(pk=proposal.object_id), email="not an e-mail")
    outcome = services.proposals_approve_bulk(
        proposal_ids=[proposal.pk], actor=approver
    )
    assert outcome.conflicts == [proposal.pk]
    entry = AuditEntry.objects.get(proposal=proposal, action=AuditAction.CONFLICT)
    assert "no longer valid" in entry.comment


@pytest.mark.django_db
def test_bulk_conflict_rows_name_the_field_and_mail_the_submitter(
    clerk, approver, approvals_on, active_workflow, django_capture_on_commit_callbacks
):
    from django.core import mail

    proposal = pending_proposals(1, clerk)[0]
    store_around_approval(Customer(pk=proposal.object_id), credit_limit=Decimal("77"))
    with django_capture_on_commit_callbacks(execute=True):
        services.proposals_approve_bulk(proposal_ids=[proposal.pk], actor=approver)
    entry = AuditEntry.objects.get(proposal=proposal, action=AuditAction.CONFLICT)
    assert (entry.field_name, entry.old_value, entry.new_value) == (
        "credit_limit",
        "10000.00",
        "77.00",
    )
    assert any(
        m.to == ["clerk@example.com"] and m.subject.startswith("Conflict")
        for m in mail.outbox
    )


@pytest.mark.django_db
def test_one_proposal_that_cannot_go_on_does_not_block_the_others(
    clerk, approver, approvals_on, approval_admin
):
    from workflow.core.conditions import ConditionKind

    make_workflow(
        approval_admin,
        {"users": [approver]},
        {
            "users": [clerk],
            "condition_kind": ConditionKind.CHANGES,
            "condition_field": "bank_account",
        },
    )
    stuck = submit(CustomerFactory(), clerk, bank_account="DE89370400440532013000")
    fine = submit(CustomerFactory(), clerk, credit_limit=Decimal("3"))
    outcome = services.proposals_approve_bulk(
        proposal_ids=[stuck.pk, fine.pk], actor=approver
    )
    assert outcome.applied == [fine.pk]
    assert "Nobody may approve" in outcome.refused[stuck.pk]
    stuck.refresh_from_db()
    assert stuck.state == ProposalState.PENDING
    assert stuck.work_items.get(assignee=approver).state == "open"


@pytest.mark.django_db
def test_bulk_approve_says_already_decided_like_the_single_path(
    clerk, approver, approver2, approvals_on, approval_admin
):
    make_workflow(
        approval_admin, {"users": [approver, approver2], "completion_policy": "all"}
    )
    proposal = pending_proposals(1, clerk)[0]
    services.proposal_approve(proposal=proposal, actor=approver)
    outcome = services.proposals_approve_bulk(
        proposal_ids=[proposal.pk], actor=approver
    )
    assert outcome.refused[proposal.pk] == "You have already decided on this step."
