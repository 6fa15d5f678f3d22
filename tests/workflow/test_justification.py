"""Submit asks why: a justification, optional unless the workflow requires one; the
approvers read it on their work items and the proposal's page, it is in their e-mail
and in the History; the "applied" e-mail names who approved, with their comment."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from customers.models import AccountsReceivableWorkflow
from tests.conftest import propose, submit
from tests.workflow.test_admin_pages import WORKFLOWS_ADD, workflow_post
from workflow import services
from workflow.exceptions import JUSTIFICATION_REQUIRED, NotSubmittable
from workflow.models import AuditAction, ChangeProposal, ProposalState

WHY = "Orders doubled since the merger; sales asked for it."


@pytest.fixture
def required(active_workflow):
    active_workflow.justification_required = True
    active_workflow.save(update_fields=["justification_required"])
    return active_workflow


def workflow_url(customer, action):
    return reverse("admin:customers_customer_workflow", args=[customer.pk, action])


@pytest.mark.django_db
@pytest.mark.parametrize("blank", ["", "   \n "])
def test_a_workflow_that_requires_a_justification_refuses_a_submission_without(
    customer, clerk, approvals_on, required, blank
):
    proposal = propose(customer, clerk, credit_limit=Decimal("25000"))
    with pytest.raises(NotSubmittable) as refused:
        services.proposal_submit(proposal=proposal, actor=clerk, justification=blank)
    assert refused.value.message == JUSTIFICATION_REQUIRED
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.DRAFT


@pytest.mark.django_db
def test_the_justification_is_kept_and_in_the_history(
    customer, clerk, approver, approvals_on, required
):
    proposal = propose(customer, clerk, credit_limit=Decimal("25000"))
    proposal = services.proposal_submit(
        proposal=proposal, actor=clerk, justification=f"  {WHY} "
    )
    assert proposal.state == ProposalState.PENDING
    assert proposal.justification == WHY
    entry = proposal.audit_entries.get(action=AuditAction.SUBMITTED)
    assert entry.comment == f"Sent to Test workflow (v1). Justification: {WHY}"
    assert entry.comment_translations["nl"] == (
        f"Verzonden naar Test workflow (v1). Motivering: {WHY}"
    )


@pytest.mark.django_db
def test_without_the_requirement_a_justification_is_optional(
    customer, clerk, approver, approvals_on, active_workflow
):
    proposal = submit(customer, clerk, credit_limit=Decimal("25000"))
    assert (proposal.state, proposal.justification) == (ProposalState.PENDING, "")
    entry = proposal.audit_entries.get(action=AuditAction.SUBMITTED)
    assert entry.comment == "Sent to Test workflow (v1)."


@pytest.mark.django_db
def test_a_resubmission_keeps_the_justification_unless_given_a_new_one(
    customer, clerk, approver, approvals_on, required
):
    proposal = propose(customer, clerk, credit_limit=Decimal("25000"))
    proposal = services.proposal_submit(
        proposal=proposal, actor=clerk, justification=WHY
    )
    services.proposal_request_change(
        proposal=proposal, actor=approver, comment="Which merger?"
    )
    proposal = services.proposal_submit(proposal=proposal, actor=clerk)
    assert proposal.justification == WHY


@pytest.mark.django_db
def test_the_submit_page_asks_and_keeps_what_was_typed_when_refused(
    client, customer, clerk, approver, approvals_on, required
):
    propose(customer, clerk, credit_limit=Decimal("25000"))
    client.force_login(clerk)

    page = client.get(workflow_url(customer, "submit"))
    assert "Justification (required)" in page.text
    assert '<textarea id="id_justification" name="justification"' in page.text

    refused = client.post(workflow_url(customer, "submit"), {"justification": "  "})
    assert refused.status_code == 200
    assert refused.context["error"] == JUSTIFICATION_REQUIRED
    assert refused.context["proposal"].state == ProposalState.DRAFT

    done = client.post(workflow_url(customer, "submit"), {"justification": WHY})
    assert done.status_code == 302
    proposal = ChangeProposal.objects.get()
    assert (proposal.state, proposal.justification) == (ProposalState.PENDING, WHY)


@pytest.mark.django_db
def test_an_optional_justification_says_so(
    client, customer, clerk, approvals_on, active_workflow
):
    propose(customer, clerk, credit_limit=Decimal("25000"))
    client.force_login(clerk)
    page = client.get(workflow_url(customer, "submit"))
    assert "Justification (optional)" in page.text


@pytest.mark.django_db
def test_approvers_read_it_on_their_work_items_and_the_proposed_changes(
    client, customer, clerk, approver, approvals_on, required
):
    proposal = propose(customer, clerk, credit_limit=Decimal("25000"))
    services.proposal_submit(proposal=proposal, actor=clerk, justification=WHY)
    client.force_login(approver)

    items = client.get(reverse("admin:workflow_workitem_changelist"))
    assert f'<td class="field-justification"><span title="{WHY}">{WHY}</span>' in (
        items.text.replace("&#x27;", "'")
    )
    review = client.get(
        reverse("admin:customers_customer_proposed_changes", args=[customer.pk])
    )
    assert f"Justification: “{WHY}”" in review.text.replace("&#x27;", "'")


@pytest.mark.django_db
def test_the_approvers_mail_has_it_and_the_applied_mail_names_the_approver(
    customer,
    clerk,
    approver,
    approvals_on,
    required,
    django_capture_on_commit_callbacks,
):
    proposal = propose(customer, clerk, credit_limit=Decimal("25000"))
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_submit(proposal=proposal, actor=clerk, justification=WHY)
    assigned = [m for m in mail.outbox if m.to == ["approver@example.com"]]
    assert f"Justification: {WHY}" in assigned[0].body

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_approve(
            proposal=proposal, actor=approver, comment="Checked with sales."
        )
    (applied,) = mail.outbox
    assert applied.to == ["clerk@example.com"]
    assert "Approved by approver: “Checked with sales.”" in applied.body


@pytest.mark.django_db
def test_the_bulk_applied_mail_names_the_approver_for_each(
    customer,
    clerk,
    approver,
    approvals_on,
    active_workflow,
    django_capture_on_commit_callbacks,
):
    proposal = submit(customer, clerk, credit_limit=Decimal("25000"))
    with django_capture_on_commit_callbacks(execute=True):
        services.proposals_approve_bulk(
            proposal_ids=[proposal.pk], actor=approver, comment="All fine."
        )
    (applied,) = mail.outbox
    assert f"- {customer} — Approved by approver: “All fine.”" in applied.body


@pytest.mark.django_db
def test_the_workflow_page_shows_and_sets_the_requirement(
    client, approval_admin, roles
):
    client.force_login(approval_admin)
    form = client.get(reverse(WORKFLOWS_ADD) + "?type=customers.customer")
    assert "Justification required" in form.text

    client.post(
        reverse(WORKFLOWS_ADD) + "?type=customers.customer",
        {
            **workflow_post(assigned_group=roles["Approvers"].pk),
            "justification_required": "on",
        },
    )
    created = AccountsReceivableWorkflow.objects.get(name="Two approvers")
    assert created.justification_required
    copy = services.workflow_copy(
        workflow=created, actor=approval_admin, as_new_version=True
    )
    assert copy.justification_required


@pytest.mark.django_db
def test_the_workflow_history_page_shows_it(
    client, customer, clerk, approver, approval_admin, approvals_on, required
):
    proposal = propose(customer, clerk, credit_limit=Decimal("25000"))
    services.proposal_submit(proposal=proposal, actor=clerk, justification=WHY)
    client.force_login(approval_admin)

    page = client.get(
        reverse("admin:workflow_changeproposal_change", args=[proposal.pk])
    )

    assert f'<p class="justification">Justification: “{WHY}”</p>' in page.text.replace(
        "&#x27;", "'"
    )
