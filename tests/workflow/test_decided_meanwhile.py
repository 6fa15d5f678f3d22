"""An approver whose item was decided while their page was open is told by whom and
when, and keeps their comment on the page; a rejection without a comment stays on the
form with the reason."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_workflow, submit
from workflow import services
from workflow.exceptions import COMMENT_REQUIRED_TO_REJECT
from workflow.models import AuditAction, AuditEntry, ProposalState


def workflow_url(customer, action):
    return reverse("admin:customers_customer_workflow", args=[customer.pk, action])


@pytest.fixture
def two_approvers(customer, clerk, approver, approver2, approvals_on, approval_admin):
    make_workflow(approval_admin, {"users": [approver, approver2]})
    return submit(customer, clerk, credit_limit=Decimal("25000"))


def opened(client, customer, action) -> str:
    """Open the decision page; returns the moment it says it was shown at."""
    page = client.get(workflow_url(customer, action))
    assert page.status_code == 200
    return page.context["shown_at"]


def at(entry) -> str:
    return timezone.localtime(entry.created_at).strftime("%H:%M")


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["approve", "reject", "request_change"])
def test_approved_by_someone_else_meanwhile_says_who_and_keeps_the_comment(
    client, customer, approver, approver2, two_approvers, action
):
    client.force_login(approver2)
    shown_at = opened(client, customer, action)
    services.proposal_approve(proposal=two_approvers, actor=approver, comment="Ok")
    entry = AuditEntry.objects.get(action=AuditAction.APPROVED)

    page = client.post(
        workflow_url(customer, action),
        {"comment": "My careful words", "shown_at": shown_at},
    )

    assert page.status_code == 200
    assert page.context["meanwhile"] == f"Approved by approver at {at(entry)}."
    assert f"<strong>Approved by approver at {at(entry)}.</strong>" in page.text
    assert "My careful words</textarea>" in page.text
    two_approvers.refresh_from_db()
    assert two_approvers.state == ProposalState.APPLIED


@pytest.mark.django_db
def test_recalled_meanwhile_says_so(client, customer, clerk, approver, two_approvers):
    client.force_login(approver)
    shown_at = opened(client, customer, "approve")
    services.proposal_recall(proposal=two_approvers, actor=clerk)
    entry = AuditEntry.objects.get(action=AuditAction.RECALLED)

    page = client.post(
        workflow_url(customer, "approve"), {"comment": "Yes", "shown_at": shown_at}
    )

    assert page.context["meanwhile"] == f"Recalled by clerk at {at(entry)}."
    assert page.context["error"] == (
        "This proposal was already decided; its status is now: Changes not submitted."
    )
    assert "Yes</textarea>" in page.text


@pytest.mark.django_db
def test_rejected_meanwhile_says_so(
    client, customer, approver, approver2, two_approvers
):
    client.force_login(approver2)
    shown_at = opened(client, customer, "approve")
    services.proposal_reject(proposal=two_approvers, actor=approver, comment="No")
    entry = AuditEntry.objects.get(action=AuditAction.REJECTED)

    page = client.post(
        workflow_url(customer, "approve"), {"comment": "", "shown_at": shown_at}
    )

    assert page.context["meanwhile"] == f"Rejected by approver at {at(entry)}."


@pytest.mark.django_db
def test_an_old_decision_is_not_news(client, customer, approver, two_approvers):
    """Only what happened after the page was shown is reported as meanwhile."""
    client.force_login(approver)
    services.proposal_approve(proposal=two_approvers, actor=approver, comment="Ok")
    shown_at = timezone.now().isoformat()

    page = client.post(
        workflow_url(customer, "approve"), {"comment": "", "shown_at": shown_at}
    )

    assert page.context["meanwhile"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("comment", ["", "   \r\n  "])
def test_a_rejection_without_a_comment_stays_on_the_form(
    client, customer, approver, two_approvers, comment
):
    client.force_login(approver)

    page = client.post(workflow_url(customer, "reject"), {"comment": comment})

    assert page.status_code == 200
    assert page.context["error"] == COMMENT_REQUIRED_TO_REJECT
    assert page.context["may_act"]
    assert '<textarea id="id_comment" name="comment"' in page.text
    two_approvers.refresh_from_db()
    assert two_approvers.state == ProposalState.PENDING


@pytest.mark.django_db
def test_a_delegation_refused_keeps_the_chosen_user_and_comment(
    client, customer, clerk, approver, two_approvers
):
    client.force_login(approver)

    page = client.post(
        workflow_url(customer, "delegate"),
        {"to_user": str(clerk.pk), "comment": "Away next week"},
    )

    assert page.status_code == 200
    assert (
        page.context["error"]
        == "clerk proposed or submitted these changes, so the work item cannot go to them."
    )
    assert page.context["to_user"] == str(clerk.pk)
    assert "Away next week</textarea>" in page.text
