"""A Dynamics 365 Customers V3 export imports as it is, with the built-in profile:
through the service, the Import page and the command."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from customers.import_profiles import CUSTOMERS_V3_COLUMNS
from customers.models import Customer
from tests.factories import (
    CashDiscountFactory,
    CustomerFactory,
    MethodOfPaymentFactory,
    PaymentTermsFactory,
    SalesTaxGroupFactory,
)
from workflow.importing.plan import UNKNOWN_PROFILE_COLUMNS, ImportOptions
from workflow.importing.profiles import UNKNOWN_PROFILE
from workflow.models import ImportJob, ImportJobState
from workflow.services import governed_records_import

PROFILE = "d365-customers-v3"
# The 22 columns of the entity with a field here.
MAPPED_COLUMNS = {
    "CUSTOMERACCOUNT",
    "ORGANIZATIONNAME",
    "CUSTOMERGROUPID",
    "SALESCURRENCYCODE",
    "CREDITLIMIT",
    "CREDITLIMITISMANDATORY",
    "CREDITRATING",
    "PAYMENTTERMS",
    "PAYMENTMETHOD",
    "PAYMENTSPECIFICATION",
    "PAYMENTCASHDISCOUNT",
    "SALESTAXGROUP",
    "TAXEXEMPTNUMBER",
    "INVOICEACCOUNT",
    "ISEXCLUDEDFROMINTERESTCHARGECALCULATION",
    "ISEXCLUDEDFROMCOLLECTIONFEECALCULATION",
    "PRIMARYCONTACTEMAIL",
    "PRIMARYCONTACTPHONE",
    "ADDRESSSTREET",
    "ADDRESSZIPCODE",
    "ADDRESSCITY",
    "ADDRESSCOUNTRYREGIONID",
}

# What a Data management export writes in columns that have no field here.
D365_DEFAULTS = {
    "DATAAREAID": "usmf",
    "PARTYTYPE": "Organization",
    "ADDRESSLATITUDE": "0.000000",
    "ADDRESSLONGITUDE": "0.000000",
    "ONHOLDSTATUS": "No",
    "PAYMENTBANKACCOUNT": "BANK1",
    "PAYMENTTERMSBASEDAYS": "0",
    "LANGUAGEID": "nl",
    "DELIVERYADDRESSVALIDFROM": "1900-01-01T00:00:00",
    "CREDITLIMITISMANDATORY": "No",
    "ISEXCLUDEDFROMINTERESTCHARGECALCULATION": "No",
    "ISEXCLUDEDFROMCOLLECTIONFEECALCULATION": "No",
    "SALESCURRENCYCODE": "EUR",
    "CUSTOMERGROUPID": "10",
    "PAYMENTTERMS": "Net30",
}

ROWS = [
    # Stored as Contoso Retail with credit limit 10000: renamed, limit raised.
    {
        "CUSTOMERACCOUNT": "C00001",
        "ORGANIZATIONNAME": "Contoso Retail BV",
        "CREDITLIMIT": "25000.000000",
        "ADDRESSCOUNTRYREGIONID": "NLD",
        "ADDRESSCOUNTRYREGIONISOCODE": "NL",
    },
    # Stored exactly so: nothing changes.
    {
        "CUSTOMERACCOUNT": "C00002",
        "ORGANIZATIONNAME": "Northwind Traders",
        "CREDITLIMIT": "10000.000000",
        "ADDRESSCOUNTRYREGIONID": "NLD",
    },
    # New, invoiced to a customer further down the file.
    {
        "CUSTOMERACCOUNT": "D00009",
        "ORGANIZATIONNAME": "Fabrikam Outlet",
        "CREDITLIMIT": "0.000000",
        "INVOICEACCOUNT": "D00012",
        "ADDRESSCOUNTRYREGIONID": "BEL",
        "SALESCURRENCYCODE": "EUR",
    },
    # New: the holding the next row is invoiced to.
    {
        "CUSTOMERACCOUNT": "D00010",
        "ORGANIZATIONNAME": "Fabrikam Holding GmbH",
        "CREDITLIMIT": "500000.000000",
        "CREDITLIMITISMANDATORY": "Yes",
        "CREDITRATING": "A",
        "ADDRESSSTREET": "Friedrichstraße 12",
        "ADDRESSZIPCODE": "10117",
        "ADDRESSCITY": "Berlin",
        "ADDRESSCOUNTRYREGIONID": "DEU",
        "PRIMARYCONTACTEMAIL": "ap@fabrikam.example",
        "PRIMARYCONTACTPHONE": "+49 30 1234567",
        "TAXEXEMPTNUMBER": "DE123456789",
        "SALESTAXGROUP": "EU",
        "PAYMENTMETHOD": "SEPA-CT",
        "PAYMENTSPECIFICATION": "Invoice number",
        "PAYMENTCASHDISCOUNT": "2D10",
        "ISEXCLUDEDFROMINTERESTCHARGECALCULATION": "Yes",
    },
    # New, invoiced to the holding above it.
    {
        "CUSTOMERACCOUNT": "D00011",
        "ORGANIZATIONNAME": "Fabrikam Retail",
        "CREDITLIMIT": "12500.500000",
        "INVOICEACCOUNT": "D00010",
        "ADDRESSCOUNTRYREGIONID": "DEU",
        "ISEXCLUDEDFROMCOLLECTIONFEECALCULATION": "Yes",
    },
    {
        "CUSTOMERACCOUNT": "D00012",
        "ORGANIZATIONNAME": "Fabrikam Benelux",
        "CREDITLIMIT": "75000.000000",
        "ADDRESSCOUNTRYREGIONID": "NLD",
    },
]


def d365_export(rows=ROWS, extra_columns=()) -> str:
    """A Customers V3 export as Data management writes it: every column of the
    entity in its order, all cells quoted, numbers with a point, Yes/No."""
    header = [*CUSTOMERS_V3_COLUMNS, *extra_columns]
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        cells = {**D365_DEFAULTS, **row}
        writer.writerow([cells.get(column, "") for column in header])
    return out.getvalue()


@pytest.fixture
def reference_data(db):
    PaymentTermsFactory(code="Net30")
    MethodOfPaymentFactory(code="SEPA-CT")
    SalesTaxGroupFactory(code="EU")
    CashDiscountFactory(code="2D10")


@pytest.fixture
def stored(customer, reference_data):
    CustomerFactory(account="C00002", name="Northwind Traders")
    return customer


def run(path, actor, *, dry_run=False, expected_fingerprint="", **options):
    return governed_records_import(
        model=Customer,
        path=path,
        file_name=path,
        options=ImportOptions(**{"behaviour": "allow", "profile": PROFILE, **options}),
        actor=actor,
        dry_run=dry_run,
        expected_fingerprint=expected_fingerprint,
    )


def assert_imported_as_exported():
    customers = {
        c.account: c
        for c in Customer.objects.select_related(
            "invoice_account",
            "payment_terms",
            "method_of_payment",
            "sales_tax_group",
            "cash_discount",
            "customer_group",
        )
    }
    assert sorted(customers) == [
        "C00001",
        "C00002",
        "D00009",
        "D00010",
        "D00011",
        "D00012",
    ]
    contoso = customers["C00001"]
    assert (contoso.name, contoso.credit_limit, contoso.country) == (
        "Contoso Retail BV",
        Decimal("25000.00"),
        "NL",
    )
    assert customers["C00002"].name == "Northwind Traders"
    holding = customers["D00010"]
    assert {
        "name": holding.name,
        "customer_group": holding.customer_group.code,
        "currency": holding.currency,
        "credit_limit": holding.credit_limit,
        "mandatory_credit_limit": holding.mandatory_credit_limit,
        "credit_rating": holding.credit_rating,
        "payment_terms": holding.payment_terms.code,
        "method_of_payment": holding.method_of_payment.code,
        "payment_specification": holding.payment_specification,
        "cash_discount": holding.cash_discount.code,
        "sales_tax_group": holding.sales_tax_group.code,
        "tax_exempt_number": holding.tax_exempt_number,
        "exclude_interest_charges": holding.exclude_interest_charges,
        "exclude_collection_fees": holding.exclude_collection_fees,
        "email": holding.email,
        "phone": holding.phone,
        "street": holding.street,
        "postal_code": holding.postal_code,
        "city": holding.city,
        "country": holding.country,
        "invoice_account": holding.invoice_account,
        # PAYMENTBANKACCOUNT names a bank account record, not an IBAN: left out.
        "bank_account": holding.bank_account,
    } == {
        "name": "Fabrikam Holding GmbH",
        "customer_group": "10",
        "currency": "EUR",
        "credit_limit": Decimal("500000.00"),
        "mandatory_credit_limit": True,
        "credit_rating": "A",
        "payment_terms": "Net30",
        "method_of_payment": "SEPA-CT",
        "payment_specification": "Invoice number",
        "cash_discount": "2D10",
        "sales_tax_group": "EU",
        "tax_exempt_number": "DE123456789",
        "exclude_interest_charges": True,
        "exclude_collection_fees": False,
        "email": "ap@fabrikam.example",
        "phone": "+49 30 1234567",
        "street": "Friedrichstraße 12",
        "postal_code": "10117",
        "city": "Berlin",
        "country": "DE",
        "invoice_account": None,
        "bank_account": "",
    }
    retail = customers["D00011"]
    assert (
        retail.invoice_account.account,
        retail.credit_limit,
        retail.country,
        retail.exclude_collection_fees,
        retail.mandatory_credit_limit,
    ) == ("D00010", Decimal("12500.50"), "DE", True, False)
    outlet = customers["D00009"]
    assert (outlet.invoice_account.account, outlet.country, outlet.credit_limit) == (
        "D00012",
        "BE",
        Decimal("0.00"),
    )
    assert customers["D00012"].invoice_account is None


@pytest.mark.django_db
def test_the_service_imports_a_customers_v3_export_as_it_is(
    stored, importer, write_file
):
    path = write_file(d365_export())

    preview = run(path, importer, dry_run=True)
    assert preview.ok, preview.as_dict()
    assert dict(preview.counts) == {"updated": 1, "unchanged": 1, "new": 4}
    assert preview.columns == {
        "profile": "Dynamics 365 Customers V3",
        "read": 22,
        "ignored": [],
        "ignored_count": 0,
        # The first 50 of them, in the file's order.
        "profile_ignored": [c for c in CUSTOMERS_V3_COLUMNS if c not in MAPPED_COLUMNS][
            :50
        ],
        "profile_ignored_count": len(CUSTOMERS_V3_COLUMNS) - 22,
    }

    assert preview.columns["profile_ignored"][:6] == [
        "DATAAREAID",
        "ADDRESSBRAZILIANCNPJORCPF",
        "PARTYTYPE",
        "PRIMARYCONTACTFAXEXTENSION",
        "ISFUELSURCHARGEAPPLIED",
        "CONTACTPERSONID",
    ]

    # Refused as stale if the import planned anything else than the preview showed.
    report = run(path, importer, expected_fingerprint=preview.fingerprint)

    assert report.ok, report.as_dict()
    assert_imported_as_exported()


@pytest.mark.django_db
def test_the_import_page_takes_the_export_with_the_profile(
    client, clerk, stored, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(clerk)
    page = client.get(reverse("admin:customers_customer_import")).content.decode()
    assert '<option value="d365-customers-v3">Dynamics 365 Customers V3</option>' in (
        page
    )

    response = client.post(
        reverse("admin:customers_customer_import"),
        {
            "file": SimpleUploadedFile(
                "CustomersV3.csv", d365_export().encode(), content_type="text/csv"
            ),
            "profile": PROFILE,
            "behaviour": "allow",
            "decimal_format": "point",
            "encoding": "auto",
            "delimiter": "auto",
        },
    )
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.PREVIEWED, job.preview
    page = client.get(response["Location"]).content.decode()
    assert (
        "Read with the import profile “Dynamics 365 Customers V3”: 22 columns fill "
        "fields."
    ) in page
    assert (
        f"{len(CUSTOMERS_V3_COLUMNS) - 22} columns have no field here and are left "
        "out by the profile."
    ) in page

    client.post(reverse("admin:customers_customer_import_confirm", args=[job.pk]))

    job.refresh_from_db()
    assert job.state == ImportJobState.APPLIED, job.result
    assert_imported_as_exported()


@pytest.mark.django_db
def test_the_command_takes_the_export_with_the_profile(stored, importer, write_file):
    out = StringIO()
    call_command(
        "import_customers",
        write_file(d365_export(), name="CustomersV3.csv"),
        user="importer",
        behaviour="allow",
        profile=PROFILE,
        stdout=out,
    )

    assert out.getvalue().splitlines() == [
        "Read with the import profile 'Dynamics 365 Customers V3': 22 columns fill "
        f"fields, {len(CUSTOMERS_V3_COLUMNS) - 22} have no field here.",
        "6 rows: 4 new, 1 updated, 1 unchanged, 0 with proposed changes, 0 with errors.",
        "line 2, C00001: Name 'Contoso Retail' -> 'Contoso Retail BV'",
        "line 2, C00001: Credit limit '10000.00' -> '25000.00'",
        "Imported.",
    ]
    assert_imported_as_exported()


@pytest.mark.django_db
def test_unknown_columns_are_refused_unless_ignored_and_then_listed(
    stored, importer, write_file
):
    path = write_file(d365_export(extra_columns=["ZZCUSTOMFIELD", "ZZREGION"]))

    refused = run(path, importer, dry_run=True)

    assert refused.refused == str(UNKNOWN_PROFILE_COLUMNS) % {
        "profile": "Dynamics 365 Customers V3",
        "columns": "ZZCUSTOMFIELD, ZZREGION",
    }
    assert refused.refused == (
        "The file has columns the profile “Dynamics 365 Customers V3” does not know: "
        "ZZCUSTOMFIELD, ZZREGION. Remove them, or choose to ignore unknown columns."
    )

    report = run(path, importer, ignore_unknown_columns=True)

    assert report.ok, report.as_dict()
    assert (report.columns["ignored"], report.columns["ignored_count"]) == (
        ["ZZCUSTOMFIELD", "ZZREGION"],
        2,
    )
    assert_imported_as_exported()


@pytest.mark.django_db
def test_a_file_without_the_key_column_is_refused_in_the_profiles_words(
    stored, importer, write_file
):
    path = write_file("ORGANIZATIONNAME,CREDITLIMIT\nContoso,1.000000\n")

    report = run(path, importer, dry_run=True)

    assert report.refused == (
        "The file has no column CUSTOMERACCOUNT; it needs at least: CUSTOMERACCOUNT, "
        "ORGANIZATIONNAME."
    )


@pytest.mark.django_db
def test_an_unknown_profile_is_refused_and_the_command_says_which_exist(
    stored, importer, write_file
):
    path = write_file(d365_export())

    report = run(path, importer, dry_run=True, profile="sap")

    assert report.refused == str(UNKNOWN_PROFILE) % {
        "profile": "sap",
        "models": "customers",
        "known": "d365-customers-v3",
    }
    with pytest.raises(
        CommandError,
        match="There is no import profile “sap” for customers; there are: "
        "d365-customers-v3.",
    ):
        call_command(
            "import_customers", path, user="importer", profile="sap", stdout=StringIO()
        )


@pytest.mark.django_db
def test_an_alpha_3_country_the_map_does_not_know_fails_its_row(
    stored, importer, write_file
):
    rows = [
        {
            "CUSTOMERACCOUNT": "D00020",
            "ORGANIZATIONNAME": "Nowhere",
            "ADDRESSCOUNTRYREGIONID": "XXX",
        }
    ]
    report = run(write_file(d365_export(rows)), importer, dry_run=True)

    assert [
        (e["line"], e["column"], e["value"], e["message"]) for e in report.errors
    ] == [
        (
            2,
            "ADDRESSCOUNTRYREGIONID",
            "XXX",
            "“XXX” is not an ISO 3166 country code, such as NL or DE.",
        ),
        (
            2,
            "ADDRESSCOUNTRYREGIONID",
            "XXX",
            "Ensure this value has at most 2 characters (it has 3).",
        ),
    ]
