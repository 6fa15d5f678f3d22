"""An export runs no formula in any spreadsheet dialect: not where Excel with a Dutch
list separator splits our comma CSV on ; without seeing its quotes, not with the
full-width ＝＋－＠ Excel reads in East Asian locales; and it imports back unchanged."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from customers.models import Customer
from customers.resources import CustomerResource
from tests.conftest import submit
from workflow import services
from workflow.importing.plan import ImportOptions
from workflow.importing.values import FORMULA_STARTS
from workflow.models import DataEntityBehavior
from workflow.resources import ChangeProposalResource
from workflow.services import governed_records_import

DANGEROUS = {
    "name": 'Contoso;=HYPERLINK("http://x")',
    "street": "Main Street 1; +31 20 123",
    "city": "Amsterdam,@SUM(1)",
    "phone": "\uff1d1+1",
    "payment_specification": "ref\n=1+1",
    "tax_exempt_number": "a;\t=1",
    "postal_code": "1;\uff0d1",
}
# Every place a spreadsheet in some dialect may begin a cell, quotes unseen.
CELL_BREAK = re.compile(r"[,;\t\r\n]")


def cells_in_any_dialect(text: str) -> list[str]:
    return [piece.lstrip(" ") for piece in CELL_BREAK.split(text)]


@pytest.fixture
def dangerous_customer(customer):
    Customer.objects.filter(pk=customer.pk).update(**DANGEROUS)
    return customer


@pytest.mark.django_db
def test_no_cell_of_the_csv_starts_a_formula_however_it_is_split(dangerous_customer):
    exported = CustomerResource().export().csv

    starting = [
        cell
        for cell in cells_in_any_dialect(exported)
        if cell.startswith(FORMULA_STARTS)
    ]
    assert starting == []
    assert "Contoso;'=HYPERLINK" in exported
    assert "'\uff1d1+1" in exported


@pytest.mark.django_db
def test_no_cell_of_the_workbook_is_or_starts_a_formula(dangerous_customer):
    workbook = load_workbook(io.BytesIO(CustomerResource().export().xlsx))
    values = [
        cell
        for row in workbook.active.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]

    assert [c.coordinate for c in values if c.data_type == "f"] == []
    starting = [
        piece
        for cell in values
        for piece in cells_in_any_dialect(cell.value)
        if piece.startswith(FORMULA_STARTS)
    ]
    assert starting == []


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_export_imports_back_unchanged(
    dangerous_customer, importer, tmp_path, file_format
):
    dataset = CustomerResource().export()
    path = tmp_path / f"export.{file_format}"
    if file_format == "csv":
        path.write_text(dataset.csv, encoding="utf-8", newline="")
    else:
        path.write_bytes(dataset.xlsx)

    report = governed_records_import(
        model=Customer,
        path=str(path),
        file_name=path.name,
        options=ImportOptions(behaviour="allow"),
        actor=importer,
        dry_run=False,
    )

    assert report.counts == {"unchanged": 1}, report.as_dict()
    stored = Customer.objects.values(*DANGEROUS).get(pk=dangerous_customer.pk)
    assert stored == DANGEROUS


@pytest.mark.django_db
def test_the_proposals_export_is_escaped_after_its_own_separators(
    customer, clerk, approver, approval_admin, active_workflow
):
    """Its "changes" column joins the fields with "; ": a proposed value may begin a
    cell in a spreadsheet that splits there."""
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=DataEntityBehavior.PROPOSE,
        enabled_fields=["name", "street"],
        actor=approval_admin,
    )
    submit(customer, clerk, name="a;=1+1", street="-2")
    exported = ChangeProposalResource().export().csv

    starting = [
        cell
        for cell in cells_in_any_dialect(exported)
        if cell.startswith(FORMULA_STARTS)
    ]
    assert starting == []
    assert "Name: Contoso Retail -> a;'=1+1; Street:  -> -2" in exported
