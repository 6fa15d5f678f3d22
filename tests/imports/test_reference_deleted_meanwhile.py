"""Someone else deletes the customer group a file's new customers name, after the
import looked the group up and before it wrote them. The database refuses the rows; the
import names the group in plain words and writes nothing. On the Import page the job
ends as failed with that refusal, instead of its whole transaction failing at its very
end, which left the job running until the recovery took it for dead."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.html import escape

from customers.models import Customer, CustomerGroup
from tests.factories import CustomerGroupFactory, PaymentTermsFactory
from tests.imports.conftest import new_customers_csv
from tests.imports.test_write_behind import imported
from workflow.models import ImportJobState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REFUSAL = (
    "Customer group “G9”, named in the file, was deleted by someone else while the "
    "file was being imported, so nothing was imported. Check the file again."
)


@pytest.fixture
def new_customers_file(tmp_path):
    CustomerGroupFactory(code="G9")
    PaymentTermsFactory(code="Net30")
    return new_customers_csv(tmp_path, prefix="R", group="G9")


@pytest.fixture
def group_deleted_meanwhile(meanwhile):
    """Once, when the first batch has been read (the group looked up) and before it is
    planned and written, another user's connection deletes group G9."""
    return meanwhile(lambda: CustomerGroup.objects.filter(code="G9").delete())


@pytest.mark.parametrize("write_behind", [True, False])
def test_the_import_is_refused_in_plain_words_and_writes_nothing(
    importer, new_customers_file, group_deleted_meanwhile, settings, write_behind
):
    settings.IMPORT_WRITE_BEHIND = write_behind

    report = imported(new_customers_file, importer, "allow")

    assert report.refused == REFUSAL
    assert not Customer.objects.filter(account__startswith="R").exists()


def test_the_import_page_shows_it_on_the_failed_job(
    new_customers_file, group_deleted_meanwhile, confirmed_on_page
):
    job, page = confirmed_on_page(new_customers_file, group_deleted_meanwhile)

    assert job.state == ImportJobState.FAILED
    assert f'<p class="errornote" id="import-refused">{escape(REFUSAL)}</p>' in page
    assert not Customer.objects.filter(account__startswith="R").exists()


def test_the_refusal_is_in_the_importers_language(
    importer, new_customers_file, group_deleted_meanwhile
):
    with translation.override("nl"):
        report = imported(new_customers_file, importer, "allow")

    assert report.refused == (
        "Klantgroep “G9”, genoemd in het bestand, is door iemand anders verwijderd "
        "terwijl het bestand werd geïmporteerd, dus er is niets geïmporteerd. "
        "Controleer het bestand opnieuw."
    )
