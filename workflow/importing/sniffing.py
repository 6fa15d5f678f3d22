"""What a file is, told by its first bytes and its structure, never by its name.

A workbook is a ZIP archive (.xlsx, .xlsm and their Strict Open XML form are read; .xlsb
and .ods are refused with what to do); an OLE2 compound file is an old .xls or a
password-protected workbook (Office encrypts a workbook into such a file, with the
streams EncryptionInfo and EncryptedPackage); anything else is read as CSV text.
"""

from __future__ import annotations

import struct
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from .limits import FileRefused

TEXT, WORKBOOK = "text", "workbook"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
MARKUP_STARTS = (b"<?xml", b"<html", b"<!doctype", b"<table", b"<workbook")

PASSWORD_PROTECTED = _(
    "The workbook is password-protected: save a copy without a password "
    "(in Excel: File › Info › Protect Workbook › Encrypt with Password, empty the "
    "password) and import the copy."
)
OLD_XLS = _(
    "The file is an old Excel 97–2003 workbook (.xls): save it as .xlsx or CSV and "
    "import that."
)
OTHER_OLE = _(
    "The file is an old Microsoft Office document, not a workbook this import can "
    "read: save it as .xlsx or CSV and import that."
)
MARKUP = _(
    "The file is a web page or an XML file, not CSV: open it in Excel and save it "
    "as .xlsx or CSV."
)
CANNOT_OPEN = _("The file cannot be opened: %(error)s")

# Names of the directory entries, in an OLE2 compound file, that tell what it holds.
ENCRYPTED_STREAMS = {"EncryptionInfo", "EncryptedPackage"}
BIFF_STREAMS = {"Workbook", "Book"}
# Directory entries read at most: an Office file has a few dozen.
MAX_OLE_ENTRIES = 10_000
END_OF_CHAIN = 0xFFFFFFFE


def file_kind(path: Path) -> str:
    """TEXT or WORKBOOK; refuses, saying what to do, what this import cannot read."""
    try:
        with path.open("rb") as handle:
            start = handle.read(1024)
    except OSError as error:
        raise FileRefused(
            str(CANNOT_OPEN % {"error": error.strerror or error})
        ) from None
    if start.startswith(ZIP_MAGICS):
        return WORKBOOK
    if start.startswith(OLE_MAGIC):
        names = ole_stream_names(path)
        if ENCRYPTED_STREAMS & names:
            raise FileRefused(str(PASSWORD_PROTECTED))
        if BIFF_STREAMS & names:
            raise FileRefused(str(OLD_XLS))
        raise FileRefused(str(OTHER_OLE))
    text = start.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(MARKUP_STARTS):
        raise FileRefused(str(MARKUP))
    return TEXT


def ole_stream_names(path: Path) -> set[str]:
    """The names in an OLE2 compound file's directory; empty when it cannot be read.

    Follows the directory's sector chain through the FAT (reading only the FAT sectors
    it needs), never more sectors than the file has.
    """
    try:
        with path.open("rb") as handle:
            return _ole_names(handle, path.stat().st_size)
    except (OSError, struct.error, ValueError, IndexError):
        return set()


def _ole_names(handle, size: int) -> set[str]:
    header = handle.read(512)
    sector_size = 1 << struct.unpack_from("<H", header, 30)[0]
    if sector_size not in (512, 4096):
        return set()
    fat_sectors = struct.unpack_from("<I", header, 44)[0]
    directory = struct.unpack_from("<I", header, 48)[0]
    difat = list(struct.unpack_from("<109I", header, 76))[:fat_sectors]
    next_difat = struct.unpack_from("<I", header, 68)[0]
    per_sector = sector_size // 4
    most = size // sector_size + 1

    def sector(number: int) -> bytes:
        handle.seek((number + 1) * sector_size)
        data = handle.read(sector_size)
        if len(data) < sector_size:
            raise ValueError("sector beyond the end of the file")
        return data

    steps = 0
    while len(difat) < fat_sectors and next_difat < END_OF_CHAIN and steps < most:
        entries = struct.unpack(f"<{per_sector}I", sector(next_difat))
        difat += entries[:-1]
        next_difat = entries[-1]
        steps += 1

    names: set[str] = set()
    steps = 0
    while directory < END_OF_CHAIN and steps < most and len(names) < MAX_OLE_ENTRIES:
        data = sector(directory)
        for offset in range(0, sector_size, 128):
            length = struct.unpack_from("<H", data, offset + 64)[0]
            if 2 <= length <= 64 and data[offset + 66] in (1, 2, 5):
                names.add(
                    data[offset : offset + length - 2].decode("utf-16-le", "replace")
                )
        fat_sector = difat[directory // per_sector]
        fat = sector(fat_sector)
        directory = struct.unpack_from("<I", fat, (directory % per_sector) * 4)[0]
        steps += 1
    return names
