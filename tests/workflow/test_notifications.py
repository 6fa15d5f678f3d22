"""E-mails go out after the commit: to assignees, and to the submitter on each outcome."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from tests.conftest import propose, submit
from workflow import services


@pytest.mark.django_db
def test_assignees_are_mailed_when_work_items_are_created(
    customer,
    clerk,
    approver,
    approver2,
    approvals_on,
    active_workflow,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        submit(customer, clerk, credit_limit=Decimal("1"))

    assert sorted(m.to[0] for m in mail.outbox) == [
        "approver2@example.com",
        "approver@example.com",
    ]
    assert mail.outbox[0].subject == f"Approval needed: changes to {customer}"
    assert (
        f"/admin/customers/customer/{customer.pk}/proposed-changes/"
        in mail.outbox[0].body
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("decide", "subject"),
    [
        (
            lambda p, a: services.proposal_approve(proposal=p, actor=a),
            "Approved and applied",
        ),
        (
            lambda p, a: services.proposal_reject(proposal=p, actor=a, comment="no"),
            "Rejected",
        ),
        (
            lambda p, a: services.proposal_request_change(
                proposal=p, actor=a, comment="fix it"
            ),
            "Sent back for changes",
        ),
    ],
)
def test_submitter_hears_the_outcome(
    customer,
    clerk,
    approver,
    approvals_on,
    active_workflow,
    django_capture_on_commit_callbacks,
    decide,
    subject,
):
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    with django_capture_on_commit_callbacks(execute=True):
        decide(proposal, approver)

    to_submitter = [m for m in mail.outbox if m.to == ["clerk@example.com"]]
    assert len(to_submitter) == 1
    assert to_submitter[0].subject.startswith(subject)


@pytest.mark.django_db
def test_nothing_is_sent_when_the_transaction_rolls_back(
    customer,
    clerk,
    approver,
    approvals_on,
    active_workflow,
    django_capture_on_commit_callbacks,
):
    from django.db import transaction

    proposal = propose(customer, clerk, credit_limit=Decimal("1"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.proposal_submit(proposal=proposal, actor=clerk)
            raise RuntimeError("the database fails after the submit")
    assert callbacks == []
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_subject_reads_the_name_as_written_not_html_escaped(
    customer,
    clerk,
    approver,
    approver2,
    approvals_on,
    active_workflow,
    django_capture_on_commit_callbacks,
):
    customer.name = "O'Brien & Sons"
    customer.save(update_fields=["name"])
    with django_capture_on_commit_callbacks(execute=True):
        submit(customer, clerk, credit_limit=Decimal("1"))

    assert mail.outbox[0].subject == (
        f"Approval needed: changes to {customer.account} O'Brien & Sons"
    )


@pytest.mark.django_db
def test_the_mail_names_the_step_the_item_was_assigned_at_even_if_sent_later(
    customer,
    clerk,
    approver,
    approver2,
    approvals_on,
    active_workflow,
    django_capture_on_commit_callbacks,
):
    """With a task worker the mail may go out after the approver already decided; it
    still names the step the work item belongs to."""
    # The callbacks (the mails) run only at the end, after the decision.
    with django_capture_on_commit_callbacks(execute=True):
        proposal = submit(customer, clerk, credit_limit=Decimal("1"))
        services.proposal_request_change(proposal=proposal, actor=approver, comment="x")

    step = active_workflow.steps.get().name
    assigned = [m for m in mail.outbox if m.subject.startswith("Approval needed")]
    assert assigned and all(f"at step “{step}”" in m.body for m in assigned)


@pytest.mark.django_db
def test_the_rejection_mail_says_why(
    customer,
    clerk,
    approver,
    approver2,
    approvals_on,
    active_workflow,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        proposal = submit(customer, clerk, credit_limit=Decimal("1"))
        mail.outbox.clear()
        services.proposal_reject(
            proposal=proposal, actor=approver, comment="Credit check failed"
        )

    (to_clerk,) = [m for m in mail.outbox if m.to == ["clerk@example.com"]]
    assert to_clerk.subject.startswith("Rejected:")
    assert "Comment: Credit check failed" in to_clerk.body
    # A closed proposal is read in the record's History, not at Proposed changes.
    assert f"/admin/customers/customer/{customer.pk}/history/" in to_clerk.body
