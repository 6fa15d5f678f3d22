"""A file is recognised by its content, not its name: what cannot be read is refused
saying what to do with it, through the service, the Import page and the command, and
no upload is kept; a workbook with macros, a Strict Open XML workbook or a file with the
wrong extension is read as what it is."""

from __future__ import annotations

import pytest
from django.core.management import CommandError

from customers.models import Customer
from tests.imports import corpus
from workflow.importing.sniffing import MARKUP, OLD_XLS, PASSWORD_PROTECTED
from workflow.importing.workbook import NOT_A_WORKBOOK, ODS, XLSB
from workflow.models import ImportJob

RENAMED = [["account", "name"], ["C00001", "Renamed"]]

REFUSED_KINDS = [
    pytest.param(
        corpus.encrypted_workbook, "customers.xlsx", PASSWORD_PROTECTED, id="password"
    ),
    pytest.param(corpus.old_xls, "customers.xls", OLD_XLS, id="xls"),
    pytest.param(corpus.xlsb, "customers.xlsb", XLSB, id="xlsb"),
    pytest.param(corpus.ods, "customers.ods", ODS, id="ods"),
    pytest.param(corpus.other_zip, "customers.xlsx", NOT_A_WORKBOOK, id="zip"),
    pytest.param(
        lambda: b"<html><body><table><tr><td>account</td></tr></table></body></html>",
        "customers.xls",
        MARKUP,
        id="web-page",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("build", "name", "message"), REFUSED_KINDS)
def test_the_service_refuses_what_it_cannot_read_saying_what_to_do(
    customer, import_file, build, name, message
):
    report = import_file(build(), name)
    assert report.refused == str(message)
    assert report.total_rows == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("build", "name", "message"), REFUSED_KINDS)
def test_the_import_page_refuses_it_at_upload_and_keeps_no_file(
    client, importer, customer, uploads, upload_bytes, build, name, message
):
    client.force_login(importer)
    response = upload_bytes(build(), name)

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [str(message)]
    assert not ImportJob.objects.exists()
    assert uploads.left() == []


@pytest.mark.django_db
@pytest.mark.parametrize(("build", "name", "message"), REFUSED_KINDS)
def test_the_command_refuses_it_without_a_traceback(
    customer, command, build, name, message
):
    with pytest.raises(CommandError) as refused:
        command(build(), name)
    assert str(refused.value) == str(message)


@pytest.mark.django_db
def test_password_protected_is_told_apart_from_an_old_xls_by_the_directory(
    import_file,
):
    """Both are OLE2 files: the stream names decide, not the extension."""
    assert import_file(corpus.encrypted_workbook(), "book.xls").refused == str(
        PASSWORD_PROTECTED
    )
    assert import_file(corpus.old_xls(), "book.xlsx").refused == str(OLD_XLS)


@pytest.mark.django_db
def test_an_xlsm_is_read_as_a_workbook_and_its_macros_are_not_touched(
    customer, import_file
):
    data = corpus.simple_workbook(
        RENAMED, extra={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 macros never run"}
    )
    report = import_file(data, "customers.xlsm", dry_run=False)

    assert report.ok, report.as_dict()
    assert Customer.objects.get(pk=customer.pk).name == "Renamed"


@pytest.mark.django_db
def test_a_strict_open_xml_workbook_is_read(customer, import_file):
    data = corpus.workbook(
        [("Customers", corpus.sheet_xml(RENAMED, strict=True))], strict=True
    )
    report = import_file(data, dry_run=False)

    assert report.ok, report.as_dict()
    assert Customer.objects.get(pk=customer.pk).name == "Renamed"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name"),
    [
        pytest.param(
            corpus.simple_workbook(RENAMED), "customers.csv", id="xlsx-as-csv"
        ),
        pytest.param(
            b"account;name\nC00001;Renamed\n", "customers.xlsx", id="csv-as-xlsx"
        ),
    ],
)
def test_the_content_decides_not_the_extension(customer, import_file, data, name):
    report = import_file(data, name, dry_run=False)

    assert report.ok, report.as_dict()
    assert Customer.objects.get(pk=customer.pk).name == "Renamed"
