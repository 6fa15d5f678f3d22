"""Every upload costs bounded time and memory, whatever it contains: a sheet is read by
the cells it has, not the dimension it declares; a ZIP bomb or a giant shared string is
refused before it is unpacked; a wide header is checked in linear time; and each limit
refuses with a sentence that names it and its setting."""

from __future__ import annotations

import io
import json
import time
import tracemalloc
import zipfile
from contextlib import contextmanager

import pytest
from django.core.management import CommandError

from customers.models import Customer
from tests.imports import corpus
from workflow.importing.limits import (
    CELL_TOO_LONG,
    ROW_TOO_LONG,
    TOO_MANY_COLUMNS,
    TOO_MANY_ROWS,
    TOO_MANY_SHARED_STRINGS,
    TOO_MUCH_UNPACKED,
    WHERE_CELL,
    WHERE_LINE,
    WHERE_LINE_COLUMN,
    WHERE_ROW,
    WHERE_SHARED_STRING,
    ZIP_BOMB,
    megabytes,
    shorten,
)
from workflow.importing.workbook import DAMAGED, TOO_MANY_PARTS
from workflow.models import ImportJob

MB = 1_000_000


@contextmanager
def peak_memory():
    """The peak of Python's allocations inside the block, in bytes."""
    tracemalloc.start()
    measured = {}
    try:
        yield measured
    finally:
        measured["peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def far_dimension_workbook() -> bytes:
    """Two customers, a sheet that declares A1:XFD1048576 and a formatted, empty cell
    in the last row and column, as Excel writes after a far cell was once touched."""
    rows = corpus.rows_xml(
        [
            ["account", "name", "credit_limit", "customer_group"],
            ["C00001", "Renamed", 5, "10"],
            ["C00002", "Second", 7, "10"],
        ]
    )
    far = '<row r="1048576"><c r="XFD1048576" s="0"/></row>'
    data = corpus.sheet_xml(data=rows + far, dimension="A1:XFD1048576")
    return corpus.workbook([("Customers", data)])


@pytest.fixture(scope="module")
def shared_string_bomb(tmp_path_factory):
    """A 0.2 MB workbook whose one shared string is 200 MB of text."""

    def giant(target) -> None:
        target.write(b"<si><t>")
        block = b"a" * MB
        for _ in range(200):
            target.write(block)
        target.write(b"</t></si>")

    data = corpus.workbook(
        [
            (
                "Customers",
                corpus.sheet_xml(
                    data='<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
                    '<row r="2"><c r="A2" t="s"><v>0</v></c></row>'
                ),
            )
        ],
        write_shared=giant,
    )
    assert len(data) < 0.3 * MB
    return data


# --- the declared dimension ---------------------------------------------------------


@pytest.mark.django_db
def test_a_far_declared_dimension_costs_nothing(customer, import_file):
    data = far_dimension_workbook()
    assert len(data) < 2_000
    started = time.perf_counter()
    with peak_memory() as memory:
        report = import_file(data, dry_run=False)

    assert report.ok, report.as_dict()
    assert report.total_rows == 2
    assert Customer.objects.get(account="C00002").name == "Second"
    assert memory["peak"] < 10 * MB
    assert time.perf_counter() - started < 10  # a loose guard; the bench measures


@pytest.mark.django_db
def test_the_upload_estimates_the_real_rows_not_the_dimension(
    client, importer, customer, uploads, upload_bytes
):
    client.force_login(importer)
    upload_bytes(far_dimension_workbook())

    job = ImportJob.objects.get()
    assert (job.estimated_rows, job.processed_rows) == (2, 2)


# --- ZIP bombs and shared strings ----------------------------------------------------


@pytest.mark.django_db
def test_a_shared_string_bomb_is_refused_before_it_is_unpacked(
    client, importer, customer, uploads, upload_bytes, import_file, shared_string_bomb
):
    info = zipfile.ZipFile(io.BytesIO(shared_string_bomb)).getinfo(
        "xl/sharedStrings.xml"
    )
    ratio = info.file_size // info.compress_size
    assert ratio > 900
    message = str(
        ZIP_BOMB
        % {"part": "xl/sharedStrings.xml", "ratio": f"{ratio:,}", "limit": "200"}
    )
    with peak_memory() as memory:
        report = import_file(shared_string_bomb)
    assert report.refused == message
    assert memory["peak"] < 10 * MB

    client.force_login(importer)
    response = upload_bytes(shared_string_bomb)
    assert response.context["form"].errors["file"] == [message]
    assert uploads.left() == []


@pytest.mark.django_db
def test_a_giant_shared_string_is_refused_while_streaming_when_the_ratio_is_allowed(
    settings, customer, import_file, shared_string_bomb
):
    """Even with the ratio check switched off, the text is never held whole: reading
    stops at the cell length limit, within a few megabytes."""
    settings.IMPORT_MAX_ZIP_RATIO = 1_000_000
    with peak_memory() as memory:
        report = import_file(shared_string_bomb)

    where = WHERE_SHARED_STRING % {"index": "1"}
    assert report.refused == str(CELL_TOO_LONG % {"where": where, "limit": "32,767"})
    assert memory["peak"] < 10 * MB


@pytest.mark.django_db
def test_too_many_shared_strings_are_refused(settings, customer, import_file):
    settings.IMPORT_MAX_SHARED_STRINGS = 2
    data = corpus.workbook(
        [("Customers", corpus.sheet_xml([corpus.HEADER]))],
        shared_strings=["one", "two", "three"],
    )
    report = import_file(data)
    assert report.refused == str(TOO_MANY_SHARED_STRINGS % {"limit": "2"})


@pytest.mark.django_db
def test_a_workbook_that_unpacks_too_large_is_refused_at_upload(
    settings, client, importer, customer, uploads, upload_bytes
):
    settings.IMPORT_MAX_UNPACKED_BYTES = 100_000
    rows = [[f"C{n:07d}", f"Customer {n}", n] for n in range(3_000)]
    data = corpus.simple_workbook([corpus.HEADER, *rows])
    parts = zipfile.ZipFile(io.BytesIO(data))
    unpacked = sum(
        parts.getinfo(name).file_size
        for name in ("xl/workbook.xml", "xl/worksheets/sheet1.xml")
    )
    client.force_login(importer)
    response = upload_bytes(data)

    assert response.context["form"].errors["file"] == [
        str(TOO_MUCH_UNPACKED % {"size": megabytes(unpacked), "limit": "0.1"})
    ]
    assert uploads.left() == []


@pytest.mark.django_db
def test_an_archive_of_too_many_parts_is_refused_unlisted(customer, import_file):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for n in range(10_001):
            archive.writestr(f"p{n}", b"")
    report = import_file(buffer.getvalue())
    assert report.refused == str(
        DAMAGED % {"problem": TOO_MANY_PARTS % {"limit": "10,000"}}
    )


# --- columns, cells, rows -----------------------------------------------------------


def wide_csv(columns: int) -> bytes:
    header = ["account", "name"] + [f"extra{n}" for n in range(columns - 2)]
    return (";".join(header) + "\nC00001;Renamed\n").encode()


@pytest.mark.django_db
def test_a_header_of_40000_columns_is_refused_at_once(customer, import_file, command):
    started = time.perf_counter()
    report = import_file(wide_csv(40_000), "wide.csv")
    assert report.refused == str(TOO_MANY_COLUMNS % {"limit": "1,000"})
    assert time.perf_counter() - started < 2
    with pytest.raises(CommandError, match="setting IMPORT_MAX_COLUMNS"):
        command(wide_csv(40_000), "wide.csv")


@pytest.mark.django_db
def test_a_header_of_40000_columns_is_checked_in_linear_time(
    settings, customer, import_file
):
    """Allowed that wide, the columns are checked in a blink (the old check was
    quadratic: a minute for this file); the refusal lists a few unknown columns."""
    settings.IMPORT_MAX_COLUMNS = 50_000
    settings.IMPORT_MAX_ROW_CHARS = 1_000_000
    started = time.perf_counter()
    refused = import_file(wide_csv(40_000), "wide.csv")
    ignored = import_file(
        wide_csv(40_000), "wide.csv", dry_run=False, ignore_unknown_columns=True
    )
    assert time.perf_counter() - started < 5  # a loose guard; the bench measures

    listed = ", ".join(f"extra{n}" for n in range(20))
    assert refused.refused == (
        f"The file has columns this import does not know: {listed} and 39978 more. "
        "Remove them, or choose to ignore unknown columns."
    )
    assert ignored.ok, ignored.as_dict()
    assert Customer.objects.get(pk=customer.pk).name == "Renamed"


@pytest.mark.django_db
def test_a_workbook_header_reaching_column_xfd_is_refused(customer, import_file):
    data = corpus.workbook(
        [
            (
                "Customers",
                corpus.sheet_xml(
                    data='<row r="1"><c r="A1" t="inlineStr"><is><t>account</t></is>'
                    '</c><c r="XFD1" t="inlineStr"><is><t>far</t></is></c></row>'
                ),
            )
        ]
    )
    assert import_file(data).refused == str(TOO_MANY_COLUMNS % {"limit": "1,000"})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "where"),
    [
        (
            ("account;name\nC00001;" + "x" * 40_000 + "\n").encode(),
            "long.csv",
            WHERE_LINE_COLUMN % {"line": 2, "column": "B"},
        ),
        (
            corpus.simple_workbook([["account", "name"], ["C00001", "x" * 40_000]]),
            "long.xlsx",
            WHERE_CELL % {"cell": "B2"},
        ),
    ],
    ids=["csv", "xlsx"],
)
def test_a_cell_longer_than_excel_allows_is_refused(
    customer, import_file, data, name, where
):
    report = import_file(data, name)
    assert report.refused == str(CELL_TOO_LONG % {"where": where, "limit": "32,767"})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "where"),
    [
        (
            ("account;name;city\nC00001;" + "x" * 30 + ";" + "y" * 30 + "\n").encode(),
            "row.csv",
            WHERE_LINE % {"line": 2},
        ),
        (
            corpus.simple_workbook(
                [["account", "name", "city"], ["C00001", "x" * 30, "y" * 30]]
            ),
            "row.xlsx",
            WHERE_ROW % {"row": 2},
        ),
    ],
    ids=["csv", "xlsx"],
)
def test_a_row_longer_than_the_row_limit_is_refused(
    settings, customer, import_file, data, name, where
):
    settings.IMPORT_MAX_ROW_CHARS = 50
    report = import_file(data, name)
    assert report.refused == str(ROW_TOO_LONG % {"where": where, "limit": "50"})


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_rows_are_counted_while_reading_and_refused_past_the_limit(
    settings, customer, import_file, kind
):
    settings.IMPORT_MAX_ROWS = 3
    rows = [[f"C0090{n}", f"Customer {n}"] for n in range(4)]

    def build(count: int) -> bytes:
        if kind == "xlsx":
            return corpus.simple_workbook([["account", "name"], *rows[:count]])
        lines = "".join(f"{a};{b}\n" for a, b in rows[:count])
        return f"account;name\n{lines}".encode()

    assert import_file(build(4), f"rows.{kind}").refused == str(
        TOO_MANY_ROWS % {"limit": "3"}
    )
    assert import_file(build(3), f"rows.{kind}").refused == ""


