"""No traceback, ever: a damaged workbook is refused with a sentence that names the row,
the cell or the part, through the service, the Import page (never an HTTP 500) and the
command; the upload is not kept. The files are built here, byte by byte."""

from __future__ import annotations

import re
import zipfile

import pytest
from django.core.management import CommandError
from django.urls import reverse

from tests.imports import corpus
from tests.imports.corpus import header_and
from workflow.importing.workbook import (
    BAD_REFERENCE,
    BAD_STRING_INDEX,
    CUT_SHORT,
    DAMAGED,
    DOCTYPE,
    NOT_A_BOOLEAN,
    NOT_A_NUMBER,
    PART_MISSING,
    PART_NOT_XML,
    PART_PACKED_ODDLY,
    PART_UNREADABLE,
    ROW_ORDER,
    SHEET_UNREADABLE,
    UNKNOWN_TYPE,
)
from workflow.models import ImportJob, ImportJobState

SHEET = "xl/worksheets/sheet1.xml"


def damaged(problem) -> str:
    return str(DAMAGED % {"problem": problem})


def sheet(data: str) -> bytes:
    return corpus.workbook([("Customers", corpus.sheet_xml(data=data))])


def good() -> bytes:
    return corpus.simple_workbook([corpus.HEADER, ["C00001", "Renamed", 5]])


# 4,000 rows after the header: more than the upload's sample of a sheet reads.
MANY_ROWS = "".join(
    f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>C{n:07d}</t></is></c>'
    f'<c r="B{n}" t="inlineStr"><is><t>Customer {n}</t></is></c>'
    f'<c r="C{n}"><v>{n}</v></c></row>'
    for n in range(2, 4002)
)

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    f'<worksheet xmlns="{corpus.MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr">'
    "<is><t>&lol2;</t></is></c></row></sheetData></worksheet>"
)

