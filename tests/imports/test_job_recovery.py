"""A check or import whose worker died is found by its lease running out: the import is
offered again (it wrote nothing), the check starts again, and a job that stops its
worker too often fails for good; the job's page says why."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import formats, timezone
from django_tasks.signals import task_enqueued

from customers.models import Customer
from tests.imports.conftest import NEW_CUSTOMERS
from workflow import services
from workflow.exceptions import NotSubmittable
from workflow.models import ImportJob, ImportJobState
from workflow.services.import_jobs import CHECK_INTERRUPTED, GAVE_UP, RUN_INTERRUPTED
from workflow.tasks import recheck_import

pytestmark = pytest.mark.django_db

JOB_URL = "admin:customers_customer_import_job"
CONFIRM_URL = "admin:customers_customer_import_confirm"


def job_customers() -> int:
    return Customer.objects.filter(account__startswith="J").count()


def last_seen(job: ImportJob) -> str:
    return formats.localize(timezone.localtime(job.heartbeat_at))


def run_until_killed(job: ImportJob, clerk, killed_worker) -> ImportJob:
    services.import_job_confirm(job=job, actor=clerk)
    with killed_worker():
        services.import_job_run(job=job)
    job.refresh_from_db()
    return job


@pytest.fixture
def enqueued():
    """The tasks enqueued meanwhile: (name, job id)."""
    names: list[tuple[str, int]] = []

    def record(sender, task_result, **kwargs):
        names.append((task_result.task.name, task_result.kwargs["job_id"]))

    task_enqueued.connect(record, weak=False)
    yield names
    task_enqueued.disconnect(record)


def test_an_import_whose_worker_died_is_offered_again_with_the_reason_on_its_page(
    client, clerk, previewed_job, killed_worker, settings
):
    job = previewed_job()
    job = run_until_killed(job, clerk, killed_worker)
    assert job.state == ImportJobState.APPLYING
    assert job_customers() == 0

    client.force_login(clerk)
    page = client.get(reverse(JOB_URL, args=[job.pk])).content.decode()
    # Within the lease the worker may just be slow: the job is left alone.
    assert '<span id="job-state">Importing</span>' in page
    assert "Confirm import" not in page

    settings.IMPORT_LEASE_SECONDS = 0
    page = client.get(reverse(JOB_URL, args=[job.pk])).content.decode()
    job.refresh_from_db()
    message = RUN_INTERRUPTED % {"time": last_seen(job)}
    assert (job.state, job.interruptions, job.message) == (
        ImportJobState.PREVIEWED,
        1,
        message,
    )
    assert '<span id="job-state">Ready to import</span>' in page
    assert f'<p class="errornote">{message}</p>' in page
    assert "Confirm import" in page

    settings.IMPORT_LEASE_SECONDS = 120
    client.post(reverse(CONFIRM_URL, args=[job.pk]))
    job.refresh_from_db()
    assert (job.state, job.message, job.processed_rows) == (
        ImportJobState.APPLIED,
        "",
        3,
    )
    assert job_customers() == 3


def test_the_periodic_check_recovers_only_jobs_whose_lease_ran_out(
    clerk, previewed_job, killed_worker, lease_expired
):
    dead = run_until_killed(previewed_job(), clerk, killed_worker)
    waiting = previewed_job()
    services.import_job_confirm(job=waiting, actor=clerk)
    ready = previewed_job()

    assert services.import_jobs_recover(recheck=recheck_import) == 0
    dead.refresh_from_db()
    assert dead.state == ImportJobState.APPLYING

    assert (
        services.import_jobs_recover(recheck=recheck_import, now=lease_expired()) == 1
    )
    states = dict(ImportJob.objects.values_list("pk", "state"))
    # A job waiting for a worker has no lease yet: a busy worker is not a dead one.
    assert states == {
        dead.pk: ImportJobState.PREVIEWED,
        waiting.pk: ImportJobState.QUEUED,
        ready.pk: ImportJobState.PREVIEWED,
    }
    assert ImportJob.objects.get(pk=ready.pk).interruptions == 0
    assert (
        services.import_jobs_recover(recheck=recheck_import, now=lease_expired()) == 0
    )


def test_a_check_whose_worker_died_starts_again_in_the_background(
    clerk,
    customer,
    job_media,
    killed_worker,
    lease_expired,
    enqueued,
    django_capture_on_commit_callbacks,
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from workflow.importing.plan import ImportOptions

    job = services.import_job_create(
        model=Customer,
        upload=SimpleUploadedFile("customers.csv", NEW_CUSTOMERS.encode()),
        options=ImportOptions(behaviour="allow"),
        actor=clerk,
    )
    with killed_worker():
        services.import_job_preview(job=job)
    job.refresh_from_db()
    assert job.state == ImportJobState.PREVIEWING
    seen = last_seen(job)

    # The test settings run tasks at once: the check is redone when the recovery commits.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert (
            services.import_jobs_recover(recheck=recheck_import, now=lease_expired())
            == 1
        )
    job.refresh_from_db()
    assert (job.state, job.heartbeat_at, job.message) == (
        ImportJobState.PREVIEWING,
        None,
        CHECK_INTERRUPTED % {"time": seen},
    )
    # Waiting for a worker again: not taken for dead while it waits.
    assert (
        services.import_jobs_recover(recheck=recheck_import, now=lease_expired()) == 0
    )

    for callback in callbacks:
        callback()
    assert enqueued == [("preview_import", job.pk)]
    job.refresh_from_db()
    assert (job.state, job.message, job.preview["total_rows"]) == (
        ImportJobState.PREVIEWED,
        "",
        3,
    )
    assert job_customers() == 0


def test_a_job_that_stops_its_worker_too_often_fails_for_good(
    client, clerk, previewed_job, killed_worker, lease_expired, settings
):
    settings.IMPORT_MAX_INTERRUPTIONS = 2
    job = previewed_job()
    run_until_killed(job, clerk, killed_worker)
    assert (
        services.import_jobs_recover(recheck=recheck_import, now=lease_expired()) == 1
    )
    job = run_until_killed(job, clerk, killed_worker)
    seen = last_seen(job)
    assert (
        services.import_jobs_recover(recheck=recheck_import, now=lease_expired()) == 1
    )

    job.refresh_from_db()
    message = GAVE_UP % {"count": 2, "time": seen}
    assert (job.state, job.interruptions, job.message) == (
        ImportJobState.FAILED,
        2,
        message,
    )
    assert job.finished_at is not None
    client.force_login(clerk)
    page = client.get(reverse(JOB_URL, args=[job.pk])).content.decode()
    assert '<span id="job-state">Not imported</span>' in page
    assert f'<p class="errornote">{message}</p>' in page
    assert "Confirm import" not in page
    with pytest.raises(NotSubmittable):
        services.import_job_confirm(job=job, actor=clerk)
    assert job_customers() == 0


def test_a_run_task_for_a_job_that_no_longer_waits_does_nothing(clerk, previewed_job):
    """A task run twice, or one for a job given back meanwhile, imports nothing."""
    ready = previewed_job()
    assert services.import_job_run(job=ready).state == ImportJobState.PREVIEWED
    assert job_customers() == 0

    services.import_job_confirm(job=ready, actor=clerk)
    assert services.import_job_run(job=ready).state == ImportJobState.APPLIED
    finished_at = ImportJob.objects.get(pk=ready.pk).finished_at
    assert services.import_job_run(job=ready).state == ImportJobState.APPLIED
    assert ImportJob.objects.get(pk=ready.pk).finished_at == finished_at
    assert job_customers() == 3


def test_a_check_that_fails_with_an_error_ends_with_the_error_on_its_page(
    client, clerk, previewed_job, monkeypatch
):
    from workflow.services import imports

    def broken(**kwargs):
        raise ValueError("unexpected cell")

    monkeypatch.setattr(imports, "governed_records_import", broken)
    job = previewed_job()
    assert job.state == ImportJobState.INVALID
    assert job.preview["refused"] == str(
        imports.CHECK_FAILED % {"error": "unexpected cell"}
    )
    client.force_login(clerk)
    page = client.get(reverse(JOB_URL, args=[job.pk])).content.decode()
    assert "The check of the file stopped with an error" in page
    assert "Confirm import" not in page
