"""Bad input gets an error naming line, column and value; one bad row and nothing is written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.models import Customer
from workflow.importing.plan import ImportOptions
from workflow.services import governed_records_import


def run(path, actor, dry_run=False, **options):
    return governed_records_import(
        model=Customer,
        path=path,
        file_name=path,
        options=ImportOptions(behaviour="allow", **options),
        actor=actor,
        dry_run=dry_run,
    )


@pytest.mark.django_db
def test_one_bad_row_and_no_row_is_written(customer, importer, write_file):
    text = (
        "account;name;customer_group;credit_limit\n"
        "C00001;Renamed;10;20000\n"
        "C00300;New;10;12abc\n"
        "C00301;New too;99;1\n"
    )
    report = run(write_file(text), importer)

    assert [(e["line"], e["column"], e["value"]) for e in report.errors] == [
        (3, "credit_limit", "12abc"),
        (4, "customer_group", "99"),
    ]
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"
    assert not Customer.objects.filter(account__in=["C00300", "C00301"]).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["1.234,56", "1,234.56", "1 234"])
def test_ambiguous_numbers_are_errors_not_guesses(
    customer, importer, write_file, value
):
    report = run(
        write_file(f'account;name;credit_limit\nC00001;Contoso Retail;"{value}"\n'),
        importer,
    )
    assert report.errors[0]["column"] == "credit_limit"
    assert "no thousands separators" in report.errors[0]["message"]
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("10000.00")


@pytest.mark.django_db
def test_decimal_comma_when_the_import_says_so(customer, importer, write_file):
    report = run(
        write_file("account;name;credit_limit\nC00001;Contoso Retail;1234,56\n"),
        importer,
        decimal_format="comma",
    )
    assert report.ok
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("1234.56")


@pytest.mark.django_db
def test_blank_cells_keep_the_current_value(customer, importer, write_file):
    report = run(
        write_file("account;name;bank_account;phone\nC00001;Contoso Retail;;+31 5\n"),
        importer,
    )
    assert report.ok
    customer.refresh_from_db()
    assert customer.bank_account == "NL91ABNA0417164300"
    assert customer.phone == "+31 5"


@pytest.mark.django_db
def test_values_are_validated_like_the_form(customer, importer, write_file):
    text = (
        "account;name;bank_account;credit_rating;email\nC00001;"
        + "x" * 101
        + ";NL00ABNA0000000000;Z;not-mail\n"
    )
    report = run(write_file(text), importer)
    columns = {e["column"] for e in report.errors}
    assert columns == {"name", "bank_account", "credit_rating", "email"}


@pytest.mark.django_db
def test_the_same_account_twice_cites_both_lines(importer, write_file, customer):
    report = run(
        write_file(
            "account;name;customer_group\nC00500;A;10\nC00501;B;10\nC00500;C;10\n"
        ),
        importer,
    )
    assert report.errors[0]["line"] == 4
    assert "on line 2 and on line 4" in report.errors[0]["message"]
    assert not Customer.objects.filter(account="C00500").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_key_repeated_batches_later_is_caught_in_the_preview_and_the_run(
    importer, write_file, customer, monkeypatch, dry_run
):
    monkeypatch.setattr("workflow.importing.plan.BATCH_SIZE", 2)
    rows = "".join(f"C0060{n};Row {n};10\n" for n in range(5)) + "C00601;Again;10\n"
    report = run(
        write_file("account;name;customer_group\n" + rows), importer, dry_run=dry_run
    )

    assert [(e["line"], e["column"], e["value"]) for e in report.errors] == [
        (7, "account", "C00601")
    ]
    assert "on line 3 and on line 7" in report.errors[0]["message"]
    assert not Customer.objects.filter(account__startswith="C0060").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name;credit_limit\nX;1\n", "The file has no column account"),
        ("account;credit_limit\nC00001;1\n", "The file has no column name"),
        (
            "account;name;colour\nC00001;X;red\n",
            "columns this import does not know: colour",
        ),
    ],
)
def test_files_with_the_wrong_columns_are_refused(
    importer, write_file, text, message, customer
):
    report = run(write_file(text), importer)
    assert message in report.refused


@pytest.mark.django_db
def test_unknown_columns_may_be_ignored_explicitly(customer, importer, write_file):
    report = run(
        write_file("account;name;colour\nC00001;Renamed;red\n"),
        importer,
        ignore_unknown_columns=True,
    )
    assert report.ok
    customer.refresh_from_db()
    assert customer.name == "Renamed"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "delimiter"),
    [
        ("\ufeffaccount,name,city\nC00001,Renamed,Zürich\n".encode(), ","),
        ("account;name;city\nC00001;Renamed;Zürich\n".encode(), ";"),
        ("account;name;city\nC00001;Renamed;Zürich\n".encode("cp1252"), ";"),
        ('account;name;city\nC00001;"Renamed";"Zürich\nNorth"\n'.encode(), ";"),
    ],
)
def test_real_world_csv(customer, importer, tmp_path, data, delimiter):
    path = tmp_path / "real.csv"
    path.write_bytes(data)
    report = run(str(path), importer)
    assert report.ok, report.as_dict()
    customer.refresh_from_db()
    assert customer.name == "Renamed"
    assert customer.city.startswith("Zürich")


@pytest.mark.django_db
def test_undecodable_text_is_refused(customer, importer, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"account;name\nC00001;Bad \x81\x8d name\n")
    report = run(str(path), importer)
    assert "neither UTF-8 nor Windows-1252" in report.refused
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"


@pytest.mark.django_db
def test_xlsx_files_import(customer, importer, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["account", "name", "credit_limit"])
    sheet.append(["C00001", "From Excel", 12345.67])
    path = tmp_path / "customers.xlsx"
    workbook.save(path)

    report = run(str(path), importer)
    assert report.ok, report.as_dict()
    customer.refresh_from_db()
    assert (customer.name, customer.credit_limit) == ("From Excel", Decimal("12345.67"))


@pytest.mark.django_db
def test_importing_needs_add_and_change_permission(customer, approver, write_file):
    from workflow.exceptions import PermissionRefused

    with pytest.raises(PermissionRefused):
        run(write_file("account;name\nC00001;X\n"), approver)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "account;name;city\nC00001;X;Düsseldorf\n".encode() + b"C00002;Y;K\xf6ln\n",
            "mixes UTF-8",
        ),
        ("account;name\nC00001;X\n".encode("utf-16"), "UTF-16"),
        (b"account;name\nC00001;X\x00\n", "NUL bytes"),
        (
            b"account;name;" + b'"' + b"x" * 200_000 + b'"\n',
            "Line 1 holds more than 100,000 characters in all; a row may hold up to "
            "100,000 (setting IMPORT_MAX_ROW_CHARS).",
        ),
        (
            b"account;name;" + b'"' + (b"x" * 50_000 + b"\n") * 3 + b'"\n',
            "The first row holds more than 32,767 characters; a cell may hold up to "
            "32,767, as in Excel (setting IMPORT_MAX_CELL_CHARS).",
        ),
    ],
)
def test_files_that_would_be_read_wrongly_are_refused(
    customer, importer, tmp_path, data, message
):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    report = run(str(path), importer)
    assert message in report.refused
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"


@pytest.mark.django_db
def test_windows_1252_can_be_chosen(customer, importer, tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes("account;name;city\nC00001;Renamed;Köln\n".encode("cp1252"))
    report = run(str(path), importer, encoding="windows-1252")
    assert report.ok
    customer.refresh_from_db()
    assert customer.city == "Köln"


@pytest.mark.django_db
def test_xlsx_typed_cells(customer, importer, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(
        [
            "account",
            "name",
            "credit_limit",
            "mandatory_credit_limit",
            "cash_discount_base_days",
        ]
    )
    workbook.active.append(["C00001", "Typed", 2500, True, 14.0])
    path = tmp_path / "t.xlsx"
    workbook.save(path)
    report = run(str(path), importer, decimal_format="comma")
    assert report.ok, report.as_dict()
    customer.refresh_from_db()
    assert (
        customer.credit_limit,
        customer.mandatory_credit_limit,
        customer.cash_discount_base_days,
    ) == (
        Decimal("2500.00"),
        True,
        14,
    )


@pytest.mark.django_db
def test_an_export_survives_control_characters(customer):
    from customers.resources import CustomerResource

    customer.street = "Main\x01Street"
    customer.save(update_fields=["street"])
    from import_export.formats.base_formats import XLSX

    assert XLSX().export_data(CustomerResource().export())
