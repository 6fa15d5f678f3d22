"""The import reads a cell the export escaped without the ' it added, for every
character a spreadsheet would run as a formula; any other ' is data."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook

from customers.models import Customer
from workflow.importing.plan import ImportOptions
from workflow.services import governed_records_import

ESCAPED = [
    ("'=SUM(1)", "=SUM(1)"),
    ("'+SUM(1)", "+SUM(1)"),
    ("'-SUM(1)", "-SUM(1)"),
    ("'@SUM(1)", "@SUM(1)"),
    ("'\tabc", "\tabc"),
    ("'\rabc", "\rabc"),
    ("''quoted", "'quoted"),
    # Full-width and small forms, which Excel in East Asian locales runs as formulas.
    ("'\uff1dSUM(1)", "\uff1dSUM(1)"),
    ("'\uff0bSUM(1)", "\uff0bSUM(1)"),
    ("'\uff0dSUM(1)", "\uff0dSUM(1)"),
    ("'\uff20SUM(1)", "\uff20SUM(1)"),
    ("'\ufe66SUM(1)", "\ufe66SUM(1)"),
    # After a separator, where Excel with another list separator starts a cell.
    ("a;'=1+1", "a;=1+1"),
    ("a; '+1", "a; +1"),
    ("a,'-1", "a,-1"),
    ("a;'\uff20x", "a;\uff20x"),
    ("a\n'=1+1", "a\n=1+1"),
    ("a;''=1", "a;'=1"),
    ("'=1;'=2", "=1;=2"),
]
NOT_ESCAPED = [
    ("'abc", "'abc"),
    ("O'Brien Street", "O'Brien Street"),
    ("a;'b", "a;'b"),
    ("a'=1", "a'=1"),
]
# How the export writes a ' where a cell may start: doubled, so that the import knows it.
EXPORTED_AS_IS_OR_DOUBLED = [
    ("''abc", "'abc"),
    ("O'Brien Street", "O'Brien Street"),
    ("a;''b", "a;'b"),
    ("a'=1", "a'=1"),
]
# An XLSX cell cannot hold a carriage return: XML reads it back as a line feed.
CASES = [
    (file_format, cell, stored)
    for file_format in ("csv", "xlsx")
    for cell, stored in ESCAPED
    if not (file_format == "xlsx" and "\r" in cell)
]


def write(tmp_path, file_format: str, street: str) -> str:
    rows = [["account", "name", "street"], ["C00001", "Contoso Retail", street]]
    path = tmp_path / f"customers.{file_format}"
    if file_format == "csv":
        text = io.StringIO()
        csv.writer(text, delimiter=";").writerows(rows)
        path.write_text(text.getvalue(), encoding="utf-8", newline="")
    else:
        workbook = Workbook()
        for row in rows:
            workbook.active.append(row)
        workbook.save(path)
    return str(path)


def street_after_import(tmp_path, importer, file_format, cell) -> str:
    path = write(tmp_path, file_format, cell)
    report = governed_records_import(
        model=Customer,
        path=path,
        file_name=path,
        options=ImportOptions(behaviour="allow"),
        actor=importer,
        dry_run=False,
    )
    assert report.ok, report.as_dict()
    return Customer.objects.get(account="C00001").street


@pytest.mark.django_db
@pytest.mark.parametrize(("file_format", "cell", "stored"), CASES)
def test_the_added_quote_comes_off(
    customer, importer, tmp_path, file_format, cell, stored
):
    assert street_after_import(tmp_path, importer, file_format, cell) == stored


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize(("cell", "stored"), NOT_ESCAPED)
def test_a_quote_before_anything_else_is_kept(
    customer, importer, tmp_path, file_format, cell, stored
):
    assert street_after_import(tmp_path, importer, file_format, cell) == stored


@pytest.mark.django_db
@pytest.mark.parametrize(("cell", "street"), ESCAPED + EXPORTED_AS_IS_OR_DOUBLED)
def test_an_exported_csv_imports_back_unchanged(
    customer, importer, tmp_path, cell, street
):
    from customers.resources import CustomerResource

    Customer.objects.filter(pk=customer.pk).update(street=street)
    exported = CustomerResource().export().csv
    assert cell in exported
    path = tmp_path / "export.csv"
    path.write_text(exported, encoding="utf-8", newline="")

    report = governed_records_import(
        model=Customer,
        path=str(path),
        file_name=str(path),
        options=ImportOptions(behaviour="allow"),
        actor=importer,
        dry_run=False,
    )

    assert report.counts == {"unchanged": 1}, report.as_dict()
    assert Customer.objects.get(pk=customer.pk).street == street
