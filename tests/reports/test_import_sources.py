"""Where an imported value came from: the audit rows of an import name its file, and
say whether it ran on the Import page or from the command line."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from tests.reports.conftest import exported
from workflow.models import AuditAction, AuditEntry, ImportJob, Source


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db
def test_the_command_line_is_the_source_and_the_file_is_named(
    as_auditor, customer, clerk, tmp_path
):
    path = tmp_path / "cities.csv"
    path.write_text("account;name;city\nC00001;Contoso Retail;Delft\n")
    call_command("import_customers", str(path), user="clerk", stdout=StringIO())

    entry = AuditEntry.objects.get(action=AuditAction.FIELD_CHANGED)
    (row,) = exported(as_auditor, "changes", "csv")

    assert entry.source == Source.COMMAND
    with translation.override("nl"):
        assert entry.comment_for_reader() == f"Uit het bestand {path}."
    assert row["Source"] == f"Command line: From the file {path}."


@pytest.mark.django_db
def test_the_import_page_names_the_uploaded_file(
    client, customer, clerk, auditor, media
):
    client.force_login(clerk)
    client.post(
        reverse("admin:customers_customer_import"),
        {
            "file": SimpleUploadedFile(
                "new cities.csv", b"account;name;city\nC00001;Contoso Retail;Delft\n"
            ),
            "behaviour": "allow",
            "decimal_format": "point",
            "encoding": "auto",
            "delimiter": "auto",
        },
    )
    job = ImportJob.objects.get()
    client.post(reverse("admin:customers_customer_import_confirm", args=[job.pk]))
    client.force_login(auditor)

    (row,) = exported(client, "changes", "csv")
    created_or_changed = set(
        AuditEntry.objects.filter(proposal__isnull=True)
        .exclude(action=AuditAction.SETTINGS_CHANGED)
        .values_list("source", "comment")
    )

    assert row["Source"] == "Import: From the file new cities.csv."
    assert created_or_changed == {(Source.IMPORT, "From the file new cities.csv.")}
