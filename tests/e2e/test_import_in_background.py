"""A file over IMPORT_BACKGROUND_BYTES runs as a task: the job page shows a progress bar
and refreshes itself until the task worker is done."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django_tasks.signals import task_enqueued
from playwright.sync_api import expect

from customers.models import Customer
from workflow import tasks
from workflow.models import ImportJob, ImportJobState

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 30
LARGE_FILE = "account;name;customer_group;credit_limit\n" + "".join(
    f"C1{n:04d};Customer {n};10;{n}\n" for n in range(ROWS)
)
# The job page reloads itself every 2 seconds while the job runs.
REFRESHED = {"timeout": 10_000}


@pytest.fixture
def background_size(settings, media, customer, clerk):
    """Files over 100 bytes go to the background (1 MB in production)."""
    settings.IMPORT_BACKGROUND_BYTES = 100
    return settings


@pytest.fixture
def worker(page, background_size):
    """A task worker that the test controls: tasks wait in the Dummy backend's queue,
    and the test hands the worker a job's task; it runs just before the job page's
    next self-refresh reaches the server, so the server is idle meanwhile."""
    background_size.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    due: list = []

    def before_refresh(route):
        while due:
            due.pop(0)()
        route.continue_()

    page.route(re.compile(r"/admin/customers/customer/import/\d+/$"), before_refresh)
    return due


def test_large_file_shows_a_progress_bar_until_the_worker_is_done(
    page, login, upload_import, worker
):
    login("clerk")
    upload_import(LARGE_FILE)

    # Queued for the worker: the page shows the progress bar and refreshes itself.
    job = ImportJob.objects.get()
    assert job.estimated_rows == ROWS
    assert job.state == ImportJobState.PREVIEWING
    expect(page.locator("#job-state")).to_have_text("Checking the file")
    progress = page.locator("progress#import-progress")
    expect(progress).to_have_attribute("max", str(ROWS))
    expect(progress).to_have_attribute("value", "0")
    expect(page.locator(".import-job")).to_contain_text(f"0 of about {ROWS} rows")
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(1)

    worker.append(lambda: tasks.preview_import.call(job_id=job.pk))
    expect(page.locator("#job-state")).to_have_text("Ready to import", **REFRESHED)
    expect(progress).to_have_count(0)
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)
    expect(
        page.locator("#import-counts tr", has_text="New").locator("td")
    ).to_have_text(str(ROWS))
    assert not Customer.objects.filter(account__startswith="C1").exists()

    page.get_by_role("button", name="Confirm import").click()
    expect(page.locator("#job-state")).to_have_text("Waiting to import")
    expect(progress).to_have_attribute("value", "0")
    expect(page.get_by_role("button", name="Confirm import")).to_have_count(0)
    job.refresh_from_db()
    assert job.state == ImportJobState.QUEUED

    worker.append(lambda: tasks.run_import.call(job_id=job.pk))
    expect(page.locator("#job-state")).to_have_text("Imported", **REFRESHED)
    expect(progress).to_have_count(0)
    expect(page.locator("#import-counts caption")).to_have_text("Imported")
    expect(
        page.locator("#import-counts tr", has_text="Rows").locator("td")
    ).to_have_text(str(ROWS))
    expect(page.get_by_role("link", name="Import another file")).to_be_visible()

    job.refresh_from_db()
    assert (job.state, job.processed_rows) == (ImportJobState.APPLIED, ROWS)
    assert Customer.objects.filter(account__startswith="C1").count() == ROWS
    assert Customer.objects.get(account="C10007").credit_limit == Decimal("7.00")


@pytest.fixture
def enqueued():
    """The names of the tasks enqueued meanwhile, by any thread."""
    names: list[str] = []

    def record(sender, task_result, **kwargs):
        names.append(task_result.task.name)

    task_enqueued.connect(record, weak=False)
    yield names
    task_enqueued.disconnect(record)


def test_large_file_with_the_immediate_backend_is_done_when_the_page_opens(
    page, login, see_message, upload_import, background_size, enqueued
):
    """The test settings run tasks at once, in the request: the background path is
    taken, but the user lands on the finished page and never sees a progress bar."""
    login("clerk")
    upload_import(LARGE_FILE)
    expect(page.locator("#job-state")).to_have_text("Ready to import")
    expect(page.locator("#import-progress")).to_have_count(0)
    assert enqueued == ["preview_import"]

    page.get_by_role("button", name="Confirm import").click()
    see_message("The file was imported.")
    expect(page.locator("#job-state")).to_have_text("Imported")
    expect(page.locator("#import-progress")).to_have_count(0)
    assert enqueued == ["preview_import", "run_import"]
    assert Customer.objects.filter(account__startswith="C1").count() == ROWS
