"""Someone else creates a record while a file that creates the same record is being
imported: a row that does not exist yet cannot be locked, so the database refuses the
import's insert. The importer is told which record and line, in plain words, and
nothing of the file is written; the other person's record stays as they saved it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils.html import escape

from customers.models import Customer
from tests.factories import CustomerFactory
from tests.imports.conftest import new_customers_csv
from tests.imports.test_write_behind import imported
from workflow.importing import plan
from workflow.models import AuditEntry, ImportJobState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def new_customers_file(tmp_path):
    group = CustomerFactory(account="M00000", name="Stored before").customer_group.code
    return new_customers_csv(tmp_path, prefix="M", group=group)


@pytest.fixture
def created_meanwhile(meanwhile):
    """Once, while the batch that holds line 8 (account M00007) is planned after its
    records were read, another user's connection creates customer m00007."""
    return meanwhile(
        lambda: CustomerFactory(account="m00007", name="Created by someone else"),
        holding="M00007",
    )


REFUSAL = (
    "Customer M00007 (line 8 of the file) was created by someone else while the file "
    "was being imported, so nothing was imported. Check the file again: it now "
    "changes that record instead of creating it."
)


@pytest.mark.parametrize("write_behind", [True, False])
def test_the_import_names_the_record_and_line_and_writes_nothing(
    importer, new_customers_file, created_meanwhile, settings, write_behind
):
    settings.IMPORT_WRITE_BEHIND = write_behind
    report = imported(new_customers_file, importer, "allow")

    assert report.refused == REFUSAL
    assert not report.ok
    assert dict(
        Customer.objects.filter(account__istartswith="M").values_list("account", "name")
    ) == {"M00000": "Stored before", "m00007": "Created by someone else"}
    assert not [e for e in AuditEntry.objects.all() if "new.csv" in str(e.comment)]


def test_the_command_says_the_same(importer, new_customers_file, created_meanwhile):
    with pytest.raises(CommandError) as refused:
        call_command(
            "import_customers",
            str(new_customers_file),
            "--user",
            importer.username,
            "--behaviour",
            "allow",
            stdout=StringIO(),
        )

    assert str(refused.value) == REFUSAL
    assert not Customer.objects.filter(account="M00001").exists()


def test_a_rule_of_the_database_the_checks_do_not_know_is_told_in_plain_words(
    importer, new_customers_file, monkeypatch
):
    monkeypatch.setattr(plan, "BATCH_SIZE", 4)
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE customers_customer ADD CONSTRAINT test_no_new_9 "
            "CHECK (name <> 'New 9')"
        )
    try:
        report = imported(new_customers_file, importer, "allow")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE customers_customer DROP CONSTRAINT test_no_new_9"
            )

    assert report.refused.startswith(
        "The database refused the import, so nothing was imported."
    )
    assert report.refused.endswith(
        'The database said: new row for relation "customers_customer" violates '
        'check constraint "test_no_new_9"'
    )
    assert not Customer.objects.filter(account="M00001").exists()


def test_the_import_page_shows_it_on_the_job(
    new_customers_file, created_meanwhile, confirmed_on_page
):
    job, page = confirmed_on_page(new_customers_file, created_meanwhile)

    assert job.state == ImportJobState.FAILED
    assert f'<p class="errornote" id="import-refused">{escape(REFUSAL)}</p>' in page
    assert not Customer.objects.filter(account="M00001").exists()
