"""Reading the files people really have, row by row, in bounded time and memory.

What a file is comes from its content, not its name (sniffing.py): CSV text, or a
workbook (workbook.py: .xlsx, .xlsm, Strict Open XML; the sheet the user names, else
the first with data). CSV: UTF-8 with or without BOM, or Windows-1252 (detected or
chosen); `,` or `;`; quoted fields with newlines. Text that decodes in neither encoding
is refused, never stored garbled. The limits of limits.py hold for both, and whatever
goes wrong while reading becomes a FileRefused that names the row or the part: never a
traceback.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .limits import (
    CELL_TOO_LONG,
    EXCEL_COLUMNS,
    ROW_TOO_LONG,
    TOO_MANY_COLUMNS,
    TOO_MANY_ROWS,
    UNNAMED_COLUMN,
    WHERE_HEADER,
    WHERE_LINE,
    WHERE_LINE_COLUMN,
    FileRefused,
    Limits,
    column_letter,
    count,
)
from .sniffing import TEXT, WORKBOOK, file_kind
from .workbook import BAD_STRING_INDEX, SharedRef, Workbook, damaged
from .workbook import SAMPLE_BYTES as SHEET_SAMPLE_BYTES

__all__ = ["FileRefused", "SourceRow", "Survey", "TableFile", "survey"]

ENCODINGS = {"utf-8": "utf-8-sig", "windows-1252": "cp1252"}
DELIMITERS = (",", ";")
CHUNK = 1 << 20
# How much of a CSV file the estimate of its rows reads.
SAMPLE_BYTES = 1 << 16
# Sheet names an import report keeps.
MAX_LISTED_SHEETS = 100

UNREADABLE = gettext_lazy("The file cannot be read: %(error)s")
UNREADABLE_AFTER = gettext_lazy("The file cannot be read after row %(row)s: %(error)s")


@dataclass(frozen=True)
class SourceRow:
    line: int
    cells: dict[str, object]


def _decodes(path: Path, codec: str) -> tuple[bool, int]:
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return False, offset + error.start
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False, offset
    return True, -1


UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def _refuse_binary(path: Path) -> None:
    with path.open("rb") as handle:
        start = handle.read(4)
        handle.seek(0)
        if start.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise FileRefused(
                _("The file is UTF-16 text. Save it as CSV UTF-8 and try again.")
            )
        while chunk := handle.read(CHUNK):
            if b"\x00" in chunk:
                raise FileRefused(
                    _(
                        "The file contains NUL bytes, so it is not a text file. Save it as CSV UTF-8."
                    )
                )


def _has_utf8_sequences(path: Path) -> bool:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            for match in UTF8_MULTIBYTE.finditer(chunk):
                try:
                    match.group().decode("utf-8")
                except UnicodeDecodeError:
                    continue
                return True
    return False


def detect_encoding(path: Path, chosen: str = "auto") -> str:
    """The encoding name (`utf-8` or `windows-1252`) the whole file decodes in.

    A file that is partly UTF-8 and partly something else is refused: read either way,
    some of its text would be stored garbled.
    """
    _refuse_binary(path)
    candidates = list(ENCODINGS) if chosen == "auto" else [chosen]
    position = -1
    for name in candidates:
        ok, position = _decodes(path, ENCODINGS[name])
        if (
            ok
            and name == "windows-1252"
            and chosen == "auto"
            and _has_utf8_sequences(path)
        ):
            raise FileRefused(
                _(
                    "The file mixes UTF-8 text with text in another encoding, so part of it "
                    "would be read wrongly. Save it again as CSV UTF-8."
                )
            )
        if ok:
            return name
    if chosen == "auto":
        raise FileRefused(
            _(
                "The file is neither UTF-8 nor Windows-1252 text (byte %(position)s "
                "cannot be read). Save it as CSV UTF-8 and try again."
            )
            % {"position": position}
        )
    raise FileRefused(
        _("The file is not valid %(encoding)s text (byte %(position)s cannot be read).")
        % {"encoding": chosen, "position": position}
    )


def detect_delimiter(header_line: str, chosen: str = "auto") -> str:
    if chosen != "auto":
        return chosen
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


class TableFile:
    """A CSV file or one sheet of a workbook, opened for streaming: `header`, then
    `rows()`. `sheet` is the sheet read ("" for CSV) and `sheets` all of them."""

    def __init__(
        self,
        path: Path | str,
        *,
        name: str = "",
        encoding: str = "auto",
        delimiter: str = "auto",
        sheet: str = "",
    ):
        self.path = Path(path)
        self.name = name or self.path.name
        self.limits = Limits.from_settings()
        self.encoding = ""
        self.delimiter = ""
        self.sheet = ""
        self.sheets: list[str] = []
        try:
            self.is_xlsx = file_kind(self.path) == WORKBOOK
            if self.is_xlsx:
                header = self._workbook_header(sheet)
            else:
                self.encoding = detect_encoding(self.path, encoding)
                header = self._csv_header(delimiter)
        except FileRefused:
            raise
        except Exception as error:  # noqa: BLE001 - no file may end in a traceback
            raise FileRefused(str(UNREADABLE % {"error": error})) from None
        while header and not header[-1]:
            header.pop()
        if len(header) > self.limits.columns:
            raise FileRefused(
                str(TOO_MANY_COLUMNS % {"limit": count(self.limits.columns)})
            )
        self.header = header
        self._named = [(i, n) for i, n in enumerate(header, start=1) if n]
        self._unnamed = frozenset(i for i, n in enumerate(header, start=1) if not n)

    # --- workbooks --------------------------------------------------------------------

    def _workbook_header(self, sheet_name: str) -> list[str]:
        with Workbook(self.path, self.limits) as book:
            self.sheets = book.sheet_names[:MAX_LISTED_SHEETS]
            sheet = (
                book.sheet_named(sheet_name)
                if sheet_name
                else book.first_sheet_with_data()
            )
            self.sheet = sheet.name
            book.check_parts([sheet])
            first = next(
                book.rows(sheet, strings=None, width=self.limits.columns, header=True),
                None,
            )
            cells = first[1] if first and first[0] == 1 else {}
            wanted: set[int] = {v for v in cells.values() if isinstance(v, SharedRef)}
            texts = book.some_shared_strings(wanted)
            names = []
            for column in range(1, max(cells, default=0) + 1):
                value = cells.get(column)
                if isinstance(value, SharedRef):
                    if value not in texts:
                        raise damaged(
                            BAD_STRING_INDEX
                            % {
                                "cell": f"{column_letter(column)}1",
                                "index": int(value),
                                "count": count(len(texts)),
                            }
                        )
                    value = texts[value]
                names.append("" if value is None else str(value).strip())
            return names

    def _workbook_rows(self) -> Iterator[SourceRow]:
        with Workbook(self.path, self.limits) as book:
            sheet = book.sheet_named(self.sheet)
            names = dict(self._named)
            strings = book.shared_strings()
            try:
                for number, cells in book.rows(
                    sheet,
                    strings=strings,
                    width=len(self.header),
                    unnamed=self._unnamed,
                ):
                    if number > 1:
                        # Only the cells that hold a value: a wide header costs nothing
                        # in the rows that do not fill it.
                        yield SourceRow(
                            number, {names[i]: value for i, value in cells.items()}
                        )
            finally:
                strings.close()

    # --- CSV ----------------------------------------------------------------------

    def _text(self) -> io.TextIOWrapper:
        return open(self.path, encoding=ENCODINGS[self.encoding], newline="")  # noqa: SIM115

    def _lines(self, text: io.TextIOWrapper) -> Iterator[str]:
        """The file's lines for the CSV reader, none longer than a row may be."""
        limit = self.limits.row_chars
        number = 0
        while line := text.readline(limit + 1):
            number += 1
            if len(line) > limit and not line.endswith(("\n", "\r")):
                raise FileRefused(
                    str(
                        ROW_TOO_LONG
                        % {
                            "where": WHERE_LINE % {"line": number},
                            "limit": count(limit),
                        }
                    )
                )
            yield line

    def _csv_header(self, delimiter: str) -> list[str]:
        limits = self.limits
        with self._text() as text:
            first_line = text.readline(limits.row_chars + 1)
            self.delimiter = detect_delimiter(first_line, delimiter)
            # Trailing empty columns do not count: Excel writes a delimiter for every
            # column of the sheet's used range, named or not.
            named = first_line.rstrip().rstrip(self.delimiter + ' "\t')
            if named.count(self.delimiter) >= limits.columns:
                raise FileRefused(
                    str(TOO_MANY_COLUMNS % {"limit": count(limits.columns)})
                )
            text.seek(0)
            try:
                header = next(
                    csv.reader(self._lines(text), delimiter=self.delimiter), []
                )
            except csv.Error as error:
                if "field larger than field limit" in str(error):
                    raise FileRefused(
                        str(
                            CELL_TOO_LONG
                            % {"where": WHERE_HEADER, "limit": count(limits.cell_chars)}
                        )
                    ) from None
                raise FileRefused(
                    _("The first line cannot be read as CSV column names: %(error)s")
                    % {"error": error}
                ) from None
        for name in header:
            if len(name) > limits.cell_chars:
                raise FileRefused(
                    str(
                        CELL_TOO_LONG
                        % {"where": WHERE_HEADER, "limit": count(limits.cell_chars)}
                    )
                )
        return [cell.strip() for cell in header]

    def _csv_rows(self) -> Iterator[SourceRow]:
        limits = self.limits
        width = len(self.header)
        unnamed = sorted(self._unnamed)
        named_columns = [i for i, _name in self._named]
        with self._text() as text:
            reader = csv.reader(self._lines(text), delimiter=self.delimiter)
            next(reader, None)
            while True:
                line = reader.line_num + 1
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    if "field larger than field limit" in str(error):
                        raise FileRefused(
                            str(
                                CELL_TOO_LONG
                                % {
                                    "where": WHERE_LINE % {"line": line},
                                    "limit": count(limits.cell_chars),
                                }
                            )
                        ) from None
                    raise FileRefused(
                        _("Line %(line)s cannot be read as CSV: %(error)s")
                        % {"line": line, "error": error}
                    ) from None
                if not any(v.strip() for v in values):
                    continue
                if len(values) > width:
                    extra = values[width:]
                    if any(v.strip() for v in extra):
                        raise FileRefused(
                            _(
                                "Line %(line)s has %(count)s cells but the header has %(columns)s columns."
                            )
                            % {
                                "line": line,
                                "count": len(values),
                                "columns": width,
                            }
                        )
                for column in unnamed:
                    if column > len(values):
                        break
                    if values[column - 1].strip():
                        raise FileRefused(
                            str(
                                UNNAMED_COLUMN
                                % {
                                    "where": WHERE_LINE % {"line": line},
                                    "column": column_letter(column),
                                }
                            )
                        )
                self._check_lengths(values, line)
                present = bisect_right(named_columns, len(values))
                yield SourceRow(
                    line, {name: values[i - 1] for i, name in self._named[:present]}
                )

    def _check_lengths(self, values: list[str], line: int) -> None:
        limits = self.limits
        lengths = list(map(len, values))
        if max(lengths) > limits.cell_chars:
            column = next(
                i for i, n in enumerate(lengths, start=1) if n > limits.cell_chars
            )
            where = WHERE_LINE_COLUMN % {"line": line, "column": column_letter(column)}
            raise FileRefused(
                str(CELL_TOO_LONG % {"where": where, "limit": count(limits.cell_chars)})
            )
        if sum(lengths) > limits.row_chars:
            where = WHERE_LINE % {"line": line}
            raise FileRefused(
                str(ROW_TOO_LONG % {"where": where, "limit": count(limits.row_chars)})
            )

    # --- both ---------------------------------------------------------------------

    def rows(self) -> Iterator[SourceRow]:
        """Every data row with the line number a spreadsheet shows for it.

        Rows are counted as they are read: past IMPORT_MAX_ROWS the file is refused.
        """
        last = 1
        read = 0
        try:
            source = self._workbook_rows() if self.is_xlsx else self._csv_rows()
            for row in source:
                read += 1
                if read > self.limits.rows:
                    raise FileRefused(
                        str(TOO_MANY_ROWS % {"limit": count(self.limits.rows)})
                    )
                last = row.line
                yield row
        except FileRefused:
            raise
        except Exception as error:  # noqa: BLE001 - no file may end in a traceback
            raise FileRefused(
                str(UNREADABLE_AFTER % {"row": last, "error": error})
            ) from None


