"""Reading the files people really have, row by row, without holding them in memory.

CSV: UTF-8 with or without BOM, or Windows-1252 (detected or chosen); `,` or `;`;
quoted fields with newlines. XLSX: the first sheet. Text that decodes in neither
encoding is refused, never stored garbled.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

ENCODINGS = {"utf-8": "utf-8-sig", "windows-1252": "cp1252"}
DELIMITERS = (",", ";")
CHUNK = 1 << 20


class FileRefused(Exception):
    """The file as a whole cannot be read; `message` says why, in plain words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
    """A CSV or XLSX file opened for streaming: `header`, then `rows()`."""

    def __init__(
        self,
        path: Path | str,
        *,
        name: str = "",
        encoding: str = "auto",
        delimiter: str = "auto",
    ):
        self.path = Path(path)
        self.name = name or self.path.name
        self.is_xlsx = self.name.lower().endswith(".xlsx")
        self.encoding = "" if self.is_xlsx else detect_encoding(self.path, encoding)
        self.delimiter = ""
        self.header = self._read_header(delimiter)

    def _read_header(self, delimiter: str) -> list[str]:
        if self.is_xlsx:
            rows = self._xlsx_rows()
            first = next(rows, None)
            return [str(c).strip() if c is not None else "" for c in (first or [])]
        with self._text() as text:
            first_line = text.readline()
            self.delimiter = detect_delimiter(first_line, delimiter)
            text.seek(0)
            try:
                header = next(csv.reader(text, delimiter=self.delimiter), [])
            except csv.Error as error:
                raise FileRefused(
                    _("The first line cannot be read as CSV column names: %(error)s")
                    % {"error": error}
                ) from None
        return [cell.strip() for cell in header]

    def _text(self) -> io.TextIOWrapper:
        return open(self.path, encoding=ENCODINGS[self.encoding], newline="")  # noqa: SIM115

    def _xlsx_rows(self) -> Iterator[tuple]:
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as error:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
            raise FileRefused(
                _("The file is not a readable XLSX workbook: %(error)s")
                % {"error": error}
            ) from None
        try:
            yield from workbook.worksheets[0].iter_rows(values_only=True)
        finally:
            workbook.close()

    def rows(self) -> Iterator[SourceRow]:
        """Every data row with the line number a spreadsheet shows for it."""
        if self.is_xlsx:
            rows = self._xlsx_rows()
            next(rows, None)
            for number, values in enumerate(rows, start=2):
                if values is None or all(v in (None, "") for v in values):
                    continue
                yield SourceRow(number, dict(zip(self.header, values, strict=False)))
            return
        with self._text() as text:
            reader = csv.reader(text, delimiter=self.delimiter)
            next(reader, None)
            while True:
                line = reader.line_num + 1
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    raise FileRefused(
                        _("Line %(line)s cannot be read as CSV: %(error)s")
                        % {"line": line, "error": error}
                    ) from None
                if not any(v.strip() for v in values):
                    continue
                if len(values) > len(self.header):
                    extra = values[len(self.header) :]
                    if any(v.strip() for v in extra):
                        raise FileRefused(
                            _(
                                "Line %(line)s has %(count)s cells but the header has %(columns)s columns."
                            )
                            % {
                                "line": line,
                                "count": len(values),
                                "columns": len(self.header),
                            }
                        )
                yield SourceRow(line, dict(zip(self.header, values, strict=False)))

    def count_rows(self) -> int:
        """Roughly how many rows (physical lines); enough to choose inline or background."""
        if self.is_xlsx:
            return sum(1 for _ in self.rows())
        with self.path.open("rb") as handle:
            return max(
                0,
                sum(
                    chunk.count(b"\n")
                    for chunk in iter(lambda: handle.read(CHUNK), b"")
                )
                - 1,
            )
