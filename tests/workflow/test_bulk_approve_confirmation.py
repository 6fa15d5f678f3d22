"""Approve the selected changes first shows what would be approved (each item with its
old → new values, what would end in Conflict) and takes one optional comment; nothing
is decided before Confirm."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.conftest import store_around_approval, submit
from tests.factories import CustomerFactory
from workflow.models import AuditAction, AuditEntry, ProposalState, WorkItem
from workflow.text import COMMENT_DIRECTION_CONTROL

WORK_ITEMS = reverse("admin:workflow_workitem_changelist")


@pytest.fixture
def two_items(clerk, approver, approvals_on, active_workflow):
    customers = [
        CustomerFactory(account="C00011", name="Adatum"),
        CustomerFactory(account="C00012", name="Fabrikam"),
    ]
    proposals = [
        submit(customers[0], clerk, credit_limit=Decimal("12500")),
        submit(customers[1], clerk, credit_limit=Decimal("30000")),
    ]
    items = [p.work_items.get(assignee=approver).pk for p in proposals]
    return customers, proposals, items


def choose(client, items, **extra):
    return client.post(
        WORK_ITEMS,
        {"action": "approve_selected", "_selected_action": items, **extra},
    )


@pytest.mark.django_db
def test_the_action_first_shows_the_items_and_decides_nothing(
    client, approver, two_items
):
    customers, proposals, items = two_items
    client.force_login(approver)

    page = choose(client, items)

    assert page.status_code == 200
    assert page.context["title"] == "Approve the selected changes?"
    listed = {
        row["item"].proposal.object_repr: [
            (line.label, line.original, line.proposed, line.current)
            for line in row["review"].lines
        ]
        for row in page.context["rows"]
    }
    assert listed == {
        "C00011 Adatum": [("Credit limit", "10000.00", "12500.00", "10000.00")],
        "C00012 Fabrikam": [("Credit limit", "10000.00", "30000.00", "10000.00")],
    }
    assert "You are about to approve 2 work items." in page.text
    assert '<textarea id="id_comment" name="comment"' in page.text
    assert page.text.count('name="_selected_action"') == 2
    assert '<input type="hidden" name="post" value="yes">' in page.text
    for proposal in proposals:
        proposal.refresh_from_db()
        assert proposal.state == ProposalState.PENDING
    assert not AuditEntry.objects.filter(action=AuditAction.APPROVED).exists()


@pytest.mark.django_db
def test_confirm_approves_with_the_comment(client, approver, two_items):
    customers, proposals, items = two_items
    client.force_login(approver)

    response = choose(client, items, post="yes", comment="Both checked.")

    assert response.status_code == 302
    for proposal in proposals:
        proposal.refresh_from_db()
        assert proposal.state == ProposalState.APPLIED
    assert sorted(
        AuditEntry.objects.filter(action=AuditAction.APPROVED).values_list(
            "object_repr", "comment"
        )
    ) == [("C00011 Adatum", "Both checked."), ("C00012 Fabrikam", "Both checked.")]


@pytest.mark.django_db
def test_the_confirmation_warns_of_what_would_end_in_conflict(
    client, approver, two_items
):
    customers, proposals, items = two_items
    store_around_approval(customers[1], credit_limit=Decimal("20000.00"))
    client.force_login(approver)

    page = choose(client, items)

    assert page.context["conflicts"] == 1
    conflicted = [r for r in page.context["rows"] if r["review"].conflict]
    assert [r["item"].proposal.object_repr for r in conflicted] == ["C00012 Fabrikam"]
    (line,) = conflicted[0]["review"].lines
    assert (line.original, line.proposed, line.current, line.moved) == (
        "10000.00",
        "30000.00",
        "20000.00",
        True,
    )
    assert "1 of them would end in Conflict" in page.text
    history = reverse("admin:customers_customer_history", args=[customers[1].pk])
    assert f'<a href="{history}">See the History</a>' in page.text


@pytest.mark.django_db
def test_a_refused_comment_shows_the_confirmation_again_with_it(
    client, approver, two_items
):
    customers, proposals, items = two_items
    client.force_login(approver)

    page = choose(client, items, post="yes", comment="Fine \u202e")

    assert page.status_code == 200
    assert page.context["error"] == str(COMMENT_DIRECTION_CONTROL) % {
        "character": "U+202E RIGHT-TO-LEFT OVERRIDE",
        "position": 6,
    }
    assert "Fine \u202e</textarea>" in page.text
    assert not AuditEntry.objects.filter(action=AuditAction.APPROVED).exists()


@pytest.mark.django_db
def test_all_of_them_across_pages_stay_selected_through_the_confirmation(
    client, approver, two_items
):
    customers, proposals, items = two_items
    client.force_login(approver)

    page = choose(client, items[:1], select_across="1")
    assert page.context["count"] == 2
    assert '<input type="hidden" name="select_across" value="1">' in page.text
    choose(client, items[:1], select_across="1", post="yes")

    assert not WorkItem.objects.filter(state="open").exists()
