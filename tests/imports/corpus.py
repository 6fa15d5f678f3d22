"""Awkward import files, built byte by byte by the tests that need them.

Workbooks are written part by part (so a test can declare a far dimension, put a bad
value in a cell or write Strict Open XML), and OLE2 compound files get just the header,
FAT and directory that tell an old .xls from a password-protected workbook.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Iterable
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_RELATIONSHIPS = "http://purl.oclc.org/ooxml/officeDocument/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"

HEADER = ["account", "name", "credit_limit"]


def column(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell(ref: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def rows_xml(rows: Iterable[list], *, first: int = 1) -> str:
    out = []
    for number, values in enumerate(rows, start=first):
        cells = "".join(
            cell(f"{column(i)}{number}", v) for i, v in enumerate(values, start=1)
        )
        out.append(f'<row r="{number}">{cells}</row>')
    return "".join(out)


def sheet_xml(
    rows: Iterable[list] = (),
    *,
    data: str | None = None,
    dimension: str | None = None,
    strict: bool = False,
) -> str:
    """A worksheet part: `rows` as cells, or `data` as the raw content of sheetData."""
    ns = STRICT_MAIN if strict else MAIN
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    body = rows_xml(rows) if data is None else data
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<worksheet xmlns="{ns}">{dim}<sheetData>{body}</sheetData></worksheet>'
    )


def workbook(
    sheets: list[tuple[str, str | bytes]],
    *,
    shared_strings: list[str] | None = None,
    strict: bool = False,
    hidden: tuple[str, ...] = (),
    extra: dict[str, bytes] | None = None,
    write_shared: callable | None = None,
) -> bytes:
    """An .xlsx (or Strict Open XML) workbook of these (name, sheet part) sheets."""
    ns = STRICT_MAIN if strict else MAIN
    rel_ns = STRICT_RELATIONSHIPS if strict else RELATIONSHIPS
    rel_type = rel_ns if strict else RELATIONSHIPS
    members: dict[str, str | bytes] = {
        "[Content_Types].xml": (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="xml" '
            'ContentType="application/xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0"?><Relationships xmlns="{PACKAGE}">'
            f'<Relationship Id="rId1" Type="{rel_type}/officeDocument" '
            f'Target="xl/workbook.xml"/></Relationships>'
        ),
    }
    entries, relations = [], []
    for number, (name, part) in enumerate(sheets, start=1):
        state = ' state="hidden"' if name in hidden else ""
        entries.append(
            f'<sheet name="{escape(name)}" sheetId="{number}"{state} '
            f'r:id="rId{number}"/>'
        )
        relations.append(
            f'<Relationship Id="rId{number}" Type="{rel_type}/worksheet" '
            f'Target="worksheets/sheet{number}.xml"/>'
        )
        members[f"xl/worksheets/sheet{number}.xml"] = part
    shared = shared_strings is not None or write_shared is not None
    if shared:
        relations.append(
            f'<Relationship Id="rIdS" Type="{rel_type}/sharedStrings" '
            f'Target="sharedStrings.xml"/>'
        )
    members["xl/workbook.xml"] = (
        f'<?xml version="1.0"?><workbook xmlns="{ns}" xmlns:r="{rel_ns}">'
        f"<sheets>{''.join(entries)}</sheets></workbook>"
    )
    members["xl/_rels/workbook.xml.rels"] = (
        f'<?xml version="1.0"?><Relationships xmlns="{PACKAGE}">'
        f"{''.join(relations)}</Relationships>"
    )
    members.update(extra or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        if shared:
            with archive.open("xl/sharedStrings.xml", "w") as target:
                target.write(f'<?xml version="1.0"?><sst xmlns="{ns}">'.encode())
                if write_shared is not None:
                    write_shared(target)
                for text in shared_strings or ():
                    target.write(f"<si><t>{escape(text)}</t></si>".encode())
                target.write(b"</sst>")
    return buffer.getvalue()


def simple_workbook(rows: list[list], **options) -> bytes:
    return workbook([("Customers", sheet_xml(rows))], **options)


def ods() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "mimetype",
            "application/vnd.oasis.opendocument.spreadsheet",
            compress_type=zipfile.ZIP_STORED,
        )
        archive.writestr("content.xml", "<office:document-content/>")
        archive.writestr("META-INF/manifest.xml", "<manifest/>")
    return buffer.getvalue()


def xlsb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" '
            f'Type="{RELATIONSHIPS}/officeDocument" Target="xl/workbook.bin"/>'
            f"</Relationships>",
        )
        archive.writestr("xl/workbook.bin", b"\x83\x01\x00\x80\x01\x00")
    return buffer.getvalue()


def other_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


FREE, END_OF_CHAIN, FAT_SECTOR = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def ole(streams: list[str]) -> bytes:
    """An OLE2 compound file (version 3) whose directory names these streams.

    Enough for a reader to find the names: header, one FAT sector, one directory
    sector (the root entry and up to three streams, all empty).
    """
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<III", header, 44, 1, 1, 0)
    struct.pack_into("<IIIII", header, 56, 4096, END_OF_CHAIN, 0, END_OF_CHAIN, 0)
    struct.pack_into("<109I", header, 76, 0, *([FREE] * 108))
    fat = struct.pack("<128I", FAT_SECTOR, END_OF_CHAIN, *([FREE] * 126))

    def entry(name: str, kind: int) -> bytes:
        raw = bytearray(128)
        encoded = name.encode("utf-16-le")
        raw[0 : len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 64, len(encoded) + 2, kind, 1)
        struct.pack_into("<III", raw, 68, FREE, FREE, FREE)
        struct.pack_into("<II", raw, 116, END_OF_CHAIN, 0)
        return bytes(raw)

    directory = entry("Root Entry", 5) + b"".join(entry(n, 2) for n in streams[:3])
    directory = directory.ljust(512, b"\x00")
    return bytes(header) + fat + directory


def encrypted_workbook() -> bytes:
    return ole(["EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"])


def old_xls() -> bytes:
    return ole(["Workbook", "\x05SummaryInformation"])


def header_and(*data_rows: str) -> str:
    """sheetData: the header account, name, credit_limit, then these raw rows."""
    return rows_xml([HEADER]) + "".join(data_rows)


def with_bad_crc(data: bytes, member: str) -> bytes:
    """The archive with a wrong checksum for `member` in its central directory."""
    raw = bytearray(data)
    name = member.encode()
    at = raw.find(b"PK\x01\x02")
    while at >= 0:
        name_length = int.from_bytes(raw[at + 28 : at + 30], "little")
        if raw[at + 46 : at + 46 + name_length] == name:
            raw[at + 16 : at + 20] = b"\x00\x00\x00\x00"
            return bytes(raw)
        at = raw.find(b"PK\x01\x02", at + 4)
    raise ValueError(member)


def with_member_packing(data: bytes, member: str, compress_type: int) -> bytes:
    """The archive with `member` packed another way (bzip2, lzma …)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(
                info.filename,
                source.read(info),
                compress_type=compress_type if info.filename == member else None,
            )
    return buffer.getvalue()
