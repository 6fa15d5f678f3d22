"""The outbox's e-mails get out through a database outage: the outbox loop
(`process_outbox --every`) sends e-mails whose task was lost after the database
dropped its connection, and an e-mail whose deliverer lost the connection in the
middle of sending it stays due and is sent by the next run (at least once: the
reader may get it twice, never not at all). What `make loadtest` does at scale."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import OperationalError, close_old_connections, connection

from tests.conftest import submit
from tests.factories import CustomerFactory
from tests.resilience.conftest import database_url, terminate, wait_for
from workflow import outbox
from workflow.models import OutboxMessage, OutboxState, ProcessHeartbeat

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
LOOP = "outbox-loop-under-test"


@pytest.fixture
def tasks_lost(monkeypatch):
    """The rows are written, but the task that would send them after the commit is
    never run (a worker killed, a queue lost): only the outbox loop sends them."""
    monkeypatch.setattr(outbox, "deliver_after_commit", lambda message_ids: None)


@pytest.fixture
def outbox_loop(tmp_path):
    """`manage.py process_outbox --every 1` in a process of its own, printing the
    e-mails it sends (the console backend)."""
    log = tmp_path / "loop.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "process_outbox", "--every", "1"],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "custapproval.settings.local",
                "DEBUG": "false",
                "DATABASE_URL": database_url(LOOP),
                "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
                "HEARTBEAT_SECONDS": "1",
            },
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    process.log = log
    yield process
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


def all_sent(proposal):
    def check() -> bool:
        states = set(
            OutboxMessage.objects.filter(proposal=proposal).values_list(
                "state", flat=True
            )
        )
        return states == {OutboxState.SENT}

    return check


def test_the_outbox_loop_sends_what_is_written_after_it_lost_its_connection(
    tasks_lost,
    outbox_loop,
    clerk,
    approver,
    approvals_on,
    active_workflow,
    admin_connection,
):
    first = submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))
    wait_for(all_sent(first), 60, "the first e-mail sent", outbox_loop)
    wait_for(
        lambda: ProcessHeartbeat.objects.filter(process="outbox").exists(),
        10,
        "a heartbeat",
        outbox_loop,
    )

    # Dropped while the loop sleeps: the next pass opens a new connection.
    assert terminate(admin_connection, application_name=LOOP) >= 1
    second = submit(CustomerFactory(), clerk, credit_limit=Decimal("2"))
    wait_for(all_sent(second), 30, "an e-mail sent after the drop", outbox_loop)

    assert outbox_loop.poll() is None
    assert outbox_loop.log.read_text().count("To: approver@example.com") == 2


class DroppedAfterAccepting(BaseEmailBackend):
    """A mail server that accepts the message, while the database drops the
    deliverer's connection before the row can be marked sent."""

    admin = None
    victim_pid = None
    drops = 0

    def send_messages(self, messages):
        cls = DroppedAfterAccepting
        if cls.drops:
            cls.drops -= 1
            terminate(cls.admin, pids=[cls.victim_pid])
        mail.outbox.extend(messages)
        return len(messages)


def test_an_e_mail_whose_deliverer_lost_the_connection_is_sent_by_the_next_run(
    tasks_lost,
    settings,
    customer,
    clerk,
    approver,
    approvals_on,
    active_workflow,
    admin_connection,
):
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    (message,) = OutboxMessage.objects.filter(proposal=proposal)
    settings.EMAIL_BACKEND = f"{__name__}.DroppedAfterAccepting"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        DroppedAfterAccepting.victim_pid = cursor.fetchone()[0]
    DroppedAfterAccepting.admin = admin_connection
    DroppedAfterAccepting.drops = 1

    with pytest.raises(OperationalError):
        outbox.outbox_deliver()

    # As a loop does before its next pass (or Django before the next request).
    close_old_connections()
    connection.close()
    message.refresh_from_db()
    assert (message.state, message.attempts) == (OutboxState.PENDING, 0)

    assert outbox.outbox_deliver().sent == 1
    message.refresh_from_db()
    assert (message.state, message.attempts) == (OutboxState.SENT, 1)
    # The mail server got it before the drop and again after: twice, not never.
    assert [m.to for m in mail.outbox] == [["approver@example.com"]] * 2
