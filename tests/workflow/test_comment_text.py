"""A decision's comment (approve, reject, request change, recall, delegate, reassign,
bulk approve) refuses control characters and direction overrides, and more than 2,000
characters, with a sentence instead of a server error; nothing is decided then."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.conftest import submit
from workflow import services
from workflow.models import AuditAction, AuditEntry, ProposalState, WorkItemState
from workflow.text import (
    COMMENT_CONTROL_CHARACTER,
    COMMENT_DIRECTION_CONTROL,
    COMMENT_MAX_LENGTH,
    COMMENT_TOO_LONG,
    InvalidComment,
)

NUL_MESSAGE = str(COMMENT_CONTROL_CHARACTER) % {
    "character": "U+0000 NUL",
    "position": 4,
}
OVERRIDE_MESSAGE = str(COMMENT_DIRECTION_CONTROL) % {
    "character": "U+202E RIGHT-TO-LEFT OVERRIDE",
    "position": 6,
}


@pytest.fixture
def pending(customer, clerk, approver, approver2, approvals_on, active_workflow):
    return submit(customer, clerk, credit_limit=Decimal("25000"))


def workflow_url(customer, action):
    return reverse("admin:customers_customer_workflow", args=[customer.pk, action])


def page_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def decide(action, proposal, users, comment):
    """Each service that takes a comment, as the person who may use it."""
    clerk, approver, approver2, admin = users
    if action == "approve":
        services.proposal_approve(proposal=proposal, actor=approver, comment=comment)
    elif action == "reject":
        services.proposal_reject(proposal=proposal, actor=approver, comment=comment)
    elif action == "request_change":
        services.proposal_request_change(
            proposal=proposal, actor=approver, comment=comment
        )
    elif action == "recall":
        services.proposal_recall(proposal=proposal, actor=clerk, comment=comment)
    elif action == "delegate":
        services.work_item_delegate(
            proposal=proposal, actor=approver, to_user=approver2, comment=comment
        )
    elif action == "reassign":
        services.work_item_reassign(
            work_item=proposal.work_items.get(assignee=approver),
            actor=admin,
            to_user=approver2,
            comment=comment,
        )
    else:
        services.proposals_approve_bulk(
            proposal_ids=[proposal.pk], actor=approver, comment=comment
        )


ACTIONS = [
    "approve",
    "reject",
    "request_change",
    "recall",
    "delegate",
    "reassign",
    "bulk_approve",
]


@pytest.mark.django_db
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize(
    ("comment", "message"),
    [("Ok \x00", NUL_MESSAGE), ("Fine \u202e", OVERRIDE_MESSAGE)],
)
def test_every_service_with_a_comment_refuses_and_decides_nothing(
    pending, clerk, approver, approver2, approval_admin, action, comment, message
):
    users = (clerk, approver, approver2, approval_admin)
    with pytest.raises(InvalidComment) as refused:
        decide(action, pending, users, f"  {comment} ")

    assert refused.value.message == message
    pending.refresh_from_db()
    assert pending.state == ProposalState.PENDING
    assert set(pending.work_items.values_list("state", flat=True)) == {
        WorkItemState.OPEN
    }


@pytest.mark.django_db
@pytest.mark.parametrize("action", ACTIONS)
def test_every_service_with_a_comment_refuses_more_than_2000_characters(
    pending, clerk, approver, approver2, approval_admin, action
):
    users = (clerk, approver, approver2, approval_admin)
    with pytest.raises(InvalidComment) as refused:
        decide(action, pending, users, "x" * (COMMENT_MAX_LENGTH + 1))

    assert refused.value.message == str(COMMENT_TOO_LONG) % {
        "limit": "2,000",
        "length": "2,001",
    }
    pending.refresh_from_db()
    assert pending.state == ProposalState.PENDING


@pytest.mark.django_db
def test_the_approve_page_says_what_is_wrong_with_the_comment(
    client, customer, approver, pending
):
    client.force_login(approver)

    response = client.post(
        workflow_url(customer, "approve"), {"comment": "Fine \u202eevorppa"}
    )

    # The page again, with the reason and the comment as typed, to fix it.
    assert response.status_code == 200
    assert response.context["error"] == OVERRIDE_MESSAGE
    assert "Fine \u202eevorppa</textarea>" in response.text
    pending.refresh_from_db()
    assert pending.state == ProposalState.PENDING
    assert not AuditEntry.objects.filter(
        proposal=pending, action=AuditAction.APPROVED
    ).exists()


@pytest.mark.django_db
def test_a_nul_in_a_rejection_is_a_sentence_not_a_server_error(
    client, customer, approver, pending
):
    """PostgreSQL cannot store NUL: the write would fail with a 500."""
    client.force_login(approver)

    response = client.post(workflow_url(customer, "reject"), {"comment": "No \x00"})

    assert response.status_code == 200
    assert response.context["error"] == NUL_MESSAGE
    pending.refresh_from_db()
    assert pending.state == ProposalState.PENDING


@pytest.mark.django_db
def test_2000_characters_with_line_breaks_as_the_browser_sends_them_are_taken(
    client, customer, approver, pending
):
    """The textarea counts a line break as one character, the browser sends two."""
    client.force_login(approver)
    lines = ["x" * 9] * 200
    comment = "\r\n".join(lines) + "\r\n"

    client.post(workflow_url(customer, "reject"), {"comment": comment})

    pending.refresh_from_db()
    assert pending.state == ProposalState.REJECTED
    entry = AuditEntry.objects.get(proposal=pending, action=AuditAction.REJECTED)
    assert entry.comment == "\n".join(lines)


@pytest.mark.django_db
def test_the_comment_boxes_stop_at_2000_characters(
    client, customer, approver, approval_admin, pending
):
    client.force_login(approver)
    decision = client.get(workflow_url(customer, "reject")).content.decode()
    assert (
        '<textarea id="id_comment" name="comment" class="decision-comment" '
        'maxlength="2000" required></textarea>'
    ) in decision

    client.force_login(approval_admin)
    detail = client.get(
        reverse("admin:workflow_changeproposal_change", args=[pending.pk])
    ).content.decode()
    assert '<input type="text" name="comment" maxlength="2000"' in detail
