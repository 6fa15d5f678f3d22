"""Office Open XML workbooks (.xlsx, .xlsm, .xltx, Strict Open XML) read as a stream.

Only what an import needs is read: the list of sheets, the date formats of the styles,
the shared strings and one sheet, each part with a SAX parser (expat) that sees the
cells that are there: time and memory follow the file's content within the limits,
never the dimension a sheet declares (Excel writes A1:XFD1048576 when a far cell was
once touched). Elements are matched by local name, so transitional and Strict workbooks
read alike. Nothing in a workbook is run: macros (.xlsm) are never opened, and a formula
cell gives the value Excel stored with it.

The shared strings go to a temporary file with an index of offsets, also on disk, so a
workbook's texts cost no memory however many there are.
"""

from __future__ import annotations

import mmap
import posixpath
import re
import tempfile
import zipfile
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from django.utils.translation import gettext_lazy as _

from .limits import (
    CELL_TOO_LONG,
    EXCEL_COLUMNS,
    ROW_TOO_LONG,
    TOO_MANY_COLUMNS,
    TOO_MANY_SHARED_STRINGS,
    TOO_MUCH_UNPACKED,
    UNNAMED_COLUMN,
    WHERE_CELL,
    WHERE_ROW,
    WHERE_SHARED_STRING,
    ZIP_BOMB,
    FileRefused,
    Limits,
    column_letter,
    count,
    listed,
    megabytes,
    shorten,
)

DAMAGED = _(
    "The workbook is damaged: %(problem)s. Open it in Excel, save it again and import "
    "the copy."
)
XLSB = _(
    "The file is an Excel binary workbook (.xlsb): save it as .xlsx or CSV and import "
    "that."
)
ODS = _(
    "The file is an OpenDocument spreadsheet (.ods): save it as .xlsx or CSV and "
    "import that."
)
NOT_A_WORKBOOK = _(
    "The file is a ZIP archive but not an Excel workbook: save the data as .xlsx or "
    "CSV and import that."
)
SHEET_NOT_FOUND = _(
    "The workbook has no sheet “%(sheet)s”; its sheets are: %(sheets)s."
)
NO_DATA = _("The workbook has no data on any sheet.")

# What is wrong with a damaged workbook, in DAMAGED's %(problem)s.
CUT_SHORT = _("it is not a complete ZIP archive (%(error)s)")
TOO_MANY_PARTS = _("it has more than %(limit)s parts")
PART_MISSING = _("the part %(part)s is missing")
PART_PACKED_ODDLY = _("the part %(part)s is packed in a way Excel does not use")
PART_UNREADABLE = _("the part %(part)s cannot be unpacked (%(error)s)")
PART_NOT_XML = _("the part %(part)s cannot be read (%(error)s)")
SHEET_UNREADABLE = _(
    "the sheet “%(sheet)s” cannot be read after row %(row)s (%(error)s)"
)
DOCTYPE = _("the part %(part)s declares a document type, which workbooks never do")
NO_SHEETS = _("it has no worksheet")
TOO_MANY_STYLES = _("it has more than %(limit)s cell styles")
BAD_REFERENCE = _("row %(row)s has a cell reference “%(ref)s” that cannot be read")
ROW_ORDER = _("row %(row)s comes after row %(previous)s")
BAD_ROW = _("a row number “%(value)s” cannot be read")
NOT_A_NUMBER = _("cell %(cell)s is marked as a number but holds “%(value)s”")
NOT_A_BOOLEAN = _("cell %(cell)s is marked as yes/no but holds “%(value)s”")
NOT_A_DATE = _("cell %(cell)s is marked as a date but holds “%(value)s”")
BAD_STRING_INDEX = _(
    "cell %(cell)s refers to text number %(index)s, but the workbook has %(count)s texts"
)
BAD_STYLE = _("cell %(cell)s has a style “%(value)s” that cannot be read")
UNKNOWN_TYPE = _("cell %(cell)s has a type “%(type)s” that workbooks do not use")

