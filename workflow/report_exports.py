"""The auditors' reports as CSV or XLSX files, written while their rows are read.

A CSV streams to the browser row by row; an XLSX is written by openpyxl's write-only
workbook to a temporary file, so neither holds the report in memory. Every text
cell is written as the other exports write it: where a spreadsheet may start a cell,
a formula character gets a ' before it (`escape_formula`), so no cell runs as a
formula. Both are in the language of the request that asked for them.
"""

from __future__ import annotations

import csv
import datetime
import tempfile
from collections.abc import Callable, Iterable, Iterator

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from . import selectors
from .importing.values import escape_formula
from .models import AuditEntry
from .selectors_bank import WarningRow
from .selectors_reports import (
    AccessRow,
    ChangeLogRow,
    ProposerDecider,
    SelfDecision,
    Step,
    UnauditedValue,
)

CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)
# A sheet holds at most this many rows (Excel's limit, the header included).
XLSX_MAX_ROWS = 1_048_576
XLSX_TRUNCATED = gettext_lazy(
    "The sheet is full: the report has more rows than a workbook holds. Export it as "
    "CSV for all of them."
)

Cell = str | int | None
Table = tuple[list[str], Iterable[list[Cell]]]


class Clock:
    """Writes times as every export does: in the time zone current when it was made
    (looked up once, not for each of an export's hundreds of thousands of times),
    to the second."""

    def __init__(self) -> None:
        self.zone = timezone.get_current_timezone()

    def __call__(self, value: datetime.datetime | None) -> str:
        if value is None:
            return ""
        return value.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")


def when(value: datetime.datetime | None) -> str:
    """A time as the exports write it."""
    return Clock()(value)


def _cell(value: Cell) -> Cell:
    return escape_formula(value) if isinstance(value, str) else value


def _steps(steps: Iterable[Step], clock: Clock) -> str:
    return "\n".join(
        f"{s.who} ({clock(s.at)})" + (f" “{s.comment}”" if s.comment else "")
        for s in steps
    )


def _approvals(steps: Iterable[Step], clock: Clock) -> str:
    lines = []
    for s in steps:
        line = f"{s.step}: " if s.step else f"{s.action}: " if s.action else ""
        line += f"{s.who}, {clock(s.at)}"
        if s.comment:
            line += f" “{s.comment}”"
        lines.append(line)
    return "\n".join(lines)


def _source(row: ChangeLogRow) -> str:
    return f"{row.source}: {row.source_detail}" if row.source_detail else row.source


# --- The tables ----------------------------------------------------------------------


def change_log_table(rows: Iterable[ChangeLogRow]) -> Table:
    clock = Clock()
    header = [
        _("Audit row"),
        _("Changed at"),
        _("Model"),
        _("Record"),
        _("Field"),
        _("Old value"),
        _("New value"),
        _("Proposal"),
        _("Proposed by"),
        _("Submitted by"),
        _("Approvals"),
        _("Source"),
        _("How it was allowed"),
    ]
    return header, (
        [
            row.entry_id,
            clock(row.applied_at),
            row.model,
            row.record,
            row.field_label,
            row.old,
            row.new,
            row.proposal_id,
            _steps(row.proposed, clock),
            _steps(row.submitted, clock),
            _approvals(row.approvals, clock),
            _source(row),
            row.allowed_by,
        ]
        for row in rows
    )


def reconciliation_table(rows: Iterable[ChangeLogRow | UnauditedValue]) -> Table:
    clock = Clock()
    header = [
        _("Exception"),
        _("When"),
        _("Model"),
        _("Record"),
        _("Field"),
        _("Old value"),
        _("New value"),
        _("By"),
        _("Proposal"),
        _("Source"),
        _("Audit row"),
    ]

    def line(row: ChangeLogRow | UnauditedValue) -> list[Cell]:
        if isinstance(row, UnauditedValue):
            return [
                unaudited_reason(row),
                clock(row.audited_at),
                row.model,
                row.record,
                row.field_label,
                row.audited,
                row.current,
                "",
                None,
                "",
                None,
            ]
        return [
            row.exception_reason,
            clock(row.applied_at),
            row.model,
            row.record,
            row.field_label,
            row.old,
            row.new,
            row.changed_by,
            row.proposal_id,
            _source(row),
            row.entry_id,
        ]

    return header, (line(row) for row in rows)


def unaudited_reason(row: UnauditedValue) -> str:
    return _(
        "Changed without an audit row: the value differs from the last one the audit "
        "trail recorded."
    )


