"""Proposals and work items through the API: every action, and its refusal, under the
same permissions and separation of duties as the pages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.models import Customer
from tests.api.conftest import token_client
from tests.conftest import propose, submit
from workflow.models import (
    AuditAction,
    AuditEntry,
    ProposalState,
    Source,
    WorkItem,
    WorkItemState,
)


def action_url(proposal, name: str) -> str:
    return f"/api/v1/proposals/{proposal.pk}/{name}/"


@pytest.fixture
def pending(customer, clerk, approver, approvals_on, active_workflow):
    return submit(customer, clerk, credit_limit=Decimal("25000"))


@pytest.mark.django_db
def test_a_proposal_reads_with_its_changes_old_to_new(pending, clerk):
    body = token_client(clerk).get(f"/api/v1/proposals/{pending.pk}/").json()

    assert body["state"] == ProposalState.PENDING
    assert body["changes"] == [
        {
            "field": "credit_limit",
            "label": "Credit limit",
            "old": "10000.00",
            "new": "25000.00",
            "old_display": "10000.00",
            "new_display": "25000.00",
            "proposed_by": "clerk",
        }
    ]


@pytest.mark.django_db
def test_submit_sends_a_draft_to_the_workflow(
    customer, clerk, approver, approvals_on, active_workflow
):
    draft = propose(customer, clerk, credit_limit=Decimal("25000"))

    response = token_client(clerk, "CRM").post(
        action_url(draft, "submit"), {"justification": "New contract"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["state"] == ProposalState.PENDING
    assert response.json()["justification"] == "New contract"
    entry = AuditEntry.objects.get(action=AuditAction.SUBMITTED)
    assert (entry.source, entry.comment_translations["api_token"]) == (
        Source.API,
        "CRM",
    )


@pytest.mark.django_db
def test_approve_applies_the_change(pending, approver, customer):
    response = token_client(approver).post(
        action_url(pending, "approve"), {"comment": "Fine"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["state"] == ProposalState.APPLIED
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("25000.00")


@pytest.mark.django_db
def test_a_submitter_who_is_an_approver_can_never_approve(
    customer, clerk, approver, roles, approvals_on, active_workflow
):
    clerk.groups.add(roles["Approvers"])
    clerk = type(clerk).objects.get(pk=clerk.pk)
    proposal = submit(customer, clerk, credit_limit=Decimal("25000"))

    response = token_client(clerk).post(
        action_url(proposal, "approve"), {"comment": "mine"}, format="json"
    )

    assert response.status_code == 403
    assert "because you proposed or submitted them" in response.json()["detail"]
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PENDING


@pytest.mark.django_db
def test_a_clerk_may_not_approve(pending, clerk2):
    response = token_client(clerk2).post(
        action_url(pending, "approve"), {}, format="json"
    )

    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.state == ProposalState.PENDING


@pytest.mark.django_db
def test_reject_needs_a_comment(pending, approver, customer):
    api = token_client(approver)

    refused = api.post(action_url(pending, "reject"), {}, format="json")
    rejected = api.post(action_url(pending, "reject"), {"comment": "No"}, format="json")

    assert refused.status_code == 409
    assert "explains why you reject" in refused.json()["detail"]
    assert rejected.json()["state"] == ProposalState.REJECTED
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("10000.00")


@pytest.mark.django_db
def test_request_change_sends_it_back(pending, approver):
    response = token_client(approver).post(
        action_url(pending, "request-change"),
        {"comment": "Which contract?"},
        format="json",
    )

    assert response.json()["state"] == ProposalState.CHANGES_REQUESTED


@pytest.mark.django_db
def test_recall_is_for_the_submitter(pending, clerk, clerk2):
    refused = token_client(clerk2).post(
        action_url(pending, "recall"), {}, format="json"
    )
    recalled = token_client(clerk).post(
        action_url(pending, "recall"), {"comment": "Wrong amount"}, format="json"
    )

    assert refused.status_code == 403
    assert recalled.status_code == 200
    assert recalled.json()["state"] == ProposalState.DRAFT


@pytest.mark.django_db
def test_delegate_hands_the_work_item_on(pending, approver, approver2, clerk):
    api = token_client(approver)

    to_submitter = api.post(
        action_url(pending, "delegate"), {"to": "clerk", "comment": "x"}, format="json"
    )
    delegated = api.post(
        action_url(pending, "delegate"),
        {"to": "approver2", "comment": "On holiday"},
        format="json",
    )
    unknown = api.post(action_url(pending, "delegate"), {"to": "nobody"}, format="json")

    assert to_submitter.status_code == 403
    assert delegated.status_code == 200
    assert WorkItem.objects.get(assignee=approver2).state == WorkItemState.OPEN
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "to"


@pytest.mark.django_db
def test_work_items_list_the_callers_open_items_and_decide_them(
    pending, approver, approver2, customer
):
    mine = token_client(approver).get("/api/v1/work-items/").json()["results"]
    (item,) = mine

    response = token_client(approver).post(
        f"/api/v1/work-items/{item['id']}/approve/", {"comment": "ok"}, format="json"
    )
    others = token_client(approver2).get("/api/v1/work-items/").json()["results"]

    assert item["proposal"]["changes"][0]["new"] == "25000.00"
    assert response.status_code == 200
    assert response.json()["state"] == WorkItemState.APPROVED
    assert response.json()["proposal"]["state"] == ProposalState.APPLIED
    assert others == []
    assert Customer.objects.get(pk=customer.pk).credit_limit == Decimal("25000.00")


@pytest.mark.django_db
def test_someone_elses_work_item_is_not_found(pending, approver, approver2):
    item = WorkItem.objects.get(assignee=approver)

    response = token_client(approver2).post(
        f"/api/v1/work-items/{item.pk}/approve/", {}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["title"] == "Not found"


@pytest.mark.django_db
def test_proposals_list_filters_by_state(pending, clerk):
    api = token_client(clerk)

    assert [
        p["id"] for p in api.get("/api/v1/proposals/?state=pending").json()["results"]
    ] == [pending.pk]
    assert api.get("/api/v1/proposals/?state=applied").json()["results"] == []
