"""The task worker (`manage.py task_worker`) keeps going when the database drops its
connection, between tasks and in the middle of one: the interrupted task is recorded
as failed, saying why, and the next task runs. django-tasks-db's own `db_worker` stops
for good in both cases (see workflow/management/commands/task_worker.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django_tasks_db.models import DBTaskResult

from tests.conftest import submit
from tests.resilience.conftest import (
    database_url,
    other_connection,
    terminate,
    wait_for,
)
from workflow import notifications
from workflow.models import ProcessHeartbeat

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
WORKER = "task-worker-under-test"
COMMAND = "task_worker"


@pytest.fixture
def task_worker(tmp_path):
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                COMMAND,
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.1",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "custapproval.settings.local",
                "DEBUG": "false",
                "DATABASE_URL": database_url(WORKER),
                "TASKS_BACKEND": "database",
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


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def status(result) -> str:
    return DBTaskResult.objects.get(pk=result.id).status


def finished(result):
    return lambda: status(result) in {"SUCCESSFUL", "FAILED"}


def test_the_worker_goes_on_after_losing_its_connection(
    database_tasks,
    task_worker,
    customer,
    clerk,
    approver,
    approvals_on,
    active_workflow,
    admin_connection,
):
    proposal = submit(customer, clerk, credit_limit=Decimal("25000"))

    def mail():
        return notifications.send_notification.enqueue(
            event=notifications.ASSIGNED,
            proposal_id=proposal.pk,
            user_ids=[approver.pk],
        )

    first = mail()
    wait_for(finished(first), 60, "the first task", task_worker)
    assert status(first) == "SUCCESSFUL"
    wait_for(
        lambda: ProcessHeartbeat.objects.filter(process="worker").exists(),
        10,
        "a heartbeat",
        task_worker,
    )

    # Dropped while the worker waits for work.
    terminate(admin_connection, application_name=WORKER)
    second = mail()
    wait_for(finished(second), 30, "a task after the drop", task_worker)
    assert status(second) == "SUCCESSFUL"

    # Dropped in the middle of a task: it waits for the proposal, which an
    # administrator's transaction holds, when the database drops its connection.
    locker = other_connection()
    locker.autocommit = False
    with locker.cursor() as cursor:
        cursor.execute("LOCK TABLE workflow_changeproposal IN ACCESS EXCLUSIVE MODE")
    third = mail()
    wait_for(
        lambda: terminate(
            admin_connection, application_name=WORKER, waiting_on_lock=True
        ),
        30,
        "the task waiting for the proposal",
        task_worker,
    )
    locker.rollback()
    locker.close()
    wait_for(finished(third), 60, "the interrupted task recorded", task_worker)
    interrupted = DBTaskResult.objects.get(pk=third.id)
    assert interrupted.status == "FAILED"
    # What interrupted it, in its traceback (psycopg2's words vary with the moment).
    assert "django.db.utils.OperationalError" in interrupted.traceback

    fourth = mail()
    wait_for(finished(fourth), 60, "the task after the interrupted one", task_worker)
    assert status(fourth) == "SUCCESSFUL"
    assert task_worker.poll() is None
    assert "lost the database while recording task" in task_worker.log.read_text()
