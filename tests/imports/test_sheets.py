"""A workbook's sheet: the first sheet with data unless the user names one, on the Import
page or with --sheet; the job page says which sheet was read and which others there
are. Data under a column without a name is refused, naming the column's letter."""

from __future__ import annotations

import pytest
from django.core.management import CommandError
from django.urls import reverse

from customers.models import Customer
from tests.imports import corpus
from workflow.importing.limits import UNNAMED_COLUMN, WHERE_LINE, WHERE_ROW
from workflow.importing.workbook import NO_DATA, SHEET_NOT_FOUND
from workflow.models import ImportJob, ImportJobState

EMPTY = corpus.sheet_xml([])


def renaming(name: str) -> str:
    return corpus.sheet_xml([["account", "name"], ["C00001", name]])


TWO_SHEETS = corpus.workbook(
    [("Customers", renaming("From first")), ("Update", renaming("From second"))]
)


@pytest.mark.django_db
def test_an_empty_first_sheet_is_passed_over_for_the_first_with_data(
    customer, import_file, command
):
    data = corpus.workbook([("Notes", EMPTY), ("Customers", renaming("Renamed"))])
    report = import_file(data)
    assert (report.ok, report.sheet, report.sheets) == (
        True,
        "Customers",
        ["Notes", "Customers"],
    )

    command(data)
    assert Customer.objects.get(pk=customer.pk).name == "Renamed"


@pytest.mark.django_db
def test_a_hidden_sheet_is_passed_over_for_a_visible_one(customer, import_file):
    data = corpus.workbook(
        [("Lists", renaming("From hidden")), ("Customers", renaming("Renamed"))],
        hidden=("Lists",),
    )
    report = import_file(data, dry_run=False)
    assert (report.ok, report.sheet) == (True, "Customers")
    assert Customer.objects.get(pk=customer.pk).name == "Renamed"


@pytest.mark.django_db
def test_the_import_page_reads_the_sheet_named_and_says_which_it_read(
    client, importer, customer, uploads, upload_bytes
):
    client.force_login(importer)
    response = upload_bytes(TWO_SHEETS, sheet="update")
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.PREVIEWED
    page = client.get(response["Location"]).content.decode()
    assert "Sheet read: Update." in page
    assert "sheets: Customers, Update. To read another" in page

    client.post(reverse("admin:customers_customer_import_confirm", args=[job.pk]))
    assert Customer.objects.get(pk=customer.pk).name == "From second"


@pytest.mark.django_db
def test_the_command_reads_the_sheet_named(customer, command):
    command(TWO_SHEETS, sheet="Update")
    assert Customer.objects.get(pk=customer.pk).name == "From second"
    command(TWO_SHEETS)
    assert Customer.objects.get(pk=customer.pk).name == "From first"


@pytest.mark.django_db
def test_a_sheet_the_workbook_lacks_is_refused_naming_its_sheets(
    client, importer, customer, uploads, upload_bytes, command
):
    message = str(SHEET_NOT_FOUND % {"sheet": "Debtors", "sheets": "Customers, Update"})
    client.force_login(importer)
    response = upload_bytes(TWO_SHEETS, sheet="Debtors")
    assert response.context["form"].errors["file"] == [message]
    assert uploads.left() == []

    with pytest.raises(CommandError) as refused:
        command(TWO_SHEETS, sheet="Debtors")
    assert str(refused.value) == message


@pytest.mark.django_db
def test_a_workbook_without_data_is_refused(customer, import_file):
    data = corpus.workbook([("One", EMPTY), ("Two", EMPTY)])
    assert import_file(data).refused == str(NO_DATA)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "where", "column"),
    [
        (b"account;;name\nC00001;oops;X\n", "gap.csv", WHERE_LINE % {"line": 2}, "B"),
        (
            corpus.simple_workbook(
                [["account", None, "name"], ["C00001", "oops", "X"]]
            ),
            "gap.xlsx",
            WHERE_ROW % {"row": 2},
            "B",
        ),
        (
            corpus.simple_workbook([["account", "name"], ["C00001", "X", "oops"]]),
            "right.xlsx",
            WHERE_ROW % {"row": 2},
            "C",
        ),
    ],
    ids=["csv", "xlsx", "xlsx-right-of-the-header"],
)
def test_data_under_a_column_without_a_name_is_refused(
    customer, import_file, data, name, where, column
):
    report = import_file(data, name)
    assert report.refused == str(UNNAMED_COLUMN % {"where": where, "column": column})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"account;;name\nC00001;;Renamed\n", "gap.csv"),
        (
            corpus.simple_workbook(
                [["account", None, "name"], ["C00001", None, "Renamed"]]
            ),
            "gap.xlsx",
        ),
    ],
    ids=["csv", "xlsx"],
)
def test_an_empty_column_without_a_name_is_fine(customer, import_file, data, name):
    report = import_file(data, name, dry_run=False)
    assert report.ok, report.as_dict()
    assert Customer.objects.get(pk=customer.pk).name == "Renamed"


@pytest.mark.django_db
def test_a_refused_sheet_still_shows_the_others_to_choose_from(
    client, importer, customer, uploads, upload_bytes
):
    """The first sheet with data is not the customers: the refusal comes with the
    workbook's sheets, so the user knows which to name."""
    notes = corpus.sheet_xml([["remark"], ["call back"]])
    data = corpus.workbook([("Notes", notes), ("Customers", renaming("Renamed"))])
    client.force_login(importer)
    response = upload_bytes(data)

    job = ImportJob.objects.get()
    assert job.state == ImportJobState.INVALID
    assert (job.preview["sheet"], job.preview["sheets"]) == (
        "Notes",
        ["Notes", "Customers"],
    )
    page = client.get(response["Location"]).content.decode()
    assert "The file has no column account, name" in page
    assert "sheets: Notes, Customers. To read another, name it under Sheet" in page
    assert uploads.left() == []