@dataclass(frozen=True)
class Survey:
    """What a file is and roughly how large, found without reading it through."""

    work_bytes: int
    estimated_rows: int
    sheets: tuple[str, ...] = ()


def survey(path: Path | str, *, sheet: str = "", estimate: bool = True) -> Survey:
    """The bytes a full read parses (a CSV's size; the parts a workbook unpacks) and an
    estimate of the rows from the file's first part, for the progress bar.

    Refuses at once what can be refused without reading the file through: files of
    another kind, damaged or oversized workbooks, a sheet the workbook does not have.
    """
    path = Path(path)
    limits = Limits.from_settings()
    try:
        if file_kind(path) == TEXT:
            size = path.stat().st_size
            return Survey(size, _csv_rows_estimate(path, size) if estimate else 0)
        with Workbook(path, limits) as book:
            chosen = [book.sheet_named(sheet)] if sheet else book.sheets
            work = book.check_parts(chosen)
            rows = _sheet_rows_estimate(book, chosen) if estimate else 0
            return Survey(work, rows, tuple(book.sheet_names[:MAX_LISTED_SHEETS]))
    except FileRefused:
        raise
    except Exception as error:  # noqa: BLE001 - no file may end in a traceback
        raise FileRefused(str(UNREADABLE % {"error": error})) from None


def _csv_rows_estimate(path: Path, size: int) -> int:
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    lines = sample.count(b"\n")
    if size <= len(sample):
        lines += 1 if sample.strip() and not sample.endswith(b"\n") else 0
    elif sample:
        lines = round(lines * size / len(sample))
    return max(0, lines - 1)


def _sheet_rows_estimate(book: Workbook, sheets: list) -> int:
    """Rows counted in the first part of the first sheet that has any, scaled up."""
    ordered = [s for s in sheets if not s.hidden] + [s for s in sheets if s.hidden]
    for sheet in ordered[:10]:
        rows = sum(
            1
            for number, _cells in book.rows(
                sheet, strings=None, width=EXCEL_COLUMNS, budget=SHEET_SAMPLE_BYTES
            )
            if number > 1
        )
        if rows:
            if not book.read_through:
                rows = round(rows * sheet.size / max(1, book.bytes_read))
            return rows
    return 0
