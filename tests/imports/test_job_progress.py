"""An import job's page shows the rows done while it runs: written after the first
batch and then about once a second, not once per batch (a million rows are a thousand
batches, each a statement on a second connection)."""

from __future__ import annotations

import pytest

from workflow.importing.plan import ImportReport
from workflow.models import ImportJob, ImportJobState
from workflow.services import import_jobs
from workflow.services.import_jobs import JobLease, LeaseLost

# Outside a transaction: on SQLite the lease is renewed only there.
pytestmark = pytest.mark.django_db(transaction=True)


def rows_done(job: ImportJob) -> int:
    job.refresh_from_db()
    return job.processed_rows


def test_the_rows_done_are_written_at_once_then_about_once_a_second(
    previewed_job, monkeypatch
):
    job = previewed_job()
    assert job.state == ImportJobState.PREVIEWED
    clock = [1000.0]
    monkeypatch.setattr(import_jobs.time, "monotonic", lambda: clock[0])
    lease = import_jobs.import_job_lease(job=job, state=ImportJobState.PREVIEWED)
    assert lease is not None

    lease.progress(ImportReport(total_rows=1000))
    assert rows_done(job) == 1000
    clock[0] += 0.5
    lease.progress(ImportReport(total_rows=2000))
    lease.progress(ImportReport(total_rows=3000))
    assert rows_done(job) == 1000
    clock[0] += import_jobs.PROGRESS_SECONDS
    lease.progress(ImportReport(total_rows=4000))
    assert rows_done(job) == 4000


def test_a_job_taken_away_is_noticed_at_the_next_write(previewed_job, monkeypatch):
    job = previewed_job()
    clock = [1000.0]
    monkeypatch.setattr(import_jobs.time, "monotonic", lambda: clock[0])
    lease = JobLease(job, ImportJobState.PREVIEWED)
    lease.progress(ImportReport(total_rows=1000))
    ImportJob.objects.filter(pk=job.pk).update(interruptions=job.interruptions + 1)

    clock[0] += import_jobs.PROGRESS_SECONDS
    with pytest.raises(LeaseLost):
        lease.progress(ImportReport(total_rows=2000))
    assert rows_done(job) == 1000
