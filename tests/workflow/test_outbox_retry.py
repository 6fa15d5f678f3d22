"""An e-mail the mail server refuses is tried again, each time twice as late, and
sent once the server takes it; after the last try it is failed, with the reason."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from tests.conftest import submit
from tests.mailserver import REFUSAL
from workflow import services
from workflow.models import OutboxMessage, OutboxState
from workflow.outbox import retry_delay
from workflow.selectors_outbox import OutboxBacklog, outbox_backlog

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ERROR = f"SMTPServerDisconnected: {REFUSAL}"


def at(seconds: int):
    return time_machine.travel(START + timedelta(seconds=seconds), tick=False)


@pytest.fixture
def backoff(settings):
    settings.OUTBOX_BACKOFF_SECONDS = 60
    settings.OUTBOX_MAX_ATTEMPTS = 4


def test_a_refused_e_mail_is_tried_again_twice_as_late_each_time_until_sent(
    backoff, mail_server, customer, clerk, approver, approvals_on, active_workflow
):
    mail_server.refusals = 3
    with at(0):
        submit(customer, clerk, credit_limit=Decimal("1"))
    message = OutboxMessage.objects.get()
    assert (message.state, message.attempts, message.last_error) == (
        OutboxState.PENDING,
        1,
        ERROR,
    )
    # Tried again 60 s after the first refusal, 120 s after the second, 240 s after
    # the third; not a moment before.
    for due, attempts in ((60, 1), (180, 2), (420, 3)):
        message.refresh_from_db()
        assert (message.attempts, message.next_attempt_at) == (
            attempts,
            START + timedelta(seconds=due),
        )
        with at(due - 1):
            assert services.outbox_deliver() == services.OutboxDelivery()
        if attempts < 3:
            with at(due):
                assert services.outbox_deliver() == services.OutboxDelivery(retrying=1)
    assert mail.outbox == []

    with at(420):
        assert services.outbox_deliver() == services.OutboxDelivery(sent=1)
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == (
        OutboxState.SENT,
        4,
        "",
    )
    assert message.sent_at == START + timedelta(seconds=420)
    assert message.next_attempt_at is None
    assert [m.subject for m in mail.outbox] == [
        f"Approval needed: changes to {customer}"
    ]
    assert message.subject == f"Approval needed: changes to {customer}"


def test_after_the_last_try_the_e_mail_is_failed_and_no_longer_tried(
    backoff, mail_server, customer, clerk, approver, approvals_on, active_workflow
):
    mail_server.refusals = 100
    with at(0):
        submit(customer, clerk, credit_limit=Decimal("1"))
    for seconds in (60, 60 + 120, 60 + 120 + 240):
        with at(seconds):
            services.outbox_deliver()
    message = OutboxMessage.objects.get()
    assert (message.state, message.attempts, message.last_error) == (
        OutboxState.FAILED,
        4,
        ERROR,
    )
    assert message.next_attempt_at is None

    mail_server.refusals = 0
    with at(7 * 24 * 3600):
        assert services.outbox_deliver() == services.OutboxDelivery()
    assert mail.outbox == []
    assert OutboxMessage.objects.get().state == OutboxState.FAILED


def test_the_delays_double_from_the_setting_and_end_at_the_last_try(backoff):
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [
        timedelta(seconds=60),
        timedelta(seconds=120),
        timedelta(seconds=240),
        None,
    ]


def test_process_outbox_sends_what_is_due(
    backoff, mail_server, customer, clerk, approver, approvals_on, active_workflow
):
    mail_server.refusals = 1
    with at(0):
        submit(customer, clerk, credit_limit=Decimal("1"))
    with at(60):
        call_command("process_outbox", stdout=(out := io.StringIO()))
    assert out.getvalue() == "Sent 1 e-mail(s); 0 to try again, 0 failed.\n"
    assert [m.to for m in mail.outbox] == [["approver@example.com"]]


def test_the_backlog_counts_the_e_mails_due_and_not_sent(
    backoff,
    mail_server,
    customer,
    clerk,
    approver,
    approver2,
    approvals_on,
    active_workflow,
):
    mail_server.refusals = 2
    with at(0):
        submit(customer, clerk, credit_limit=Decimal("1"))
    with at(30):
        # Both are waiting for their second try: not due yet.
        assert outbox_backlog() == OutboxBacklog(due=0, oldest_age=None)
    with at(90):
        assert outbox_backlog() == OutboxBacklog(
            due=2, oldest_age=timedelta(seconds=90)
        )
        services.outbox_deliver()
        assert outbox_backlog() == OutboxBacklog(due=0, oldest_age=None)
