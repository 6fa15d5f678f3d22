"""What an import file would do, row by row, checked against the data as it is now.

The same code plans the preview and the real run: the real run plans each batch again
under row locks and compares the result with the preview's fingerprint, so a preview
that has gone stale is never applied.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext as _

from .. import registry, selectors
from ..core import applicability, changes
from ..models import OPEN_PROPOSAL_STATES, ChangeProposal, DataEntityBehavior
from .limits import SHOWN_CHARS, listed, shorten
from .reading import FileRefused, SourceRow, TableFile
from .values import CellError, is_blank, lookup_field_of, parse_cell

BATCH_SIZE = 500
MAX_REPORTED_ERRORS = 1000
PREVIEW_ROWS = 200
MESSAGE_CHARS = 500

NEW, UPDATED, UNCHANGED, INVALID = "new", "updated", "unchanged", "invalid"


@dataclass(frozen=True)
class ImportOptions:
    behaviour: str = DataEntityBehavior.PROPOSE
    encoding: str = "auto"
    delimiter: str = "auto"
    decimal_format: str = "point"
    ignore_unknown_columns: bool = False
    # A workbook's sheet to read; "" reads the first sheet with data.
    sheet: str = ""


@dataclass
class RowError:
    line: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {
            "line": self.line,
            "column": self.column,
            "value": shorten(self.value),
            "message": self.shown_message(),
        }

    def shown_message(self) -> str:
        """The message as a preview keeps it: a long value in it is shortened."""
        if len(self.value) > SHOWN_CHARS and self.value in self.message:
            return self.message.replace(self.value, shorten(self.value))
        return shorten(self.message, MESSAGE_CHARS)


@dataclass
class RowPlan:
    line: int
    key: str
    kind: str = UNCHANGED
    instance: models.Model | None = None
    direct: dict[str, object] = field(default_factory=dict)
    proposed: dict[str, object] = field(default_factory=dict)
    originals: dict[str, object] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    object_repr: str = ""

    def summary(self, governed: registry.GovernedModel) -> dict[str, object]:
        label = governed.field_label
        return {
            "line": self.line,
            "key": self.key,
            "kind": self.kind,
            "changed": [
                label(n)
                for n in self.direct
                if n != governed.business_key or self.kind == NEW
            ],
            "proposed": [label(n) for n in self.proposed],
            "errors": [e.shown_message() for e in self.errors],
        }


@dataclass
class ImportReport:
    """The outcome of planning (preview) or of a real run."""

    total_rows: int = 0
    counts: Counter = field(default_factory=Counter)
    errors: list[dict[str, object]] = field(default_factory=list)
    error_count: int = 0
    rows: list[dict[str, object]] = field(default_factory=list)
    fingerprint: str = ""
    refused: str = ""
    sheet: str = ""
    sheets: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused and not self.error_count

    def as_dict(self) -> dict[str, object]:
        return {
            "total_rows": self.total_rows,
            "counts": dict(self.counts),
            "errors": self.errors,
            "error_count": self.error_count,
            "rows": self.rows,
            "fingerprint": self.fingerprint,
            "refused": self.refused,
            "sheet": self.sheet,
            "sheets": self.sheets,
        }


class ImportPlanner:
    """Plans the rows of one file for one governed model, batch by batch."""

    def __init__(self, model: type[models.Model], options: ImportOptions):
        self.model = model
        self.governed = registry.get(model)
        self.options = options
        self.key = self.governed.business_key
        self.required_columns = self.governed.import_required_columns or (self.key,)
        self.fields = {
            f.name: f
            for f in model._meta.concrete_fields
            if f.editable and not f.primary_key
        }
        self.enabled = selectors.enabled_fields_for(model)
        self.labels = {name: self.governed.field_label(name) for name in self.fields}
        business_keys = {g.model: g.business_key for g in registry.all_governed()}
        self.lookup_fields = {
            name: lookup_field_of(f, business_keys)
            for name, f in self.fields.items()
            if isinstance(f, models.ForeignKey)
        }
        self.seen = SeenKeys()
        # Codes of referenced rows (customer groups, terms …) found so far: a reference
        # table is small and each code is looked up once per import, not once per batch.
        self.references: dict[str, dict[str, object]] = {}
        self.content_type = ContentType.objects.get_for_model(model)
        self.digest = hashlib.sha256()

    # --- the file ---------------------------------------------------------------

    def check_header(self, header: list[str]) -> list[str]:
        """The columns to read; refuses a file whose columns do not fit.

        Linear in the header's width: a file of 40,000 columns is answered at once.
        """
        present = set(header)
        missing = [c for c in self.required_columns if c not in present]
        if missing:
            raise FileRefused(
                _(
                    "The file has no column %(columns)s; it needs at least: %(required)s."
                )
                % {
                    "columns": listed(missing),
                    "required": ", ".join(self.required_columns),
                }
            )
        times = Counter(header)
        doubled = sorted(c for c, n in times.items() if c and n > 1)
        if doubled:
            raise FileRefused(
                _("The column %(columns)s appears twice.")
                % {"columns": listed(doubled)}
            )
        unknown = [c for c in header if c and c not in self.fields]
        if unknown and not self.options.ignore_unknown_columns:
            raise FileRefused(
                _(
                    "The file has columns this import does not know: %(columns)s. Remove them, "
                    "or choose to ignore unknown columns."
                )
                % {"columns": listed(unknown)}
            )
        return [c for c in header if c in self.fields]

    def batches(self, table: TableFile) -> Iterator[list[SourceRow]]:
        batch: list[SourceRow] = []
        for row in table.rows():
            batch.append(row)
            if len(batch) >= BATCH_SIZE:
                yield batch
                batch = []
        if batch:
            yield batch

    # --- one batch --------------------------------------------------------------

    def plan_batch(
        self, rows: list[SourceRow], columns: list[str], *, lock: bool = False
    ) -> list[RowPlan]:
        parsed = [self._parse(row, columns) for row in rows]
        self._refuse_repeated_keys(parsed)
        references = self._resolve_references(parsed)
        keys = [plan.key for plan, _values in parsed if plan.key]
        manager = self.model._default_manager
        existing_qs = manager.filter(**{f"{self.key}__in": keys})
        if lock:
            existing_qs = existing_qs.select_for_update()
        existing = {str(getattr(obj, self.key)): obj for obj in existing_qs}
        open_proposals = {
            p.object_id: p
            for p in ChangeProposal.objects.filter(
                content_type=self.content_type,
                object_id__in=[o.pk for o in existing.values()],
                state__in=OPEN_PROPOSAL_STATES,
            )
        }
        plans = []
        for plan, values in parsed:
            if not plan.errors:
                self._apply_references(plan, values, references)
            if not plan.errors:
                instance = existing.get(plan.key)
                if instance is None:
                    self._plan_new(plan, values)
                else:
                    self._plan_update(
                        plan, values, instance, open_proposals.get(instance.pk)
                    )
            if plan.errors:
                plan.kind = INVALID
            self._fingerprint(plan)
            plans.append(plan)
        return plans

    def _parse(
        self, row: SourceRow, columns: list[str]
    ) -> tuple[RowPlan, dict[str, object]]:
        plan = RowPlan(line=row.line, key="")
        values: dict[str, object] = {}
        for column in columns:
            raw = row.cells.get(column)
            if is_blank(raw):
                continue  # A blank cell keeps the current value; it never blanks it.
            try:
                values[column] = parse_cell(
                    self.fields[column], raw, decimal_format=self.options.decimal_format
                )
            except CellError as error:
                plan.errors.append(RowError(row.line, column, str(raw), error.message))
        plan.key = str(values.get(self.key, "")).strip()
        if not plan.key and not any(e.column == self.key for e in plan.errors):
            plan.errors.append(
                RowError(row.line, self.key, "", _("The key column is empty."))
            )
        return plan, values

    def _refuse_repeated_keys(self, parsed) -> None:
        """A key may appear once in the file: a second row with it is an error that
        names the first, whether it came in this batch or a thousand rows before."""
        keyed = [plan for plan, _values in parsed if plan.key]
        first_lines = self.seen.first_lines({plan.key for plan in keyed})
        new = {}
        for plan in keyed:
            first = first_lines.get(plan.key)
            if first is None:
                first_lines[plan.key] = new[plan.key] = plan.line
                continue
            plan.errors.append(
                RowError(
                    plan.line,
                    self.key,
                    plan.key,
                    _(
                        "“%(key)s” appears twice in the file: on line %(first)s and on line %(line)s."
                    )
                    % {"key": plan.key, "first": first, "line": plan.line},
                )
            )
        self.seen.add(new)

    def _resolve_references(self, parsed) -> dict[str, dict[str, object]]:
        wanted: dict[str, set[str]] = {}
        for _plan, values in parsed:
            for name in self.lookup_fields:
                if name in values:
                    wanted.setdefault(name, set()).add(str(values[name]))
        for name, codes in wanted.items():
            known = self.references.setdefault(name, {})
            codes -= known.keys()
            if not codes:
                continue
            related = self.fields[name].related_model
            lookup = self.lookup_fields[name]
            rows = related._default_manager.filter(
                **{f"{lookup}__in": codes}
            ).values_list(lookup, "pk")
            known.update({code: None for code in codes})
            known.update({str(code): pk for code, pk in rows})
        return self.references

    def _apply_references(
        self, plan: RowPlan, values: dict[str, object], references
    ) -> None:
        for name in self.lookup_fields:
            if name not in values:
                continue
            code = str(values[name])
            pk = references.get(name, {}).get(code)
            if pk is None:
                related = self.fields[name].related_model._meta.verbose_name
                plan.errors.append(
                    RowError(
                        plan.line,
                        name,
                        code,
                        _("There is no %(model)s “%(code)s”.")
                        % {"model": related, "code": code},
                    )
                )
            else:
                values[name] = pk

    def _plan_new(self, plan: RowPlan, values: dict[str, object]) -> None:
        candidate = self.model(**{self.fields[n].attname: v for n, v in values.items()})
        # The key is new and once in the file: the planner checked that already.
        problems = applicability.record_problems(
            candidate,
            values,
            references_resolved=self.lookup_fields,
            uniqueness_checked=True,
        )
        if problems:
            self._add_problems(plan, problems, candidate, values)
            return
        plan.kind = NEW
        plan.instance = candidate
        plan.direct = applicability.cleaned(candidate, values)

    def _plan_update(self, plan, values, instance, open_proposal) -> None:
        changed = {}
        for name, value in values.items():
            if name == self.key:
                continue
            model_field = self.fields[name]
            if getattr(instance, model_field.attname) == value:
                continue  # The same value as stored: no need to compare spellings.
            current = registry.current_value(instance, model_field)
            if not registry.values_equal(
                model_field, current, registry.serialize_value(model_field, value)
            ):
                changed[name] = value
        if not changed:
            plan.kind = UNCHANGED
            return
        candidate = applicability.with_values(instance, changed)
        problems = applicability.record_problems(
            candidate, changed, references_resolved=self.lookup_fields
        )
        if problems:
            self._add_problems(plan, problems, candidate, changed)
            return
        # Compared again once cleaned: "nl91 abna 0417 1643 00" is the stored IBAN.
        cleaned = {
            n: getattr(candidate, self.fields[n].attname)
            for n in changed
            if not registry.values_equal(
                self.fields[n],
                registry.current_value(instance, self.fields[n]),
                registry.current_value(candidate, self.fields[n]),
            )
        }
        if not cleaned:
            plan.kind = UNCHANGED
            return
        routing = changes.route_changes(
            cleaned,
            enabled=self.enabled,
            behaviour=self.options.behaviour,
            open_proposal_state=open_proposal.state if open_proposal else None,
            open_proposal_label=open_proposal.get_state_display()
            if open_proposal
            else "",
            labels=self.labels,
            record=str(instance),
            model_name=str(self.model._meta.verbose_name),
        )
        if routing.row_refusal is not None:
            refused = routing.refused or {
                next(n for n in cleaned if n in self.enabled): routing.row_refusal
            }
            for name, refusal in refused.items():
                plan.errors.append(
                    RowError(plan.line, name, str(values[name]), str(refusal))
                )
            return
        plan.kind = UPDATED
        plan.instance = instance
        plan.direct = {n: cleaned[n] for n in routing.direct}
        plan.proposed = {n: cleaned[n] for n in routing.proposed}
        plan.originals = {
            n: registry.current_value(instance, self.fields[n])
            for n in list(plan.direct) + list(plan.proposed)
        }

    def _add_problems(
        self,
        plan: RowPlan,
        problems: dict[str, list[str]],
        candidate: models.Model,
        values: dict[str, object],
    ) -> None:
        for name, messages in problems.items():
            column = name if name in self.fields else self.key
            raw = values.get(
                name,
                getattr(candidate, self.fields[name].attname, "")
                if name in self.fields
                else "",
            )
            for message in messages:
                plan.errors.append(
                    RowError(
                        plan.line, column, "" if raw is None else str(raw), message
                    )
                )

    def _fingerprint(self, plan: RowPlan) -> None:
        def raw(values: dict[str, object]) -> dict[str, object]:
            return {
                n: registry.serialize_value(self.fields[n], v)
                for n, v in sorted(values.items())
            }

        record = [
            plan.line,
            plan.kind,
            plan.key,
            raw(plan.direct),
            raw(plan.proposed),
            plan.originals,
        ]
        self.digest.update(
            json.dumps(record, cls=DjangoJSONEncoder, sort_keys=True).encode()
        )

    def fingerprint(self) -> str:
        return self.digest.hexdigest()

    def close(self) -> None:
        """Lets go of the keys seen (a temporary file)."""
        self.seen.close()


class SeenKeys:
    """The keys met so far in a file, with the line of each, in a temporary SQLite file
    (deleted when closed): memory stays flat however many rows the file has."""

    def __init__(self) -> None:
        self._connection: sqlite3.Connection | None = None

    @property
    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            # "" opens a private temporary database on disk with a small page cache.
            self._connection = sqlite3.connect("")
            self._connection.execute(
                "CREATE TABLE seen (key TEXT PRIMARY KEY, line INTEGER)"
            )
        return self._connection

    def first_lines(self, keys: set[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        wanted = list(keys)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(
                self._db.execute(
                    f"SELECT key, line FROM seen WHERE key IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
            )
        return found

    def add(self, lines: dict[str, int]) -> None:
        self._db.executemany("INSERT INTO seen VALUES (?, ?)", lines.items())

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def report_add(
    report: ImportReport, plans: list[RowPlan], governed: registry.GovernedModel
) -> None:
    for plan in plans:
        report.total_rows += 1
        report.counts[plan.kind] += 1
        if plan.proposed:
            report.counts["proposals"] += 1
        for error in plan.errors:
            report.error_count += 1
            if len(report.errors) < MAX_REPORTED_ERRORS:
                report.errors.append(error.as_dict())
        if len(report.rows) < PREVIEW_ROWS and plan.kind != UNCHANGED:
            report.rows.append(plan.summary(governed))
