"""Large files on the Import page: streamed to disk, previewed by their first rows,
imported whole (every row checked once, all or nothing)."""

from __future__ import annotations

import hashlib
import tracemalloc
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.core.handlers.wsgi import WSGIRequest
from django.urls import reverse

from customers.models import Customer
from workflow import services
from workflow.models import ImportJob, ImportJobState

IMPORT_URL = "admin:customers_customer_import"
HEADER = "account;name;customer_group;credit_limit;phone\n"


def rows(count: int, start: int = 0, **replace: str) -> str:
    """`count` new customers, one a line; `replace` puts a whole line at an account."""
    lines = []
    for n in range(start, start + count):
        account = f"L{n:05d}"
        lines.append(replace.get(account, f"{account};Large {n};10;{n};") + "\n")
    return "".join(lines)


def upload(client, text: str, **extra):
    return client.post(
        reverse(IMPORT_URL),
        {
            "file": SimpleUploadedFile("large.csv", text.encode(), "text/csv"),
            "behaviour": "allow",
            "decimal_format": "point",
            "encoding": "auto",
            "delimiter": "auto",
        },
        **extra,
    )


def confirm(client, job: ImportJob):
    return client.post(
        reverse("admin:customers_customer_import_confirm", args=[job.pk])
    )


@pytest.fixture
def sampled(settings, uploads):
    """Files of more than 50 rows are previewed by their first 50."""
    settings.IMPORT_FULL_PREVIEW_ROWS = 50
    return settings


# --- No wall below what the product reads ----------------------------------------------


