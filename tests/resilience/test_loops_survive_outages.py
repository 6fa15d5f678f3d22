"""The escalation loop (`process_escalations --every`) keeps going when the database
drops its connection, between passes and in the middle of one, and escalates the next
overdue step; the heartbeat tells /health/ it runs."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.db import OperationalError
from django.utils import timezone

from tests.conftest import submit
from tests.factories import CustomerFactory
from tests.resilience.conftest import (
    database_url,
    other_connection,
    terminate,
    wait_for,
)
from tests.workflow.test_escalation import late_workflow
from workflow.management.outages import keep_running
from workflow.models import EscalationAction, ProcessHeartbeat, ProposalState

ROOT = Path(__file__).resolve().parents[2]
LOOP = "escalation-loop-under-test"
LIMIT = timedelta(hours=2)  # late_workflow's time limit


def applied(proposal) -> bool:
    proposal.refresh_from_db()
    return proposal.state == ProposalState.APPLIED


def overdue_proposal(clerk, *, due_in: timedelta = -LIMIT):
    """A proposal of a new customer whose work item is due `due_in` from now."""
    with time_machine.travel(timezone.now() - LIMIT + due_in, tick=False):
        return submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))


@pytest.fixture
def escalation_loop(tmp_path):
    """`manage.py process_escalations --every 1` in a process of its own."""
    log = tmp_path / "loop.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "process_escalations", "--every", "1"],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "custapproval.settings.local",
                "DEBUG": "false",
                "DATABASE_URL": database_url(LOOP),
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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_escalation_loop_goes_on_after_losing_its_connection(
    escalation_loop, clerk, approver, approval_admin, approvals_on, admin_connection
):
    late_workflow(approval_admin, approver, EscalationAction.APPROVE)
    first = overdue_proposal(clerk)
    wait_for(lambda: applied(first), 60, "first escalation", escalation_loop)
    wait_for(
        lambda: ProcessHeartbeat.objects.filter(process="escalations").exists(),
        10,
        "a heartbeat",
    )

    # Dropped while the loop sleeps: the next pass opens a new connection.
    terminate(admin_connection, application_name=LOOP)
    second = overdue_proposal(clerk)
    wait_for(lambda: applied(second), 30, "escalation after the drop", escalation_loop)

    # Dropped in the middle of a pass: the loop waits for the customer's row, which an
    # administrator's transaction holds, when the database drops its connection.
    third = overdue_proposal(clerk, due_in=timedelta(seconds=2))
    locker = other_connection()
    locker.autocommit = False
    with locker.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM customers_customer WHERE id = %s FOR UPDATE",
            [third.object_id],
        )
    wait_for(
        lambda: terminate(
            admin_connection, application_name=LOOP, waiting_on_lock=True
        ),
        30,
        "the loop waiting for the customer's row",
        escalation_loop,
    )
    locker.rollback()
    locker.close()
    wait_for(
        lambda: applied(third), 60, "escalation after the lost pass", escalation_loop
    )

    assert escalation_loop.poll() is None
    assert "escalations: lost the database" in escalation_loop.log.read_text()


class Stop(Exception):
    pass


@pytest.mark.django_db
def test_a_failed_pass_is_tried_again_after_a_growing_wait(monkeypatch):
    # The test's transaction keeps its connection: nothing is lost, nothing closed.
    for name in ("drop_connections", "close_old_connections"):
        monkeypatch.setattr(f"workflow.management.outages.{name}", lambda: None)
    passes = iter([OperationalError("server closed the connection"), "a", OSError("x")])
    written: list[str] = []
    waits: list[float] = []

    def step() -> str:
        outcome = next(passes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            raise Stop

    with pytest.raises(Stop):
        keep_running(
            process="test", every=60, step=step, write=written.append, sleep=sleep
        )
    assert written == ["a"]
    # One failure, the pass, the interval, another failure: the wait starts again at
    # one second (and a quarter at most of jitter).
    assert 1 <= waits[0] <= 1.25 and waits[1] == 60 and 1 <= waits[2] <= 1.25
