"""Recall asks first, returns the proposal to its submitter as a draft with its values,
and tells the approvers who had it; Discard all changes asks first too. Both confirm
with a plain form, no JavaScript needed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from tests.conftest import propose, submit
from workflow import services
from workflow.exceptions import NOT_PENDING, AlreadyDecided
from workflow.models import AuditAction, ChangeProposal, ProposalState, WorkItemState


def workflow_url(customer, action):
    return reverse("admin:customers_customer_workflow", args=[customer.pk, action])


def proposed_url(customer):
    return reverse("admin:customers_customer_proposed_changes", args=[customer.pk])


@pytest.fixture
def pending(customer, clerk, approver, approver2, approvals_on, active_workflow):
    return submit(customer, clerk, credit_limit=Decimal("25000"))


@pytest.mark.django_db
def test_recall_asks_first_and_names_who_will_be_told(client, customer, clerk, pending):
    client.force_login(clerk)
    review = client.get(proposed_url(customer))
    assert f'href="{workflow_url(customer, "recall")}">Recall</a>' in review.text

    page = client.get(workflow_url(customer, "recall"))

    assert page.status_code == 200
    assert page.context["title"] == "Recall the proposed changes"
    assert (
        "The approvers who have them now are told by e-mail: approver, approver2."
        in page.text
    )
    pending.refresh_from_db()
    assert pending.state == ProposalState.PENDING


@pytest.mark.django_db
def test_recall_returns_a_draft_and_tells_the_approvers(
    client, customer, clerk, pending, django_capture_on_commit_callbacks
):
    client.force_login(clerk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            workflow_url(customer, "recall"), {"comment": "Wrong amount"}
        )

    assert response.status_code == 302
    proposal = ChangeProposal.objects.get()
    assert proposal.state == ProposalState.DRAFT
    assert list(proposal.changes.values_list("proposed_value", flat=True)) == [
        "25000.00"
    ]
    assert not proposal.work_items.filter(state=WorkItemState.OPEN).exists()
    assert proposal.audit_entries.get(action=AuditAction.RECALLED).comment == (
        "Wrong amount"
    )
    told = sorted(m.to[0] for m in mail.outbox)
    assert told == ["approver2@example.com", "approver@example.com"]
    assert mail.outbox[0].subject == (
        f"Recalled, no approval needed: changes to {customer}"
    )
    assert (
        f"clerk recalled the changes to {customer}; they no longer wait for your approval."
        in mail.outbox[0].body
    )
    assert "Comment: Wrong amount" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_recalled_draft_is_changed_and_submitted_again_as_a_new_round(
    customer, clerk, approver, pending
):
    from customers.services import customer_update

    services.proposal_recall(proposal=pending, actor=clerk)
    customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("20000")}, actor=clerk
    )
    proposal = services.proposal_submit(proposal=pending, actor=clerk)

    assert (proposal.state, proposal.submission_round) == (ProposalState.PENDING, 2)
    assert proposal.audit_entries.filter(action=AuditAction.RESUBMITTED).count() == 1
    services.proposal_approve(proposal=proposal, actor=approver)
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("20000.00")


@pytest.mark.django_db
def test_a_proposal_sent_back_is_not_recalled_but_edited_or_discarded(
    customer, clerk, approver, pending
):
    services.proposal_request_change(proposal=pending, actor=approver, comment="Why?")
    with pytest.raises(AlreadyDecided) as refused:
        services.proposal_recall(proposal=pending, actor=clerk)
    assert refused.value.message == NOT_PENDING % {"state": "Changes requested"}
    services.proposal_discard(proposal=pending, actor=clerk)
    pending.refresh_from_db()
    assert pending.state == ProposalState.DISCARDED


@pytest.mark.django_db
def test_discard_all_asks_first(
    client, customer, clerk, approver, approvals_on, active_workflow
):
    propose(customer, clerk, credit_limit=Decimal("25000"))
    client.force_login(clerk)
    review = client.get(proposed_url(customer))
    assert (
        f'href="{workflow_url(customer, "discard")}">Discard all changes</a>'
        in review.text
    )

    page = client.get(workflow_url(customer, "discard"))

    assert page.context["title"] == "Discard all proposed changes"
    assert '<tr data-field="credit_limit">' in page.text
    assert ChangeProposal.objects.get().state == ProposalState.DRAFT
    response = client.post(workflow_url(customer, "discard"))
    assert response.status_code == 302
    assert ChangeProposal.objects.get().state == ProposalState.DISCARDED
