"""The task worker killed (SIGKILL) in the middle of an import: nothing was written, the
job is found dead once its lease runs out, and its owner confirms it again and it
imports. And a worker that was taken for dead but still ran writes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import formats, timezone

from customers.models import Customer
from workflow import services, tasks
from workflow.models import ImportJob, ImportJobState
from workflow.services.import_jobs import RUN_INTERRUPTED, JobLease
from workflow.tasks import recheck_import

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
ROWS = 30_000
LEASE = 3
FILE = "account;name;customer_group;credit_limit\n" + "".join(
    f"K{n:06d};Killed import {n};10;{n}\n" for n in range(ROWS)
)
JOB_URL = "admin:customers_customer_import_job"
CONFIRM_URL = "admin:customers_customer_import_confirm"


def imported() -> int:
    return Customer.objects.filter(account__startswith="K").count()


def other_transactions() -> list[tuple]:
    """Sessions on the test database with a transaction open, but this test's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, query FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND xact_start IS NOT NULL"
        )
        return cursor.fetchall()


def last_seen(job: ImportJob) -> str:
    return formats.localize(timezone.localtime(job.heartbeat_at))


def wait_for(condition, seconds: float, what: str, worker=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker ended before {what}: {worker.stdout.read()}")
        time.sleep(0.05)
    pytest.fail(f"no {what} within {seconds} s")


@pytest.fixture
def database_worker(job_media, settings):
    """`manage.py db_worker` in a process of its own, on the test database."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    url = (
        f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "custapproval.settings.local",
        "DEBUG": "false",
        "DATABASE_URL": url,
        "TASKS_BACKEND": "database",
        "MEDIA_ROOT": str(job_media),
        "IMPORT_LEASE_SECONDS": str(LEASE),
    }
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.1",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def test_a_worker_killed_mid_import_leaves_a_job_its_owner_imports_again(
    client, clerk, previewed_job, database_worker, settings
):
    settings.IMPORT_LEASE_SECONDS = LEASE
    job = previewed_job(FILE)
    assert (job.state, job.preview["total_rows"]) == (ImportJobState.PREVIEWED, ROWS)
    client.force_login(clerk)

    # Confirmed, and queued for the database worker as the Import page does a large file.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    services.import_job_confirm(job=job, actor=clerk)
    tasks.run_import.enqueue(job_id=job.pk)
    confirmed_at = timezone.now()

    worker = database_worker()
    running = wait_for(
        lambda: ImportJob.objects.filter(pk=job.pk, processed_rows__gt=0).first(),
        120,
        "rows imported",
        worker,
    )
    # Seen from outside while the import's own transaction is open.
    assert running.state == ImportJobState.APPLYING
    assert 0 < running.processed_rows < ROWS
    assert running.heartbeat_at > confirmed_at
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)

    # The import's transaction ends with the worker (no process it started keeps its
    # session open, with the row locks), and all or nothing held.
    wait_for(lambda: not other_transactions(), 10, "end of the worker's transaction")
    assert imported() == 0
    # Within the lease the worker might be slow only: the job is left alone.
    assert services.import_jobs_recover(recheck=recheck_import) == 0
    job.refresh_from_db()
    assert job.state == ImportJobState.APPLYING

    time.sleep(
        max(0, (job.heartbeat_at - timezone.now()).total_seconds() + LEASE + 0.2)
    )
    assert services.import_jobs_recover(recheck=recheck_import) == 1
    job.refresh_from_db()
    message = RUN_INTERRUPTED % {"time": last_seen(job)}
    assert (job.state, job.interruptions, job.message) == (
        ImportJobState.PREVIEWED,
        1,
        message,
    )
    page = client.get(reverse(JOB_URL, args=[job.pk])).content.decode()
    assert f'<p class="errornote">{message}</p>' in page
    assert "Confirm import" in page

    # The owner confirms again on the page, and it imports (by a new worker if the
    # page hands it to one).
    database_worker()
    client.post(reverse(CONFIRM_URL, args=[job.pk]))
    job = wait_for(
        lambda: ImportJob.objects.filter(
            pk=job.pk, state__in=[ImportJobState.APPLIED, ImportJobState.FAILED]
        ).first(),
        180,
        "end of the second import",
    )
    assert (job.state, job.message, job.processed_rows) == (
        ImportJobState.APPLIED,
        "",
        ROWS,
    )
    assert imported() == ROWS


def test_a_worker_taken_for_dead_that_still_runs_writes_nothing(
    clerk, previewed_job, lease_expired, monkeypatch
):
    job = previewed_job()
    services.import_job_confirm(job=job, actor=clerk)
    in_batch, carry_on = threading.Event(), threading.Event()
    progress = JobLease.progress

    def stall(self, report):
        progress(self, report)
        in_batch.set()
        carry_on.wait(timeout=30)

    monkeypatch.setattr(JobLease, "progress", stall)
    outcome = {}

    def run():
        try:
            outcome["job"] = services.import_job_run(job=job)
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    assert in_batch.wait(timeout=30)
    assert (
        services.import_jobs_recover(recheck=recheck_import, now=lease_expired()) == 1
    )
    carry_on.set()
    worker.join(timeout=30)

    assert outcome["job"].state == ImportJobState.PREVIEWED
    assert Customer.objects.filter(account__startswith="J").count() == 0
    job.refresh_from_db()
    assert (job.state, job.interruptions, job.result) == (
        ImportJobState.PREVIEWED,
        1,
        {},
    )
    monkeypatch.undo()
    services.import_job_confirm(job=job, actor=clerk)
    assert services.import_job_run(job=job).state == ImportJobState.APPLIED
    assert Customer.objects.filter(account__startswith="J").count() == 3


def test_a_worker_in_a_batch_longer_than_the_lease_keeps_its_job(
    clerk, previewed_job, monkeypatch, settings
):
    """The lease is renewed by a thread of its own, not only between batches."""
    settings.IMPORT_LEASE_SECONDS = 1
    job = previewed_job()
    services.import_job_confirm(job=job, actor=clerk)
    in_batch, carry_on = threading.Event(), threading.Event()
    progress, init = JobLease.progress, JobLease.__init__

    def beating(self, *args, **kwargs):
        # On PostgreSQL the thread's own connection may write beside the import's
        # transaction; the test settings leave out the "progress" alias only.
        init(self, *args, **kwargs)
        self.beating = True

    def stall(self, report):
        progress(self, report)
        in_batch.set()
        carry_on.wait(timeout=30)

    monkeypatch.setattr(JobLease, "__init__", beating)
    monkeypatch.setattr(JobLease, "progress", stall)
    outcome = {}

    def run():
        try:
            outcome["job"] = services.import_job_run(job=job)
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    assert in_batch.wait(timeout=30)
    stalled_until = time.monotonic() + 3 * settings.IMPORT_LEASE_SECONDS
    while time.monotonic() < stalled_until:
        assert services.import_jobs_recover(recheck=recheck_import) == 0
        time.sleep(0.1)
    carry_on.set()
    worker.join(timeout=30)

    assert outcome["job"].state == ImportJobState.APPLIED
    assert Customer.objects.filter(account__startswith="J").count() == 3
