"""Uploaded files are kept IMPORT_FILE_RETENTION_DAYS after their job ended, then removed;
a preview nobody confirmed in that time is abandoned with the reason on its page; the
file of a job that can still be confirmed, waits or runs is never removed."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from workflow import services
from workflow.models import ImportJob, ImportJobState
from workflow.services.import_jobs import ABANDONED

pytestmark = pytest.mark.django_db

JOB_URL = "admin:customers_customer_import_job"


def days_later(days: float):
    return timezone.now() + timedelta(days=days)


def stored(job: ImportJob) -> Path:
    return Path(job.file.path)


@pytest.fixture
def jobs(clerk, previewed_job, customer):
    """An imported job, one not imported, one waiting for a worker, one ready."""
    from customers.services import customer_update

    applied = previewed_job()
    services.import_job_confirm(job=applied, actor=clerk)
    services.import_job_run(job=applied)
    failed = previewed_job("account;name;phone\nC00001;Renamed;+31 1\n")
    customer_update(customer_id=customer.pk, values={"phone": "+31 9"}, actor=clerk)
    services.import_job_confirm(job=failed, actor=clerk)
    services.import_job_run(job=failed)
    queued = previewed_job()
    services.import_job_confirm(job=queued, actor=clerk)
    ready = previewed_job()
    jobs = {"applied": applied, "failed": failed, "queued": queued, "ready": ready}
    for job in jobs.values():
        job.refresh_from_db()
    assert {name: job.state for name, job in jobs.items()} == {
        "applied": ImportJobState.APPLIED,
        "failed": ImportJobState.FAILED,
        "queued": ImportJobState.QUEUED,
        "ready": ImportJobState.PREVIEWED,
    }
    return jobs


def test_within_the_retention_every_file_is_kept(jobs, settings):
    settings.IMPORT_CONFIRM_DAYS = 7
    settings.IMPORT_FILE_RETENTION_DAYS = 7
    files = {name: stored(job) for name, job in jobs.items()}

    assert services.import_files_clean_up(now=days_later(6.9)) == 0

    assert all(path.exists() for path in files.values())
    ready = ImportJob.objects.get(pk=jobs["ready"].pk)
    assert (ready.state, ready.message) == (ImportJobState.PREVIEWED, "")


def test_after_the_retention_ended_jobs_lose_their_file_and_waiting_ones_keep_it(
    jobs, settings
):
    settings.IMPORT_CONFIRM_DAYS = 30
    settings.IMPORT_FILE_RETENTION_DAYS = 7
    files = {name: stored(job) for name, job in jobs.items()}

    assert services.import_files_clean_up(now=days_later(7.1)) == 2

    assert {name: path.exists() for name, path in files.items()} == {
        "applied": False,
        "failed": False,
        "queued": True,
        "ready": True,
    }
    after = {job.pk: job for job in ImportJob.objects.all()}
    assert {name: after[job.pk].file.name == "" for name, job in jobs.items()} == {
        "applied": True,
        "failed": True,
        "queued": False,
        "ready": False,
    }
    assert after[jobs["ready"].pk].state == ImportJobState.PREVIEWED

    # What waits for a worker still runs from its file.
    services.import_job_run(job=jobs["queued"])
    assert ImportJob.objects.get(pk=jobs["queued"].pk).state == ImportJobState.APPLIED
    assert Customer.objects.filter(account__startswith="J").count() == 3


def test_a_preview_not_confirmed_in_time_is_abandoned_and_its_file_goes_later(
    jobs, settings, client, clerk
):
    settings.IMPORT_CONFIRM_DAYS = 7
    settings.IMPORT_FILE_RETENTION_DAYS = 7
    ready = jobs["ready"]
    path = stored(ready)

    services.import_files_clean_up(now=days_later(7.1))

    ready.refresh_from_db()
    message = ABANDONED % {"days": 7}
    assert (ready.state, ready.message) == (ImportJobState.FAILED, message)
    assert path.exists()
    client.force_login(clerk)
    page = client.get(reverse(JOB_URL, args=[ready.pk])).content.decode()
    assert '<span id="job-state">Not imported</span>' in page
    assert f'<p class="errornote">{message}</p>' in page
    assert "Confirm import" not in page

    services.import_files_clean_up(now=days_later(14.0))
    assert path.exists()
    services.import_files_clean_up(now=days_later(14.2))
    ready.refresh_from_db()
    assert (path.exists(), ready.file.name) == (False, "")


def test_a_running_job_keeps_its_file_however_old(
    clerk, previewed_job, killed_worker, settings
):
    settings.IMPORT_FILE_RETENTION_DAYS = 1
    job = previewed_job()
    services.import_job_confirm(job=job, actor=clerk)
    with killed_worker():
        services.import_job_run(job=job)
    job.refresh_from_db()
    assert job.state == ImportJobState.APPLYING

    assert services.import_files_clean_up(now=days_later(30)) == 0
    assert stored(job).exists()


def test_files_no_job_refers_to_go_after_the_retention(job_media, settings):
    settings.IMPORT_FILE_RETENTION_DAYS = 7
    folder = Path(job_media) / "imports" / "2026" / "11"
    folder.mkdir(parents=True)
    orphan = folder / "cut-off-upload.xlsx"
    orphan.write_bytes(b"PK")
    recent = folder / "being-uploaded.csv"
    recent.write_bytes(b"account")
    week = timedelta(days=8).total_seconds()
    os.utime(orphan, (orphan.stat().st_atime - week, orphan.stat().st_mtime - week))

    assert services.import_files_clean_up() == 1
    assert (orphan.exists(), recent.exists()) == (False, True)


def test_the_command_recovers_and_cleans_up(
    clerk, previewed_job, killed_worker, settings, capsys
):
    job = previewed_job()
    services.import_job_confirm(job=job, actor=clerk)
    with killed_worker():
        services.import_job_run(job=job)
    settings.IMPORT_LEASE_SECONDS = 0
    settings.IMPORT_FILE_RETENTION_DAYS = 0
    ended = previewed_job("account;name;customer_group\nJ00009;Other;10\n")
    services.import_job_confirm(job=ended, actor=clerk)
    services.import_job_run(job=ended)

    call_command("process_import_jobs")

    assert capsys.readouterr().out == (
        "Recovered 1 stopped import job(s); removed 1 import file(s).\n"
    )
    job.refresh_from_db()
    ended.refresh_from_db()
    assert (job.state, job.file.name != "") == (ImportJobState.PREVIEWED, True)
    assert (ended.state, ended.file.name) == (ImportJobState.APPLIED, "")
