"""The preview shows, for each updated row, every changed field's old and new value (a
stale file that would undo someone's rename says so), and what the import leaves out:
columns it does not read and rows that change nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from customers.models import Customer
from tests.factories import CustomerFactory, PaymentTermsFactory
from workflow.importing.plan import PREVIEW_VALUE_CHARS, ImportOptions
from workflow.models import ImportJob
from workflow.services import governed_records_import


def upload(client, text: str, **fields):
    data = {
        "file": SimpleUploadedFile(
            "customers.csv", text.encode(), content_type="text/csv"
        ),
        "behaviour": "propose",
        "decimal_format": "point",
        "encoding": "auto",
        "delimiter": "auto",
        **fields,
    }
    response = client.post(reverse("admin:customers_customer_import"), data)
    return client.get(response["Location"]).content.decode()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.django_db
def test_an_updated_row_shows_each_change_old_and_new(
    client, clerk, customer, approver, approvals_on, active_workflow, media
):
    PaymentTermsFactory(code="Net60")
    Customer.objects.filter(pk=customer.pk).update(name="Contoso Retail BV")
    client.force_login(clerk)

    # An export made before the rename, with a new credit limit and terms.
    page = upload(
        client,
        "account;name;credit_limit;payment_terms;mandatory_credit_limit\n"
        "C00001;Contoso Retail;25000;Net60;yes\n",
    )

    assert (
        '<div class="import-change">Name: <del>Contoso Retail BV</del> → '
        "<ins>Contoso Retail</ins></div>"
        '<div class="import-change">Mandatory credit limit: <del>No</del> → '
        "<ins>Yes</ins></div>"
        '<div class="import-change import-change-proposed">Credit limit: '
        "<del>10000.00</del> → <ins>25000.00</ins> (proposed)</div>"
        '<div class="import-change import-change-proposed">Terms of payment: '
        "<del>Net30</del> → <ins>Net60</ins> (proposed)</div>"
    ) in page
    assert ImportJob.objects.get().preview["rows"][0]["changes"] == [
        {
            "field": "Name",
            "old": "Contoso Retail BV",
            "new": "Contoso Retail",
            "proposed": False,
        },
        {
            "field": "Mandatory credit limit",
            "old": "No",
            "new": "Yes",
            "proposed": False,
        },
        {
            "field": "Credit limit",
            "old": "10000.00",
            "new": "25000.00",
            "proposed": True,
        },
        {"field": "Terms of payment", "old": "Net30", "new": "Net60", "proposed": True},
    ]


@pytest.mark.django_db
def test_a_blank_old_value_and_a_new_record_read_plainly(
    importer, write_file, customer
):
    report = governed_records_import(
        model=Customer,
        path=write_file(
            "account;name;customer_group;city;invoice_account\n"
            "N1;New holding;10;;\n"
            "C00001;Contoso Retail;10;Utrecht;N1\n"
        ),
        file_name="customers.csv",
        options=ImportOptions(behaviour="allow"),
        actor=importer,
        dry_run=True,
    )

    assert report.ok, report.as_dict()
    assert [r["changes"] for r in report.rows] == [
        [],
        [
            {"field": "City", "old": "(blank)", "new": "Utrecht", "proposed": False},
            {
                "field": "Invoice account",
                "old": "(blank)",
                "new": "N1",
                "proposed": False,
            },
        ],
    ]


@pytest.mark.django_db
def test_long_values_are_shortened_in_the_stored_preview(
    importer, write_file, customer
):
    long_street = "Lange Voorhout " + "9" * 85  # 100 characters, the field's limit
    report = governed_records_import(
        model=Customer,
        path=write_file(f"account;name;street\nC00001;Contoso Retail;{long_street}\n"),
        file_name="customers.csv",
        options=ImportOptions(behaviour="allow"),
        actor=importer,
        dry_run=True,
    )

    (change,) = report.rows[0]["changes"]
    assert change["new"] == long_street[: PREVIEW_VALUE_CHARS - 1] + "…"
    assert len(change["new"]) == 80


@pytest.mark.django_db
def test_the_preview_lists_ignored_columns_and_unchanged_rows(
    client, clerk, customer, media
):
    CustomerFactory(account="C00002", name="Northwind")
    client.force_login(clerk)

    page = upload(
        client,
        "account;name;region;legacy id\nC00001;Contoso Retail;West;17\n"
        "C00002;Northwind;East;18\n",
        behaviour="allow",
        ignore_unknown_columns="on",
    )

    assert (
        '<li id="import-ignored-unknown">2 columns this import does not know are '
        "ignored: region, legacy id</li>"
    ) in page
    assert (
        '<li id="import-ignored-rows">2 rows hold the values stored now and change '
        "nothing.</li>"
    ) in page


@pytest.mark.django_db
def test_unknown_columns_without_the_option_are_refused_naming_them(
    client, clerk, customer, media
):
    client.force_login(clerk)

    page = upload(
        client, "account;name;region\nC00001;Contoso;West\n", behaviour="allow"
    )

    assert (
        '<p class="errornote" id="import-refused">The file has columns this import '
        "does not know: region. Remove them, or choose to ignore unknown columns.</p>"
    ) in page
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"