# (id, the file, the refusal, whether the upload or the preview refuses it)
DAMAGED_FILES = [
    (
        "truncated",
        lambda: good()[:300],
        damaged(CUT_SHORT % {"error": "no end of central directory"}),
        "upload",
    ),
    (
        "not-a-zip-after-all",
        lambda: b"PK\x03\x04" + bytes(range(256)) * 8,
        damaged(CUT_SHORT % {"error": "no end of central directory"}),
        "upload",
    ),
    (
        "bad-checksum",
        lambda: corpus.with_bad_crc(good(), SHEET),
        damaged(
            PART_UNREADABLE % {"part": SHEET, "error": f"Bad CRC-32 for file '{SHEET}'"}
        ),
        "upload",
    ),
    (
        "mismatched-tag",
        lambda: sheet(header_and('<row r="2"><c r="A2"><v>1</v></row>')),
        damaged(
            SHEET_UNREADABLE
            % {"sheet": "Customers", "row": 1, "error": "mismatched tag"}
        ),
        "upload",
    ),
    (
        "text-in-a-number-cell",
        lambda: sheet(header_and('<row r="2"><c r="C2"><v>twelve</v></c></row>')),
        damaged(NOT_A_NUMBER % {"cell": "C2", "value": "twelve"}),
        "upload",
    ),
    (
        "shared-string-out-of-range",
        lambda: corpus.workbook(
            [
                (
                    "Customers",
                    corpus.sheet_xml(
                        data=header_and(
                            '<row r="2"><c r="A2" t="s"><v>0</v></c>'
                            '<c r="B2" t="s"><v>7</v></c></row>'
                        )
                    ),
                )
            ],
            shared_strings=["C00001"],
        ),
        damaged(BAD_STRING_INDEX % {"cell": "B2", "index": "7", "count": "1"}),
        "preview",
    ),
    (
        "yes-no-cell-with-text",
        lambda: sheet(header_and('<row r="2"><c r="C2" t="b"><v>maybe</v></c></row>')),
        damaged(NOT_A_BOOLEAN % {"cell": "C2", "value": "maybe"}),
        "upload",
    ),
    (
        "bad-cell-reference",
        lambda: sheet(header_and('<row r="2"><c r="2A"><v>1</v></c></row>')),
        damaged(BAD_REFERENCE % {"row": 2, "ref": "2A"}),
        "upload",
    ),
    (
        "rows-out-of-order",
        lambda: sheet(
            header_and(
                '<row r="3"><c r="C3"><v>1</v></c></row>'
                '<row r="2"><c r="C2"><v>1</v></c></row>'
            )
        ),
        damaged(ROW_ORDER % {"row": 2, "previous": 3}),
        "upload",
    ),
    (
        "unknown-cell-type",
        lambda: sheet(header_and('<row r="2"><c r="C2" t="zz"><v>1</v></c></row>')),
        damaged(UNKNOWN_TYPE % {"cell": "C2", "type": "zz"}),
        "upload",
    ),
    (
        "entity-expansion",
        lambda: corpus.workbook([("Customers", BILLION_LAUGHS)]),
        damaged(DOCTYPE % {"part": SHEET}),
        "upload",
    ),
    (
        "sheet-part-missing",
        lambda: corpus.workbook(
            [("Customers", corpus.sheet_xml([corpus.HEADER]))],
            extra={
                "xl/_rels/workbook.xml.rels": (
                    f'<Relationships xmlns="{corpus.PACKAGE}"><Relationship Id="rId1" '
                    f'Type="{corpus.RELATIONSHIPS}/worksheet" Target="worksheets/gone.xml"/>'
                    "</Relationships>"
                )
            },
        ),
        damaged(PART_MISSING % {"part": "xl/worksheets/gone.xml"}),
        "upload",
    ),
    (
        "workbook-part-not-xml",
        lambda: corpus.workbook(
            [("Customers", corpus.sheet_xml([corpus.HEADER]))],
            extra={"xl/workbook.xml": b"\x00\x01 not xml"},
        ),
        damaged(
            PART_NOT_XML
            % {"part": "xl/workbook.xml", "error": "not well-formed (invalid token)"}
        ),
        "upload",
    ),
    (
        "packed-with-bzip2",
        lambda: corpus.with_member_packing(good(), SHEET, zipfile.ZIP_BZIP2),
        damaged(PART_PACKED_ODDLY % {"part": SHEET}),
        "upload",
    ),
]
IDS = [case[0] for case in DAMAGED_FILES]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "build", "message", "stage"), DAMAGED_FILES, ids=IDS)
def test_the_service_refuses_a_damaged_workbook_naming_where(
    customer, import_file, name, build, message, stage
):
    report = import_file(build())
    assert report.refused == message


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "build", "message", "stage"), DAMAGED_FILES, ids=IDS)
def test_the_import_page_refuses_it_and_keeps_no_file(
    client, importer, customer, uploads, upload_bytes, name, build, message, stage
):
    client.force_login(importer)
    response = upload_bytes(build())

    if stage == "upload":
        assert response.status_code == 200
        assert response.context["form"].errors["file"] == [message]
        assert not ImportJob.objects.exists()
    else:
        job = ImportJob.objects.get()
        assert response.status_code == 302
        assert (job.state, job.preview["refused"]) == (ImportJobState.INVALID, message)
        page = client.get(reverse("admin:customers_customer_import_job", args=[job.pk]))
        assert page.status_code == 200
        assert page.context["report"]["refused"] == message
    assert uploads.left() == []


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "build", "message", "stage"), DAMAGED_FILES, ids=IDS)
def test_the_command_refuses_it_without_a_traceback(
    customer, command, name, build, message, stage
):
    with pytest.raises(CommandError) as refused:
        command(build())
    assert str(refused.value) == message


@pytest.mark.django_db
def test_damage_past_the_part_the_upload_samples_is_refused_by_the_preview(
    client, importer, customer, uploads, upload_bytes
):
    """The upload reads only the first part of a sheet; the preview reads all of it,
    refuses the file naming the cell, and the upload is removed."""
    data = sheet(
        header_and(MANY_ROWS, '<row r="4002"><c r="C4002"><v>1,5</v></c></row>')
    )
    client.force_login(importer)
    response = upload_bytes(data)

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.state == ImportJobState.INVALID
    assert job.preview["refused"] == damaged(
        NOT_A_NUMBER % {"cell": "C4002", "value": "1,5"}
    )
    assert uploads.left() == []


@pytest.mark.django_db
def test_a_checksum_wrong_at_the_end_names_the_last_row_read(customer, import_file):
    """The checksum is known once the part is unpacked to its end: the rows before
    were read, the file is refused all the same, naming the last of them."""
    data = corpus.with_bad_crc(sheet(header_and(MANY_ROWS)), SHEET)
    report = import_file(data)

    last = re.fullmatch(
        re.escape(
            damaged(
                SHEET_UNREADABLE
                % {
                    "sheet": "Customers",
                    "row": "@",
                    "error": f"Bad CRC-32 for file '{SHEET}'",
                }
            )
        ).replace("@", r"(\d+)"),
        report.refused,
    )
    assert last is not None, report.refused
    assert 3_000 < int(last.group(1)) <= 4_001


@pytest.mark.django_db
def test_a_missing_file_is_refused_by_the_command(customer, importer, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    with pytest.raises(CommandError, match="The file cannot be opened: No such file"):
        call_command(
            "import_customers",
            str(tmp_path / "nowhere.csv"),
            user="importer",
            stdout=StringIO(),
        )
