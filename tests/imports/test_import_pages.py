"""The Import page: upload, preview, confirm; stale previews; background jobs with progress."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from customers.models import Customer
from workflow.models import ImportJob, ImportJobState

IMPORT_URL = "admin:customers_customer_import"


def upload(client, text: str, **fields):
    data = {
        "file": SimpleUploadedFile(
            "customers.csv", text.encode(), content_type="text/csv"
        ),
        "behaviour": "allow",
        "decimal_format": "point",
        "encoding": "auto",
        "delimiter": "auto",
        **fields,
    }
    return client.post(reverse(IMPORT_URL), data)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.django_db
def test_preview_shows_what_the_file_would_do_and_writes_nothing(
    client, clerk, customer, approver, approvals_on, active_workflow, media
):
    client.force_login(clerk)
    text = "account;name;credit_limit\nC00001;Renamed;25000\nC00009;New one;1\n"
    job_url = upload(client, text + "", behaviour="propose")["Location"]
    page = client.get(job_url).content.decode()

    assert "The file has errors" in page
    # The new customer C00009, line 3, has no customer group.
    assert (
        "<tr><td>3</td><td>customer_group</td><td></td>"
        "<td>This field cannot be null.</td></tr>"
    ) in page
    assert "Confirm import" not in page

    job_url = upload(
        client, "account;name;credit_limit\nC00001;Renamed;25000\n", behaviour="propose"
    )["Location"]
    page = client.get(job_url).content.decode()
    assert "Ready to import" in page
    assert "<td>Name</td><td>Credit limit</td>" in page
    assert "Confirm import" in page
    customer.refresh_from_db()
    assert (customer.name, customer.credit_limit) == (
        "Contoso Retail",
        Decimal("10000.00"),
    )


@pytest.mark.django_db
def test_confirm_imports_exactly_the_preview(client, clerk, customer, media):
    client.force_login(clerk)
    job_url = upload(client, "account;name;phone\nC00001;Renamed;+31 1\n")["Location"]
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.PREVIEWED

    client.post(reverse("admin:customers_customer_import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == ImportJobState.APPLIED
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Renamed", "+31 1")
    assert "Imported" in client.get(job_url).content.decode()


@pytest.mark.django_db
def test_a_stale_preview_is_never_applied(client, clerk, customer, media):
    from customers.services import customer_update

    client.force_login(clerk)
    upload(client, "account;name;phone\nC00001;Renamed;+31 1\n")
    job = ImportJob.objects.get()
    customer_update(customer_id=customer.pk, values={"phone": "+31 9"}, actor=clerk)

    client.post(reverse("admin:customers_customer_import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == ImportJobState.FAILED
    assert "The data changed since the preview" in job.result["refused"]
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Contoso Retail", "+31 9")


@pytest.mark.django_db
def test_a_file_with_errors_cannot_be_confirmed(client, clerk, customer, media):
    client.force_login(clerk)
    job_url = upload(client, "account;name;credit_limit\nC00001;X;abc\n")["Location"]
    page = client.get(job_url).content.decode()
    assert "The file has errors" in page
    assert "Confirm import" not in page
    job = ImportJob.objects.get()
    client.post(reverse("admin:customers_customer_import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == ImportJobState.INVALID


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused(
    client, clerk, customer, media, settings
):
    settings.IMPORT_MAX_BYTES = 10
    client.force_login(clerk)
    page = upload(client, "account;name\nC00001;Renamed\n").content.decode()
    assert (
        "The file is 0.0 MB; an import reads files up to 0.0 MB "
        "(setting IMPORT_MAX_BYTES)." in page
    )
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_import_needs_permission_and_jobs_are_private(
    client, clerk, clerk2, approver, customer, media
):
    client.force_login(approver)
    assert client.get(reverse(IMPORT_URL)).status_code == 403
    client.force_login(clerk)
    upload(client, "account;name\nC00001;Renamed\n")
    job = ImportJob.objects.get()
    client.force_login(clerk2)
    assert (
        client.get(
            reverse("admin:customers_customer_import_job", args=[job.pk])
        ).status_code
        == 404
    )


@pytest.mark.django_db
@override_settings(IMPORT_BACKGROUND_BYTES=100)
def test_large_files_run_as_tasks_and_report_progress(client, clerk, customer, media):
    rows = "".join(f"C1{n:04d};Customer {n};10;{n}\n" for n in range(30))
    client.force_login(clerk)
    job_url = upload(client, "account;name;customer_group;credit_limit\n" + rows)[
        "Location"
    ]
    job = ImportJob.objects.get()
    assert job.estimated_rows == 30
    assert job.state == ImportJobState.PREVIEWED
    assert job.processed_rows == 30

    client.post(reverse("admin:customers_customer_import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.state == ImportJobState.APPLIED
    assert Customer.objects.filter(account__startswith="C1").count() == 30
    assert Customer.objects.get(account="C10007").credit_limit == Decimal("7.00")
    assert "30" in client.get(job_url).content.decode()


@pytest.mark.django_db
def test_export_escapes_formulas_in_csv_and_xlsx(client, approval_admin, customer):
    from io import BytesIO

    from openpyxl import load_workbook

    from customers.resources import CustomerResource

    customer.name = "=HYPERLINK(1)"
    customer.phone = "+31 20 555"
    customer.save(update_fields=["name", "phone"])
    dataset = CustomerResource().export()
    csv_text = dataset.csv
    assert "'=HYPERLINK(1)" in csv_text
    assert "'+31 20 555" in csv_text
    workbook = load_workbook(BytesIO(dataset.xlsx))
    values = [c.value for c in next(workbook.active.iter_rows(min_row=2, max_row=2))]
    assert "'=HYPERLINK(1)" in values


@pytest.mark.django_db
def test_export_buttons_follow_the_export_permission(client, clerk, approver, customer):
    client.force_login(clerk)
    assert (
        "export/"
        in client.get(reverse("admin:customers_customer_changelist")).content.decode()
    )
    assert client.get(reverse("admin:customers_customer_export")).status_code == 200
    client.force_login(approver)
    assert client.get(reverse("admin:customers_customer_export")).status_code == 403
