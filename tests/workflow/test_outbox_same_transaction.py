"""Each e-mail is a row of the outbox written in the transaction of the decision that
causes it: no decision without its e-mails, no e-mail for a decision rolled back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction

from tests.conftest import propose, submit
from workflow import services
from workflow.models import OutboxMessage, OutboxState, ProposalState

# Real commits: the e-mails go out after the commit, not at the end of a test.
pytestmark = pytest.mark.django_db(transaction=True)


def test_the_rows_are_written_with_the_decision_and_sent_after_its_commit(
    customer, clerk, approver, approver2, approvals_on, active_workflow
):
    proposal = propose(customer, clerk, credit_limit=Decimal("1"))
    with transaction.atomic():
        services.proposal_submit(proposal=proposal, actor=clerk)
        written = list(
            OutboxMessage.objects.order_by("recipient__username").values_list(
                "recipient__username", "event", "state"
            )
        )
        sent_before_commit = list(mail.outbox)

    assert written == [
        ("approver", "assigned", OutboxState.PENDING),
        ("approver2", "assigned", OutboxState.PENDING),
    ]
    assert sent_before_commit == []
    assert list(
        OutboxMessage.objects.order_by("recipient__username").values_list(
            "recipient__username", "state", "attempts"
        )
    ) == [("approver", OutboxState.SENT, 1), ("approver2", OutboxState.SENT, 1)]
    assert sorted(m.to[0] for m in mail.outbox) == [
        "approver2@example.com",
        "approver@example.com",
    ]


def test_a_decision_that_rolls_back_leaves_no_row_and_sends_nothing(
    customer, clerk, approver, approvals_on, active_workflow
):
    proposal = propose(customer, clerk, credit_limit=Decimal("1"))
    with pytest.raises(RuntimeError), transaction.atomic():
        services.proposal_submit(proposal=proposal, actor=clerk)
        raise RuntimeError("the database fails after the submit")

    assert OutboxMessage.objects.count() == 0
    assert mail.outbox == []


def test_no_decision_stands_without_its_e_mail(
    customer, clerk, approver, approvals_on, active_workflow, monkeypatch
):
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    mail.outbox.clear()

    def outbox_full(*args, **kwargs):
        raise RuntimeError("the outbox table is full")

    monkeypatch.setattr(OutboxMessage.objects, "bulk_create", outbox_full)
    with pytest.raises(RuntimeError, match="outbox table is full"):
        services.proposal_approve(proposal=proposal, actor=approver)

    proposal.refresh_from_db()
    customer.refresh_from_db()
    assert proposal.state == ProposalState.PENDING
    assert customer.credit_limit == Decimal("10000.00")
    assert mail.outbox == []


def test_one_row_per_recipient_so_one_bad_address_does_not_hold_up_the_others(
    customer, clerk, approver, approver2, approvals_on, active_workflow
):
    approver2.email = ""
    approver2.save(update_fields=["email"])

    submit(customer, clerk, credit_limit=Decimal("1"))

    assert [m.to for m in mail.outbox] == [["approver@example.com"]]
    failed = OutboxMessage.objects.get(recipient=approver2)
    assert (failed.state, failed.attempts, failed.last_error) == (
        OutboxState.FAILED,
        1,
        "The recipient has no e-mail address.",
    )


def test_one_transaction_sends_all_its_e_mails_with_one_delivery(
    clerk, clerk2, approver, approvals_on, active_workflow, monkeypatch
):
    from tests.factories import CustomerFactory
    from workflow import outbox

    proposals = [
        submit(CustomerFactory(), clerk, credit_limit=Decimal("1")),
        submit(CustomerFactory(), clerk2, credit_limit=Decimal("2")),
    ]
    mail.outbox.clear()
    deliveries = []
    deliver = outbox.outbox_deliver

    def counted(**kwargs):
        deliveries.append(sorted(kwargs["message_ids"]))
        return deliver(**kwargs)

    monkeypatch.setattr(outbox, "outbox_deliver", counted)
    services.proposals_approve_bulk(
        proposal_ids=[p.pk for p in proposals], actor=approver
    )

    applied = OutboxMessage.objects.filter(event="applied").order_by("pk")
    assert deliveries == [[m.pk for m in applied]]
    assert sorted(m.to[0] for m in mail.outbox) == [
        "clerk2@example.com",
        "clerk@example.com",
    ]
