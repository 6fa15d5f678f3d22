"""What an import file may hold, and the refusal when it holds more.

Every limit bounds the time or the memory one upload can cost, whatever it contains;
each is a setting (custapproval/settings/base.py, from the environment) and each
refusal names it, so whoever runs the server knows what to raise.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

# Excel's own limits: a sheet has 16,384 columns (XFD) and 1,048,576 rows.
EXCEL_COLUMNS = 16_384
EXCEL_ROWS = 1_048_576
# How much of a value a message or a preview shows.
SHOWN_CHARS = 60

TOO_MANY_COLUMNS = _(
    "The first row has more than %(limit)s columns; an import reads up to %(limit)s "
    "(setting IMPORT_MAX_COLUMNS)."
)
CELL_TOO_LONG = _(
    "%(where)s holds more than %(limit)s characters; a cell may hold up to %(limit)s, "
    "as in Excel (setting IMPORT_MAX_CELL_CHARS)."
)
ROW_TOO_LONG = _(
    "%(where)s holds more than %(limit)s characters in all; a row may hold up to "
    "%(limit)s (setting IMPORT_MAX_ROW_CHARS)."
)
TOO_MANY_ROWS = _(
    "The file has more than %(limit)s rows; an import reads up to %(limit)s "
    "(setting IMPORT_MAX_ROWS). Split the file and import the parts one by one."
)
TOO_MANY_SHARED_STRINGS = _(
    "The workbook holds more than %(limit)s different texts (shared strings); an "
    "import reads up to %(limit)s (setting IMPORT_MAX_SHARED_STRINGS)."
)
TOO_MUCH_UNPACKED = _(
    "The workbook unpacks to %(size)s MB for this sheet; an import unpacks up to "
    "%(limit)s MB (setting IMPORT_MAX_UNPACKED_BYTES)."
)
ZIP_BOMB = _(
    "The part %(part)s of the workbook unpacks to %(ratio)s times its packed size; an "
    "import accepts up to %(limit)s times (setting IMPORT_MAX_ZIP_RATIO). Excel does "
    "not write such parts: open the file in Excel, save it again and import the copy."
)
FILE_TOO_LARGE = _(
    "The file is %(size)s MB; an import reads files up to %(limit)s MB "
    "(setting IMPORT_MAX_BYTES)."
)
UNNAMED_COLUMN = _(
    "%(where)s has a value in column %(column)s, which has no name in the first row. "
    "Name the column in the first row, or remove its values."
)
WHERE_ROW = _("Row %(row)s")
WHERE_LINE = _("Line %(line)s")
WHERE_CELL = _("Cell %(cell)s")
WHERE_HEADER = _("The first row")
WHERE_LINE_COLUMN = _("Line %(line)s, column %(column)s")
WHERE_SHARED_STRING = _("Text number %(index)s of the workbook (shared strings)")
SHORTENED = _("%(start)s… (%(count)s characters)")
MORE = _(" and %(count)s more")


class FileRefused(Exception):
    """The file as a whole cannot be read; `message` says why, in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Limits:
    """The limits in force, read from the settings when a file is opened."""

    rows: int
    columns: int
    cell_chars: int
    row_chars: int
    shared_strings: int
    unpacked_bytes: int
    zip_ratio: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            rows=settings.IMPORT_MAX_ROWS,
            columns=settings.IMPORT_MAX_COLUMNS,
            cell_chars=settings.IMPORT_MAX_CELL_CHARS,
            row_chars=settings.IMPORT_MAX_ROW_CHARS,
            shared_strings=settings.IMPORT_MAX_SHARED_STRINGS,
            unpacked_bytes=settings.IMPORT_MAX_UNPACKED_BYTES,
            zip_ratio=settings.IMPORT_MAX_ZIP_RATIO,
        )


def count(number: int) -> str:
    """A number as the user's language writes it, with thousands separators."""
    return number_format(number, force_grouping=True)


def megabytes(size: int) -> str:
    return number_format(round(size / 1_000_000, 1), decimal_pos=1, force_grouping=True)


def shorten(text: object, limit: int = SHOWN_CHARS) -> str:
    """A value as a message or a preview shows it: at most `limit` characters."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    return str(SHORTENED % {"start": text[: limit - 1], "count": count(len(text))})


def column_letter(index: int) -> str:
    """The spreadsheet's name of the column at 1-based `index`: 1 → A, 28 → AB."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def listed(names: list[str], most: int = 10) -> str:
    """Names for a message: the first few, and how many more."""
    shown = ", ".join(shorten(n, 40) for n in names[:most])
    if len(names) > most:
        shown += str(MORE % {"count": count(len(names) - most)})
    return shown