def duties_table(
    proposers: Iterable[ProposerDecider],
    decisions: Iterable[SelfDecision],
    administration: Iterable[list[AuditEntry]],
) -> Table:
    clock = Clock()
    header = [_("Finding"), _("When"), _("User"), _("Subject"), _("Details")]

    def lines() -> Iterator[list[Cell]]:
        for p in proposers:
            details = _("Groups: %(groups)s") % {"groups": ", ".join(p.groups) or "–"}
            if p.is_superuser:
                details += "; " + _("superuser")
            yield [
                _("May propose and decide"),
                "",
                f"{p.username} ({p.full_name})" if p.full_name else p.username,
                p.model,
                details,
            ]
        for d in decisions:
            yield [
                _("Decided a proposal they took part in"),
                clock(d.decided_at),
                d.username,
                _("%(record)s, proposal %(id)s")
                % {"record": d.record, "id": d.proposal_id},
                f"{d.decision}, {d.step}: " + "; ".join(d.reasons),
            ]
        for chunk in administration:
            texts = selectors.audit_texts(chunk)
            for entry in chunk:
                text = texts[entry.pk]
                yield [
                    _("Administration"),
                    clock(entry.created_at),
                    entry.actor_name or _("System"),
                    text["object"],
                    administration_text(entry, text),
                ]

    return header, lines()


def administration_text(entry: AuditEntry, text: selectors.AuditText) -> str:
    """What an administration row changed, in one line, in the reader's language."""
    line = str(entry.get_action_display())
    if text["label"]:
        line += f" – {text['label']}"
    if text["old"] or text["new"]:
        line += f": {text['old']} → {text['new']}"
    comment = entry.comment_for_reader()
    if comment:
        line += f" ({comment})"
    return line


def access_table(rows: Iterable[AccessRow], labels: dict[str, str]) -> Table:
    """`labels` names each permission (app_label.codename) in the reader's language."""
    clock = Clock()
    header = [
        _("User name"),
        _("Name"),
        _("E-mail"),
        _("Active"),
        _("Staff"),
        _("Superuser"),
        _("Groups"),
        _("Permissions"),
        _("Permission codes"),
        _("Steps they can decide"),
        _("Last login"),
        _("Joined"),
    ]

    def yes_no(value: bool) -> str:
        return _("Yes") if value else _("No")

    return header, (
        [
            row.username,
            row.full_name,
            row.email,
            yes_no(row.is_active),
            yes_no(row.is_staff),
            yes_no(row.is_superuser),
            "\n".join(row.groups),
            str(_("All permissions (superuser)"))
            if row.is_superuser
            else "\n".join(labels.get(code, code) for code in row.permissions),
            "\n".join(row.permissions),
            "\n".join(row.steps),
            clock(row.last_login),
            clock(row.date_joined),
        ]
        for row in rows
    )


def bank_warnings_table(rows: Iterable[WarningRow]) -> Table:
    clock = Clock()
    header = [
        _("Proposal"),
        _("Submitted at"),
        _("Submitted by"),
        _("Model"),
        _("Record"),
        _("Old value"),
        _("New value"),
        _("Status"),
        _("Warnings"),
        _("Call-backs"),
    ]
    return header, (
        [
            row.proposal.pk,
            clock(row.submitted_at),
            row.submitted_by,
            row.model,
            row.record,
            row.old,
            row.new,
            row.state,
            "\n".join(row.warnings),
            "\n".join(row.callbacks),
        ]
        for row in rows
    )


# --- The files -----------------------------------------------------------------------


class _Echo:
    """A file that hands back what is written to it, for csv.writer to stream."""

    def write(self, value: str) -> str:
        return value


def _in_language(
    language: str, make: Callable[[], Table]
) -> tuple[list[str], Iterator[list[Cell]]]:
    """The table's header and rows, the rows read (later, as the response streams)
    in `language` too."""
    with translation.override(language):
        header, rows = make()

    def translated() -> Iterator[list[Cell]]:
        with translation.override(language):
            yield from rows

    return header, translated()


def export_response(
    fmt: str, filename: str, make: Callable[[], Table]
) -> StreamingHttpResponse | FileResponse:
    """The report `make` builds, as a CSV or XLSX download named `filename`."""
    language = translation.get_language() or "en"
    header, rows = _in_language(language, make)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    if fmt == XLSX:
        return _xlsx(f"{filename}-{stamp}.xlsx", header, rows)
    return _csv(f"{filename}-{stamp}.csv", header, rows)


def _csv(
    filename: str, header: list[str], rows: Iterator[list[Cell]]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        # The byte order mark makes spreadsheets read the file as UTF-8.
        yield "\ufeff" + writer.writerow([_cell(c) for c in header])
        for row in rows:
            yield writer.writerow([_cell(c) for c in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _xlsx(filename: str, header: list[str], rows: Iterator[list[Cell]]) -> FileResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([_cell(c) for c in header])
    written = 1
    for row in rows:
        if written >= XLSX_MAX_ROWS - 1:
            sheet.append([str(XLSX_TRUNCATED)])
            break
        sheet.append([_cell(c) for c in row])
        written += 1
    # Deleted when the response is closed.
    stream = tempfile.TemporaryFile()
    workbook.save(stream)
    stream.seek(0)
    return FileResponse(
        stream,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