MAX_PARTS = 10_000
MAX_STYLES = 1_000_000
# Parts under this size are never taken for a ZIP bomb, whatever their ratio.
RATIO_GRACE_BYTES = 1_000_000
CHUNK = 1 << 14
SAMPLE_BYTES = 1 << 18
OFFICE_DOCUMENT = "/officeDocument"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
DIGITS = "0123456789"


def damaged(problem: object) -> FileRefused:
    return FileRefused(str(DAMAGED % {"problem": problem}))


class _Stop(Exception):
    """A handler has read all it needs of a part."""


class SharedRef(int):
    """A cell's shared-string index, before the text is looked up."""


@dataclass(frozen=True)
class Sheet:
    name: str
    part: str
    hidden: bool
    size: int


def _unescape(text: str) -> str:
    """Excel writes characters XML cannot hold as _xHHHH_ (and a literal _x as _x005F_)."""

    def char(match: re.Match) -> str:
        code = int(match.group(1), 16)
        return "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)

    return ESCAPED.sub(char, text) if "_x" in text else text


class SharedStrings:
    """The workbook's texts by number, kept in temporary files, not in memory."""

    def __init__(self) -> None:
        self._blob = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._offsets = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._pending = array("Q", [0])
        self._position = 0
        self.count = 0
        self._blob_map: mmap.mmap | None = None
        self._offsets_map: mmap.mmap | None = None
        self._index: memoryview | None = None

    def add(self, text: str) -> None:
        data = text.encode("utf-8")
        self._blob.write(data)
        self._position += len(data)
        self._pending.append(self._position)
        self.count += 1
        if len(self._pending) >= 65_536:
            self._pending.tofile(self._offsets)
            self._pending = array("Q")

    def finish(self) -> None:
        self._pending.tofile(self._offsets)
        self._pending = array("Q")
        self._blob.flush()
        self._offsets.flush()
        self._offsets_map = mmap.mmap(
            self._offsets.fileno(), 0, access=mmap.ACCESS_READ
        )
        self._index = memoryview(self._offsets_map).cast("Q")
        if self._position:
            self._blob_map = mmap.mmap(self._blob.fileno(), 0, access=mmap.ACCESS_READ)

    def get(self, index: int) -> str | None:
        if not 0 <= index < self.count or self._index is None:
            return None
        start, end = self._index[index], self._index[index + 1]
        if start == end or self._blob_map is None:
            return ""
        return self._blob_map[start:end].decode("utf-8")

    def close(self) -> None:
        if self._index is not None:
            self._index.release()
            self._index = None
        for mapped in (self._offsets_map, self._blob_map):
            if mapped is not None:
                mapped.close()
        self._offsets_map = self._blob_map = None
        self._blob.close()
        self._offsets.close()