# --- what a preview keeps ----------------------------------------------------------


@pytest.mark.django_db
def test_a_huge_bad_value_is_shortened_in_the_preview(
    client, importer, customer, uploads, upload_bytes
):
    value = "9" * 30_000 + "x"
    client.force_login(importer)
    upload_bytes(f"account;name;credit_limit\nC00001;X;{value}\n".encode(), "big.csv")

    job = ImportJob.objects.get()
    [error] = job.preview["errors"]
    assert error["value"] == shorten(value) == "9" * 59 + "… (30,001 characters)"
    assert error["message"] == (
        f"“{shorten(value)}” is not a number written as 1234.56 (no thousands "
        "separators)."
    )
    assert job.preview["rows"][0]["errors"] == [error["message"]]
    assert len(json.dumps(job.preview)) < 2_000


@pytest.mark.django_db
def test_empty_columns_to_the_end_of_a_far_used_range_do_not_count(
    customer, import_file
):
    """Excel's CSV writes a delimiter for every column of the used range."""
    padding = ";" * 16_383
    data = f"account;name{padding}\nC00001;Renamed{padding}\n".encode()
    report = import_file(data, "excel.csv", dry_run=False)
    assert report.ok, report.as_dict()
    assert Customer.objects.get(pk=customer.pk).name == "Renamed"
