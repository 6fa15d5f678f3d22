"""Whether a file is checked and imported in the request or by the task worker is decided
by the work of reading it (a CSV's size, what a workbook's sheets unpack to), known
without reading it through: the request never counts rows. The rows are counted while
the preview reads them, for the progress bar."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_tasks.signals import task_enqueued

from tests.imports import corpus
from workflow import tasks
from workflow.importing.reading import TableFile
from workflow.models import ImportJob, ImportJobState


def customers_csv(count: int) -> bytes:
    rows = "".join(f"C1{n:05d};Customer {n};10;{n}\n" for n in range(count))
    return f"account;name;customer_group;credit_limit\n{rows}".encode()


@pytest.fixture
def worker(settings):
    """Tasks wait in a queue instead of running; the test sees what was queued."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    queued: list[str] = []

    def record(sender, task_result, **kwargs) -> None:
        queued.append(task_result.task.name)

    task_enqueued.connect(record)
    yield queued
    task_enqueued.disconnect(record)


@pytest.fixture
def rows_never_read(monkeypatch):
    """Reading the rows of a file fails the test (the request must not do it)."""

    def refuse(self):
        raise AssertionError("the request read the rows")

    monkeypatch.setattr(TableFile, "rows", refuse)
    return monkeypatch


@pytest.mark.django_db
def test_a_file_over_the_size_goes_to_the_worker_unread(
    settings, client, importer, customer, uploads, upload_bytes, worker, rows_never_read
):
    settings.IMPORT_BACKGROUND_BYTES = 1_000
    data = customers_csv(100)
    assert len(data) > 1_000
    client.force_login(importer)
    response = upload_bytes(data, "big.csv")

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert (job.state, job.estimated_rows, worker) == (
        ImportJobState.PREVIEWING,
        100,
        ["preview_import"],
    )

    rows_never_read.undo()
    tasks.preview_import.call(job_id=job.pk)
    job.refresh_from_db()
    assert (job.state, job.processed_rows) == (ImportJobState.PREVIEWED, 100)

    client.post(reverse("admin:customers_customer_import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert (job.state, worker) == (
        ImportJobState.QUEUED,
        ["preview_import", "run_import"],
    )


@pytest.mark.django_db
def test_a_workbook_is_sized_by_what_it_unpacks_not_by_its_upload(
    settings, client, importer, customer, uploads, upload_bytes, worker, rows_never_read
):
    rows = [[f"C1{n:05d}", f"Customer {n}", n] for n in range(2_000)]
    data = corpus.simple_workbook([corpus.HEADER, *rows])
    settings.IMPORT_BACKGROUND_BYTES = 4 * len(data)
    client.force_login(importer)
    upload_bytes(data)

    job = ImportJob.objects.get()
    assert (job.state, worker) == (ImportJobState.PREVIEWING, ["preview_import"])


@pytest.mark.django_db
def test_a_small_file_is_checked_in_the_request(
    settings, client, importer, customer, uploads, upload_bytes, worker
):
    settings.IMPORT_BACKGROUND_BYTES = 1_000
    client.force_login(importer)
    upload_bytes(b"account;name\nC00001;Renamed\n", "small.csv")

    job = ImportJob.objects.get()
    assert (job.state, job.estimated_rows, worker) == (ImportJobState.PREVIEWED, 1, [])


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_rows_of_a_large_file_are_estimated_from_its_first_part(
    settings, client, importer, customer, uploads, upload_bytes, worker, kind
):
    """The estimate reads a sample (64 KB of CSV, 256 KB of a sheet) and scales it."""
    settings.IMPORT_BACKGROUND_BYTES = 1_000
    if kind == "csv":
        data = customers_csv(20_000)
    else:
        rows = [[f"C1{n:05d}", f"Customer {n}", n] for n in range(20_000)]
        data = corpus.simple_workbook([corpus.HEADER, *rows])
    client.force_login(importer)
    upload_bytes(data, f"large.{kind}")

    job = ImportJob.objects.get()
    assert 18_000 <= job.estimated_rows <= 22_000