def test_the_default_largest_upload_holds_a_csv_of_the_most_rows_an_import_reads():
    from django.conf import settings

    # A CSV of customers takes about 160 bytes a row.
    assert settings.IMPORT_MAX_BYTES >= settings.IMPORT_MAX_ROWS * 160 * 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        (
            "en",
            "The file is 0.1 MB; an import reads files up to 0.1 MB "
            "(setting IMPORT_MAX_BYTES).",
        ),
        (
            "nl",
            "Het bestand is 0,1 MB; een import leest bestanden tot 0,1 MB "
            "(instelling IMPORT_MAX_BYTES).",
        ),
    ],
)
def test_a_file_over_the_size_limit_is_refused_naming_the_setting(
    client, clerk, customer, uploads, settings, language, refusal
):
    settings.IMPORT_MAX_BYTES = 100_000
    client.force_login(clerk)
    text = HEADER + rows(5000)
    assert len(text.encode()) > 100_000

    page = upload(client, text, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert refusal in page
    assert not ImportJob.objects.exists()
    assert uploads.left() == []


@pytest.mark.django_db
def test_a_large_upload_is_streamed_to_disk_and_stored_without_being_read_into_memory(
    client, clerk, customer, sampled, monkeypatch
):
    text = HEADER + rows(350_000)
    data = text.encode()
    assert len(data) > 10_000_000  # Far past FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB).
    received = []
    create = services.import_job_create

    def spy(**kwargs):
        received.append(type(kwargs["upload"]))
        return create(**kwargs)

    monkeypatch.setattr(services, "import_job_create", spy)
    # Memory is measured from the moment the server starts reading the request: the
    # test client holds the whole body already, the server may not copy it again.
    load = WSGIRequest._load_post_and_files
    started = []

    def measured(request):
        tracemalloc.reset_peak()
        started.append(tracemalloc.get_traced_memory()[0])
        return load(request)

    monkeypatch.setattr(WSGIRequest, "_load_post_and_files", measured)
    client.force_login(clerk)
    tracemalloc.start()
    try:
        response = upload(client, text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert response.status_code == 302
    assert received == [TemporaryUploadedFile]
    # Reading, storing, estimating and previewing it read the file by the megabyte.
    assert peak - started[0] < len(data) / 3
    job = ImportJob.objects.get()
    stored = job.file.path
    with open(stored, "rb") as handle:
        assert hashlib.sha256(handle.read()).digest() == hashlib.sha256(data).digest()
    assert job.state == ImportJobState.PREVIEWED


# --- The preview of a large file: its first rows ---------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "said"),
    [
        (
            "en",
            "This preview checked the first 50 of about 120 rows of the file. The "
            "other rows are checked while the file is imported: if any row has an "
            "error, nothing is imported and the errors are listed with their line, "
            "column and value.",
        ),
        (
            "nl",
            "Dit voorbeeld controleerde de eerste 50 van ongeveer 120 rijen van het "
            "bestand. De andere rijen worden gecontroleerd terwijl het bestand wordt "
            "geïmporteerd: heeft een rij een fout, dan wordt niets geïmporteerd en "
            "worden de fouten getoond met hun regel, kolom en waarde.",
        ),
    ],
)
def test_a_large_file_is_previewed_by_its_first_rows_and_says_so(
    client, clerk, customer, sampled, language, said
):
    client.force_login(clerk)
    job_url = upload(client, HEADER + rows(120))["Location"]
    job = ImportJob.objects.get()

    page = client.get(job_url, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert job.state == ImportJobState.PREVIEWED
    assert (job.estimated_rows, job.preview["total_rows"]) == (120, 50)
    assert f'<p id="import-sample">{said}</p>' in page


@pytest.mark.django_db
def test_a_large_clean_file_imports_every_row(client, clerk, customer, sampled):
    client.force_login(clerk)
    job_url = upload(client, HEADER + rows(120))["Location"]
    job = ImportJob.objects.get()

    confirm(client, job)

    job.refresh_from_db()
    assert job.state == ImportJobState.APPLIED
    assert (job.result["total_rows"], job.processed_rows) == (120, 120)
    assert Customer.objects.filter(account__startswith="L").count() == 120
    assert Customer.objects.get(account="L00119").credit_limit == Decimal("119.00")
    assert "Imported" in client.get(job_url).content.decode()


@pytest.mark.django_db
def test_an_error_past_the_rows_previewed_imports_nothing_and_is_listed(
    client, clerk, customer, sampled
):
    client.force_login(clerk)
    text = HEADER + rows(120, L00099="L00099;Large 99;10;lots;")
    job_url = upload(client, text)["Location"]
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.PREVIEWED

    confirm(client, job)

    job.refresh_from_db()
    assert job.state == ImportJobState.FAILED
    assert job.result["error_count"] == 1
    assert job.result["errors"][0]["line"] == 101
    assert not Customer.objects.filter(account__startswith="L").exists()
    page = client.get(job_url).content.decode()
    assert '<span id="job-state">Not imported</span>' in page
    # The counts say what the rows would have done, not what was written.
    assert (
        "<caption>Nothing was imported. What the rows would have done:</caption>"
        in page
    )
    assert "<tr><td>101</td><td>credit_limit</td><td>lots</td>" in page


@pytest.mark.django_db
def test_a_change_to_the_rows_previewed_since_the_preview_imports_nothing(
    client, clerk, customer, sampled
):
    from customers.services import customer_update

    client.force_login(clerk)
    text = HEADER + "C00001;Renamed;;;+31 1\n" + rows(120)
    upload(client, text)
    job = ImportJob.objects.get()
    assert job.preview["sample_rows"] == 50
    customer_update(customer_id=customer.pk, values={"phone": "+31 9"}, actor=clerk)

    confirm(client, job)

    job.refresh_from_db()
    assert job.state == ImportJobState.FAILED
    assert "The data changed since the preview" in job.result["refused"]
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Contoso Retail", "+31 9")
    assert not Customer.objects.filter(account__startswith="L").exists()


@pytest.mark.django_db
def test_a_change_past_the_rows_previewed_is_imported_as_the_data_stands(
    client, clerk, customer, sampled
):
    from customers.services import customer_update

    client.force_login(clerk)
    text = HEADER + rows(120) + "C00001;Renamed;;;+31 1\n"
    upload(client, text)
    job = ImportJob.objects.get()
    customer_update(customer_id=customer.pk, values={"phone": "+31 9"}, actor=clerk)

    confirm(client, job)

    job.refresh_from_db()
    assert job.state == ImportJobState.APPLIED
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Renamed", "+31 1")


@pytest.mark.django_db
def test_a_file_within_the_setting_is_previewed_whole(client, clerk, customer, sampled):
    client.force_login(clerk)
    text = HEADER + rows(49, L00030="L00030;Large 30;10;lots;")
    job_url = upload(client, text)["Location"]
    job = ImportJob.objects.get()

    page = client.get(job_url).content.decode()

    assert job.state == ImportJobState.INVALID
    assert (job.preview["total_rows"], job.preview["sample_rows"]) == (49, 0)
    assert "import-sample" not in page
    assert "What the file would do" in page
    assert "<tr><td>32</td><td>credit_limit</td><td>lots</td>" in page