class Workbook:
    """One workbook opened for reading: its sheets, then the rows of one of them."""

    def __init__(self, path: Path, limits: Limits):
        self.limits = limits
        self._charged: dict[str, int] = {}
        _refuse_many_parts(path)
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
            raise damaged(CUT_SHORT % {"error": error}) from None
        try:
            self.infos = {info.filename: info for info in self.zip.infolist()}
            self._by_lower = {name.lower(): name for name in self.infos}
            self.workbook_part = self._find_workbook()
            self.sheets, relations = self._read_workbook()
            self.shared_strings_part = relations.get("sharedStrings")
            self.styles_part = relations.get("styles")
            self._date_styles: bytearray | None = None
        except BaseException:
            self.zip.close()
            raise

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.zip.close()

    # --- parts ----------------------------------------------------------------------

    def _name(self, part: str) -> str | None:
        if part in self.infos:
            return part
        return self._by_lower.get(part.lower())

    def _info(self, part: str) -> zipfile.ZipInfo:
        name = self._name(part)
        if name is None:
            raise damaged(PART_MISSING % {"part": part})
        return self.infos[name]

    def _check_part(self, info: zipfile.ZipInfo) -> None:
        """Refuses a part Excel would not write: odd packing, or a ZIP bomb."""
        if info.flag_bits & 0x1 or info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
        ):
            raise damaged(PART_PACKED_ODDLY % {"part": info.filename})
        if (
            info.file_size > RATIO_GRACE_BYTES
            and info.file_size > self.limits.zip_ratio * max(1, info.compress_size)
        ):
            raise FileRefused(
                str(
                    ZIP_BOMB
                    % {
                        "part": info.filename,
                        "ratio": count(info.file_size // max(1, info.compress_size)),
                        "limit": count(self.limits.zip_ratio),
                    }
                )
            )

    def _open(self, part: str):
        info = self._info(part)
        self._check_part(info)
        self._charged[info.filename] = info.file_size
        total = sum(self._charged.values())
        if total > self.limits.unpacked_bytes:
            raise FileRefused(
                str(
                    TOO_MUCH_UNPACKED
                    % {
                        "size": megabytes(total),
                        "limit": megabytes(self.limits.unpacked_bytes),
                    }
                )
            )
        try:
            return self.zip.open(info)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            raise damaged(PART_UNREADABLE % {"part": part, "error": error}) from None

    def _parse(
        self,
        part: str,
        start: Callable | None = None,
        end: Callable | None = None,
        text: Callable | None = None,
        *,
        budget: int | None = None,
        on_error: Callable[[str], FileRefused] | None = None,
    ) -> bool:
        """Feeds a part to expat with these handlers; False when it stopped early."""
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.buffer_size = CHUNK

        def doctype(*args) -> None:
            raise damaged(DOCTYPE % {"part": part})

        parser.StartDoctypeDeclHandler = doctype
        parser.EntityDeclHandler = doctype
        if start:
            parser.StartElementHandler = start
        if end:
            parser.EndElementHandler = end
        if text:
            parser.CharacterDataHandler = text
        fed = 0
        with self._open(part) as stream:
            try:
                while chunk := stream.read(CHUNK):
                    parser.Parse(chunk, False)
                    fed += len(chunk)
                    if budget is not None and fed >= budget:
                        return False
                parser.Parse(b"", True)
            except _Stop:
                return False
            except expat.ExpatError as error:
                message = expat.errors.messages.get(error.code, str(error))
                if on_error:
                    raise on_error(message) from None
                raise damaged(PART_NOT_XML % {"part": part, "error": message}) from None
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
                raise damaged(
                    PART_UNREADABLE % {"part": part, "error": error}
                ) from None
        return True

    def _relations(self, part: str) -> dict[str, tuple[str, str]]:
        """A part's relationships: id → (type, target part)."""
        folder, name = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", f"{name}.rels")
        found: dict[str, tuple[str, str]] = {}
        if self._name(rels) is None:
            return found

        def start(tag: str, attrs: dict) -> None:
            if tag.rpartition(" ")[2] != "Relationship":
                return
            if attrs.get("TargetMode") == "External" or "Target" not in attrs:
                return
            if len(found) >= MAX_PARTS:
                raise damaged(TOO_MANY_PARTS % {"limit": count(MAX_PARTS)})
            target = attrs["Target"]
            if target.startswith("/"):
                target = target[1:]
            else:
                target = posixpath.normpath(posixpath.join(folder, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), target)

        self._parse(rels, start)
        return found

    def _find_workbook(self) -> str:
        if "mimetype" in self.infos:
            info = self.infos["mimetype"]
            if info.file_size < 200:
                with self._open("mimetype") as stream:
                    if stream.read(200).startswith(ODS_MIMETYPE):
                        raise FileRefused(str(ODS))
            raise FileRefused(str(NOT_A_WORKBOOK))
        targets = [
            target
            for kind, target in self._relations("").values()
            if kind.endswith(OFFICE_DOCUMENT)
        ]
        candidates = targets or ["xl/workbook.xml", "xl/workbook.bin"]
        for target in candidates:
            found = self._name(target)
            if found and found.lower().endswith(".bin"):
                raise FileRefused(str(XLSB))
            if found:
                return found
        if "content.xml" in self.infos:
            raise FileRefused(str(ODS))
        raise FileRefused(str(NOT_A_WORKBOOK))

    def _read_workbook(self) -> tuple[list[Sheet], dict[str, str]]:
        relations = self._relations(self.workbook_part)
        declared: list[tuple[str, str, bool]] = []
        self.epoch_1904 = False
        root: list[str] = []

        def start(tag: str, attrs: dict) -> None:
            local = tag.rpartition(" ")[2]
            if not root:
                root.append(local)
                if local != "workbook":
                    raise FileRefused(str(NOT_A_WORKBOOK))
            elif local == "sheet":
                if len(declared) >= MAX_PARTS:
                    raise damaged(TOO_MANY_PARTS % {"limit": count(MAX_PARTS)})
                relation = next(
                    (
                        v
                        for k, v in attrs.items()
                        if k.rpartition(" ")[2] == "id" and " " in k
                    ),
                    "",
                )
                declared.append(
                    (
                        attrs.get("name", ""),
                        relation,
                        attrs.get("state", "visible") != "visible",
                    )
                )
            elif local == "workbookPr":
                self.epoch_1904 = attrs.get("date1904", "0").lower() in ("1", "true")

        self._parse(self.workbook_part, start)
        sheets = []
        for name, relation, hidden in declared:
            kind, target = relations.get(relation, ("", ""))
            if not kind.endswith("/worksheet"):
                continue  # A chart sheet, dialog sheet or macro sheet holds no table.
            part = self._name(target)
            if part is None:
                raise damaged(PART_MISSING % {"part": target})
            sheets.append(Sheet(name, part, hidden, self.infos[part].file_size))
        if not sheets:
            raise damaged(NO_SHEETS)
        by_kind: dict[str, str] = {}
        for kind, target in relations.values():
            for suffix in ("sharedStrings", "styles"):
                found = self._name(target)
                if kind.endswith("/" + suffix) and found:
                    by_kind[suffix] = found
        return sheets, by_kind

    # --- what a full read costs ---------------------------------------------------

    def fixed_parts(self) -> list[str]:
        parts = [self.workbook_part, self.shared_strings_part, self.styles_part]
        return [p for p in parts if p]

    def check_parts(self, sheets: list[Sheet]) -> int:
        """Refuses the workbook now if reading these sheets would pass a limit; returns
        the bytes that reading them unpacks (what the work of reading it is)."""
        total = 0
        for part in self.fixed_parts() + [s.part for s in sheets]:
            info = self._info(part)
            self._check_part(info)
            total += info.file_size
        largest = max((s.size for s in sheets), default=0)
        needed = sum(self._info(p).file_size for p in self.fixed_parts()) + largest
        if needed > self.limits.unpacked_bytes:
            raise FileRefused(
                str(
                    TOO_MUCH_UNPACKED
                    % {
                        "size": megabytes(needed),
                        "limit": megabytes(self.limits.unpacked_bytes),
                    }
                )
            )
        return total

    # --- sheets -------------------------------------------------------------------

    @property
    def sheet_names(self) -> list[str]:
        return [s.name for s in self.sheets]

    def sheet_named(self, name: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.name == name:
                return sheet
        for sheet in self.sheets:
            if sheet.name.casefold() == name.strip().casefold():
                return sheet
        raise FileRefused(
            str(
                SHEET_NOT_FOUND
                % {"sheet": shorten(name), "sheets": listed(self.sheet_names)}
            )
        )

    def first_sheet_with_data(self) -> Sheet:
        """The first visible sheet that holds a value (else the first hidden one)."""
        ordered = [s for s in self.sheets if not s.hidden] + [
            s for s in self.sheets if s.hidden
        ]
        for sheet in ordered:
            if self._has_data(sheet):
                return sheet
        raise FileRefused(str(NO_DATA))

    def _has_data(self, sheet: Sheet) -> bool:
        """Whether the sheet holds a value; reads it only up to the first one."""
        state = {"found": False, "in_value": False}

        def start(tag: str, attrs: dict) -> None:
            local = tag.rpartition(" ")[2]
            if local == "c" and attrs.get("t") == "s":
                state["found"] = True
                raise _Stop
            if local in ("v", "is"):
                state["in_value"] = True

        def text(data: str) -> None:
            if state["in_value"] and data.strip():
                state["found"] = True
                raise _Stop

        def end(tag: str) -> None:
            local = tag.rpartition(" ")[2]
            if local in ("v", "is"):
                state["in_value"] = False
            elif local == "sheetData":
                raise _Stop

        self._parse(sheet.part, start, end, text)
        return state["found"]

    # --- styles and shared strings --------------------------------------------------

    def date_styles(self) -> bytearray:
        """For each cell style: 1 when it shows a date, 2 a duration, 0 otherwise."""
        if self._date_styles is not None:
            return self._date_styles
        from openpyxl.styles.numbers import (
            BUILTIN_FORMATS,
            is_date_format,
            is_timedelta_format,
        )

        formats: dict[int, str] = {}
        styles = bytearray()
        inside: list[str] = []

        def kind_of(format_id: int) -> int:
            code = formats.get(format_id, BUILTIN_FORMATS.get(format_id))
            if is_timedelta_format(code):
                return 2
            return 1 if is_date_format(code) else 0

        def start(tag: str, attrs: dict) -> None:
            local = tag.rpartition(" ")[2]
            if local == "numFmt":
                try:
                    formats[int(attrs.get("numFmtId", ""))] = attrs.get(
                        "formatCode", ""
                    )
                except ValueError:
                    pass
            elif local == "cellXfs":
                inside.append(local)
            elif local == "xf" and inside:
                if len(styles) >= MAX_STYLES:
                    raise damaged(TOO_MANY_STYLES % {"limit": count(MAX_STYLES)})
                try:
                    styles.append(kind_of(int(attrs.get("numFmtId", "0"))))
                except ValueError:
                    styles.append(0)

        def end(tag: str) -> None:
            if tag.rpartition(" ")[2] == "cellXfs":
                raise _Stop

        if self.styles_part:
            self._parse(self.styles_part, start, end)
        self._date_styles = styles
        return styles

    def _strings(self, add: Callable[[int, str], None], *, stop_after: int = -1) -> int:
        """Reads the shared strings in order, handing each to `add`; returns how many."""
        limits = self.limits
        pieces: list[str] = []
        state = {"count": 0, "length": 0, "in_si": False, "in_t": False, "phonetic": 0}

        def start(tag: str, attrs: dict) -> None:
            local = tag.rpartition(" ")[2]
            if local == "si":
                state["in_si"] = True
                state["length"] = 0
                pieces.clear()
            elif local == "t" and state["in_si"] and not state["phonetic"]:
                state["in_t"] = True
            elif local == "rPh":
                state["phonetic"] += 1

        def text(data: str) -> None:
            if state["in_t"]:
                state["length"] += len(data)
                if state["length"] > limits.cell_chars:
                    where = WHERE_SHARED_STRING % {"index": count(state["count"] + 1)}
                    raise FileRefused(
                        str(
                            CELL_TOO_LONG
                            % {"where": where, "limit": count(limits.cell_chars)}
                        )
                    )
                pieces.append(data)

        def end(tag: str) -> None:
            local = tag.rpartition(" ")[2]
            if local == "t":
                state["in_t"] = False
            elif local == "rPh":
                state["phonetic"] -= 1
            elif local == "si":
                state["in_si"] = False
                number = state["count"]
                if number >= limits.shared_strings:
                    raise FileRefused(
                        str(
                            TOO_MANY_SHARED_STRINGS
                            % {"limit": count(limits.shared_strings)}
                        )
                    )
                add(number, _unescape("".join(pieces)))
                state["count"] = number + 1
                if number == stop_after:
                    raise _Stop

        if self.shared_strings_part:
            self._parse(self.shared_strings_part, start, end, text)
        return state["count"]

    def shared_strings(self) -> SharedStrings:
        """All shared strings, in temporary files; close() them after use."""
        table = SharedStrings()
        try:
            self._strings(lambda _number, text: table.add(text))
            table.finish()
        except BaseException:
            table.close()
            raise
        return table

    def some_shared_strings(self, wanted: set[int]) -> dict[int, str]:
        """Only the shared strings with these numbers (the header's), read up to the last."""
        found: dict[int, str] = {}
        if wanted:

            def add(number: int, text: str) -> None:
                if number in wanted:
                    found[number] = text

            self._strings(add, stop_after=max(wanted))
        return found

    # --- rows ---------------------------------------------------------------------

    def rows(
        self,
        sheet: Sheet,
        *,
        strings: SharedStrings | None,
        width: int,
        unnamed: frozenset[int] = frozenset(),
        header: bool = False,
        budget: int | None = None,
    ) -> Iterator[tuple[int, dict[int, object]]]:
        """(row number, {column number: value}) for each row that holds a value.

        Cells right of `width` or in an `unnamed` column must be empty: a value there is
        refused, naming its cell (with `header`, the first row is read and a value right
        of `width` means too many columns). Without `strings`, a shared-string cell
        gives its number (SharedRef) instead of its text. With `budget`, reading stops
        after that many bytes of the sheet (`read_through` says whether it got to the
        end, for an estimate from a sample).
        """
        reader = _SheetReader(
            sheet,
            limits=self.limits,
            styles=self.date_styles(),
            epoch_1904=self.epoch_1904,
            strings=strings,
            width=width,
            unnamed=unnamed,
            header=header,
        )
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.buffer_size = CHUNK

        def doctype(*args) -> None:
            raise damaged(DOCTYPE % {"part": sheet.part})

        parser.StartDoctypeDeclHandler = doctype
        parser.EntityDeclHandler = doctype
        parser.StartElementHandler = reader.start
        parser.EndElementHandler = reader.end
        parser.CharacterDataHandler = reader.text
        ready = reader.ready
        self.bytes_read, self.read_through = 0, False
        with self._open(sheet.part) as stream:
            try:
                while chunk := stream.read(CHUNK):
                    self.bytes_read += len(chunk)
                    parser.Parse(chunk, False)
                    if ready:
                        yield from ready
                        ready.clear()
                    if budget is not None and self.bytes_read >= budget:
                        return
                parser.Parse(b"", True)
            except _Stop:
                pass
            except expat.ExpatError as error:
                message = expat.errors.messages.get(error.code, str(error))
                raise reader.unreadable(message, PART_NOT_XML) from None
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
                raise reader.unreadable(str(error), PART_UNREADABLE) from None
        self.read_through = True
        yield from ready


class _SheetReader:
    """The expat handlers that turn a worksheet part into rows of values, cell by cell,
    holding no more than the row being read and the rows of the chunk fed last."""

    def __init__(
        self,
        sheet: Sheet,
        *,
        limits: Limits,
        styles: bytearray,
        epoch_1904: bool,
        strings: SharedStrings | None,
        width: int,
        unnamed: frozenset[int],
        header: bool,
    ) -> None:
        self.sheet = sheet
        self.limits = limits
        self.styles = styles
        self.epoch_1904 = epoch_1904
        self.strings = strings
        self.width = width
        self.unnamed = unnamed
        self.header = header
        self.ready: list[tuple[int, dict[int, object]]] = []
        self.columns: dict[str, int] = {}
        self.pieces: list[str] = []
        self.row = 0
        self.done = 0
        self.cells: dict[int, object] = {}
        self.column = 0
        self.kind = "n"
        self.style: str | None = None
        self.raw: str | None = None
        self.collect = False
        self.length = 0
        self.inline = False
        self.phonetic = 0
        self.row_length = 0

    # --- where -------------------------------------------------------------------

    def cell_name(self) -> str:
        return f"{column_letter(self.column)}{self.row}"

    def refuse(self, message) -> FileRefused:
        return FileRefused(str(message))

    def unreadable(self, error: str, problem) -> FileRefused:
        """Names the last row read whole; before any, the part (as _parse does)."""
        if not self.done:
            return damaged(problem % {"part": self.sheet.part, "error": error})
        return damaged(
            SHEET_UNREADABLE
            % {"sheet": self.sheet.name, "row": self.done, "error": error}
        )

    def column_of(self, ref: str) -> int:
        letters = ref.rstrip(DIGITS)
        column = self.columns.get(letters)
        if column is None:
            column = 0
            for char in letters.upper():
                if not "A" <= char <= "Z":
                    column = 0
                    break
                column = column * 26 + ord(char) - 64
            if not 0 < column <= EXCEL_COLUMNS or len(letters) > 3:
                raise damaged(BAD_REFERENCE % {"row": self.row, "ref": shorten(ref)})
            self.columns[letters] = column
        return column

    # --- the handlers --------------------------------------------------------------

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        local = tag[tag.rfind(" ") + 1 :]
        if local == "c":
            ref = attrs.get("r")
            self.column = self.column_of(ref) if ref else self.column + 1
            self.kind = attrs.get("t", "n")
            self.style = attrs.get("s")
            self.raw = None
            self.inline = False
        elif local == "v":
            self.pieces.clear()
            self.collect = True
            self.length = 0
        elif local == "t":
            if self.inline and not self.phonetic:
                self.collect = True
        elif local == "is":
            self.pieces.clear()
            self.inline = True
            self.length = 0
        elif local == "rPh":
            self.phonetic += 1
        elif local == "row":
            self.start_row(attrs.get("r"))

    def start_row(self, number: str | None) -> None:
        previous = self.row
        if number is None:
            self.row = previous + 1
        else:
            try:
                self.row = int(number)
            except ValueError:
                raise damaged(BAD_ROW % {"value": shorten(number)}) from None
            if self.row <= previous:
                raise damaged(ROW_ORDER % {"row": self.row, "previous": previous})
        if self.header and self.row > 1:
            raise _Stop
        self.cells = {}
        self.column = 0
        self.row_length = 0

    def text(self, data: str) -> None:
        if self.collect:
            self.length += len(data)
            if self.length > self.limits.cell_chars:
                where = WHERE_CELL % {"cell": self.cell_name()}
                raise self.refuse(
                    CELL_TOO_LONG
                    % {"where": where, "limit": count(self.limits.cell_chars)}
                )
            self.pieces.append(data)

    def end(self, tag: str) -> None:
        local = tag[tag.rfind(" ") + 1 :]
        if local == "c":
            self.end_cell()
        elif local == "v":
            self.raw = "".join(self.pieces)
            self.collect = False
        elif local == "t":
            if self.inline and not self.phonetic:
                self.collect = False
        elif local == "rPh":
            self.phonetic -= 1
        elif local == "row":
            if self.cells:
                self.ready.append((self.row, self.cells))
            self.cells = {}
            self.done = self.row
            if self.header:
                raise _Stop
        elif local == "sheetData":
            raise _Stop

    def end_cell(self) -> None:
        value = self.value()
        if value is None or (isinstance(value, str) and not value.strip()):
            return
        column = self.column
        if column > self.width or column in self.unnamed:
            if self.header:
                raise self.refuse(
                    TOO_MANY_COLUMNS % {"limit": count(self.limits.columns)}
                )
            where = WHERE_ROW % {"row": self.row}
            raise self.refuse(
                UNNAMED_COLUMN % {"where": where, "column": column_letter(column)}
            )
        if isinstance(value, str):
            self.row_length += len(value)
            if self.row_length > self.limits.row_chars:
                where = WHERE_ROW % {"row": self.row}
                raise self.refuse(
                    ROW_TOO_LONG
                    % {"where": where, "limit": count(self.limits.row_chars)}
                )
        self.cells[column] = value

    # --- one cell's value ----------------------------------------------------------

    def value(self) -> object:
        kind, raw = self.kind, self.raw
        if kind == "inlineStr":
            return _unescape("".join(self.pieces)) if self.inline else None
        if not raw:
            return None
        if kind == "n":
            return self.number(raw)
        if kind == "s":
            return self.shared(raw)
        if kind in ("str", "e"):
            return _unescape(raw)
        if kind == "b":
            flag = raw.strip().lower()
            if flag in ("1", "true"):
                return True
            if flag in ("0", "false"):
                return False
            raise damaged(
                NOT_A_BOOLEAN % {"cell": self.cell_name(), "value": shorten(raw)}
            )
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            try:
                return from_ISO8601(raw.strip())
            except (ValueError, TypeError, AttributeError):
                raise damaged(
                    NOT_A_DATE % {"cell": self.cell_name(), "value": shorten(raw)}
                ) from None
        raise damaged(UNKNOWN_TYPE % {"cell": self.cell_name(), "type": shorten(kind)})

    def number(self, raw: str) -> object:
        try:
            number: float = (
                float(raw) if ("." in raw or "e" in raw or "E" in raw) else int(raw)
            )
        except ValueError:
            raise damaged(
                NOT_A_NUMBER % {"cell": self.cell_name(), "value": shorten(raw)}
            ) from None
        if self.style:
            try:
                index = int(self.style)
            except ValueError:
                raise damaged(
                    BAD_STYLE % {"cell": self.cell_name(), "value": shorten(self.style)}
                ) from None
            shows = self.styles[index] if 0 <= index < len(self.styles) else 0
            if shows:
                return _excel_date(number, self.epoch_1904, shows == 2)
        return number

    def shared(self, raw: str) -> object:
        try:
            index = int(raw)
        except ValueError:
            index = -1
        if self.strings is None:
            if index < 0:
                raise damaged(
                    BAD_STRING_INDEX
                    % {"cell": self.cell_name(), "index": shorten(raw), "count": "?"}
                )
            return SharedRef(index)
        found = self.strings.get(index)
        if found is None:
            raise damaged(
                BAD_STRING_INDEX
                % {
                    "cell": self.cell_name(),
                    "index": shorten(raw),
                    "count": count(self.strings.count),
                }
            )
        return found


def _excel_date(number: float, epoch_1904: bool, duration: bool) -> object:
    from openpyxl.utils.datetime import (
        CALENDAR_MAC_1904,
        CALENDAR_WINDOWS_1900,
        from_excel,
    )

    try:
        return from_excel(
            number,
            CALENDAR_MAC_1904 if epoch_1904 else CALENDAR_WINDOWS_1900,
            timedelta=duration,
        )
    except (OverflowError, ValueError):
        return "#VALUE!"


def _refuse_many_parts(path: Path) -> None:
    """Reads the ZIP's end record before zipfile reads the whole central directory,
    so an archive of millions of entries is refused without listing them."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        tail_size = min(size, 65_557)
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
    end = tail.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(tail):
        raise damaged(CUT_SHORT % {"error": "no end of central directory"})
    entries = int.from_bytes(tail[end + 10 : end + 12], "little")
    directory_size = int.from_bytes(tail[end + 12 : end + 16], "little")
    locator = end - 20
    if (entries == 0xFFFF or directory_size == 0xFFFFFFFF) and tail[
        locator : locator + 4
    ] == b"PK\x06\x07":
        # ZIP64: the counts are in a record whose place the locator gives.
        offset = int.from_bytes(tail[locator + 8 : locator + 16], "little")
        with path.open("rb") as handle:
            handle.seek(offset)
            record = handle.read(56)
        if len(record) < 56 or not record.startswith(b"PK\x06\x06"):
            raise damaged(CUT_SHORT % {"error": "no ZIP64 end of central directory"})
        entries = int.from_bytes(record[32:40], "little")
        directory_size = int.from_bytes(record[40:48], "little")
    if entries > MAX_PARTS or directory_size > MAX_PARTS * 1024:
        raise damaged(TOO_MANY_PARTS % {"limit": count(MAX_PARTS)})
