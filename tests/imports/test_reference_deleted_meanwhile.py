"""Someone else deletes the customer group a file's new customers name, after the
import looked the group up and before it wrote them. The database refuses the rows; the
import names the group in plain words and writes nothing. On the Import page the job ends as
failed with that refusal, instead of its whole transaction failing at its very end,
which left the job running until the recovery took it for dead."""

from __future__ import annotations

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections, connection
from django.urls import reverse
from django.utils.html import escape
from schwifty import IBAN

from customers.models import Customer, CustomerGroup
from tests.factories import CustomerGroupFactory, PaymentTermsFactory
from tests.imports.test_write_behind import imported
from workflow.importing import plan
from workflow.models import ImportJob, ImportJobState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REFUSAL = (
    "Customer group “G9”, named in the file, was deleted by someone else while the "
    "file was being imported, so nothing was imported. Check the file again."
)


@pytest.fixture
def new_customers_file(tmp_path):
    CustomerGroupFactory(code="G9")
    PaymentTermsFactory(code="Net30")
    rows = "".join(
        f"R{n:05d};New {n};G9;{1000 + n};Net30;"
        f"{IBAN.generate('NL', bank_code='ABNA', account_code=f'{n:010d}')}\n"
        for n in range(1, 11)
    )
    path = tmp_path / "new.csv"
    path.write_text(
        "account;name;customer_group;credit_limit;payment_terms;bank_account\n" + rows
    )
    return path


@pytest.fixture
def group_deleted_meanwhile(monkeypatch):
    """Once, when the first batch has been read (the group looked up) and before it is
    planned and written, another user's connection deletes group G9. Disarm it
    (`.armed = False`) for a preview that must not set it off."""
    monkeypatch.setattr(plan, "BATCH_SIZE", 4)
    original = plan.ImportPlanner.plan_read

    class Trigger:
        armed = True

    def delete_then_plan(planner, read):
        if Trigger.armed:
            Trigger.armed = False
            other = threading.Thread(target=delete_elsewhere)
            other.start()
            other.join(timeout=30)
            assert not other.is_alive()
        return original(planner, read)

    def delete_elsewhere():
        close_old_connections()
        try:
            CustomerGroup.objects.filter(code="G9").delete()
        finally:
            connection.close()

    monkeypatch.setattr(plan.ImportPlanner, "plan_read", delete_then_plan)
    return Trigger


@pytest.mark.parametrize("write_behind", [True, False])
def test_the_import_is_refused_in_plain_words_and_writes_nothing(
    importer, new_customers_file, group_deleted_meanwhile, settings, write_behind
):
    settings.IMPORT_WRITE_BEHIND = write_behind

    report = imported(new_customers_file, importer, "allow")

    assert report.refused == REFUSAL
    assert not Customer.objects.filter(account__startswith="R").exists()


def test_the_import_page_shows_it_on_the_failed_job(
    client, importer, new_customers_file, group_deleted_meanwhile, uploads
):
    client.force_login(importer)
    group_deleted_meanwhile.armed = False  # The preview finds the group.
    client.post(
        reverse("admin:customers_customer_import"),
        {
            "file": SimpleUploadedFile(
                "new.csv", new_customers_file.read_bytes(), "text/csv"
            ),
            "behaviour": "allow",
            "decimal_format": "point",
            "encoding": "auto",
            "delimiter": "auto",
        },
    )
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.PREVIEWED
    group_deleted_meanwhile.armed = True

    client.post(reverse("admin:customers_customer_import_confirm", args=[job.pk]))

    job.refresh_from_db()
    assert job.state == ImportJobState.FAILED
    page = client.get(reverse("admin:customers_customer_import_job", args=[job.pk]))
    assert (
        f'<p class="errornote" id="import-refused">{escape(REFUSAL)}</p>'
        in page.content.decode()
    )
    assert not Customer.objects.filter(account__startswith="R").exists()


def test_the_refusal_is_in_the_importers_language(
    importer, new_customers_file, group_deleted_meanwhile
):
    from django.utils import translation

    with translation.override("nl"):
        report = imported(new_customers_file, importer, "allow")

    assert report.refused == (
        "Klantgroep “G9”, genoemd in het bestand, is door iemand anders verwijderd "
        "terwijl het bestand werd geïmporteerd, dus er is niets geïmporteerd. "
        "Controleer het bestand opnieuw."
    )
