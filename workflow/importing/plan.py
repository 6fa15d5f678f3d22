"""What an import file would do, row by row, checked against the data as it is now.

The same code plans the preview and the real run: the real run plans each batch again
under row locks and compares the result with the preview's fingerprint, so a preview
that has gone stale is never applied.
"""

from __future__ import annotations

import hashlib
import sqlite3
import string
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db import connections, models
from django.db.models import F, Q, signals
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.functions import Lower
from django.db.models.query_utils import DeferredAttribute
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import registry, selectors
from ..core import applicability, changes, creation
from ..exceptions import IMPORT_NEW_RECORD_REJECTED, INACTIVE_RECORD_IMPORT
from ..models import OPEN_PROPOSAL_STATES, ChangeProposal, DataEntityBehavior
from . import profiles
from .limits import SHOWN_CHARS, shorten
from .reading import FileRefused, SourceRow, TableFile
from .values import CellError, cell_parser, is_blank, lookup_field_of, parse_cell

# Rows per batch: each batch costs a few statements and their planning, and a batch's
# writes run while the next is planned. 1,000 took 8-10% less time than 500 for a
# realistic 100,000-row update on two cores (BENCHMARKS.md); 2,000 no less than 1,000.
BATCH_SIZE = 1000
MAX_REPORTED_ERRORS = 1000
PREVIEW_ROWS = 200
# How much of a value, and how many column names, the preview keeps.
PREVIEW_VALUE_CHARS = 80
PREVIEW_COLUMNS = 50
MESSAGE_CHARS = 500

MISSING_COLUMNS = gettext_lazy(
    "The file has no column %(columns)s; it needs at least: %(required)s."
)
DOUBLED_COLUMNS = gettext_lazy("The column %(columns)s appears twice.")
UNKNOWN_PROFILE_COLUMNS = gettext_lazy(
    "The file has columns the profile “%(profile)s” does not know: %(columns)s. "
    "Remove them, or choose to ignore unknown columns."
)
MORE_COLUMNS = gettext_lazy("%(columns)s and %(count)s more")
REFERS_TO_ITSELF = gettext_lazy(
    "“%(code)s” is this row's own %(key)s: %(field)s cannot refer to the record itself."
)
REFERS_FORWARD = gettext_lazy(
    "“%(code)s” is created further down the file, on line %(target)s. A change to an "
    "existing record can refer only to a record created above it: move line "
    "%(target)s above line %(line)s."
)

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
    # The import profile that reads the file's columns; "" for field names.
    profile: str = ""
    # Why the changes are needed: one justification for every proposal of the import.
    justification: str = ""


@dataclass(frozen=True)
class NewRecord:
    """A reference to a record that a row of the same file creates, by its key.

    It has no primary key until the import writes it; the writer sets the reference
    then (the same batch, a later one, or an earlier one).
    """

    key: str
    line: int


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
    # For the preview: each changed field of an updated row, its old and new value.
    changes: list[dict[str, object]] = field(default_factory=list)
    # A new record that waits for approval: created with a creation proposal.
    creates_proposal: bool = False

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
            "awaiting_approval": self.creates_proposal,
            "errors": [e.shown_message() for e in self.errors],
            "changes": self.changes,
        }


# A row as the file gives it: its plan so far (line, key, errors in its cells) and the
# values of its fields.
Parsed = tuple[RowPlan, dict[str, object]]


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
    # How the file's columns were read: the profile, the columns left out.
    columns: dict[str, object] = field(default_factory=dict)

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
            "columns": self.columns,
        }


@dataclass
class BatchRead:
    """One batch as `ImportPlanner.read_batch` read it, for `plan_read`."""

    parsed: list[Parsed]
    references: dict[str, dict[str, object]]
    existing: dict[str, models.Model]
    open_proposals: dict[object, ChangeProposal]


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
        parameters = selectors.approval_settings_for(model)
        # Approval on create: the status of the records this import creates (None:
        # it refuses them).
        self.new_status = creation.new_record_by_import(
            options.behaviour,
            creation.waits_for_approval(
                parameters.approvals_enabled, parameters.new_records_need_approval
            ),
        )
        self.has_status = any(
            f.name == creation.STATUS_FIELD for f in model._meta.concrete_fields
        )
        # Referenced records that may not be used yet, by field and code: their status.
        self.inactive: dict[str, dict[str, str]] = {}
        self.labels = {name: self.governed.field_label(name) for name in self.fields}
        # In the language the import runs in, translated once, not on every row.
        self.model_name = str(model._meta.verbose_name)
        business_keys = {g.model: g.business_key for g in registry.all_governed()}
        self.lookup_fields = {
            name: lookup_field_of(f, business_keys)
            for name, f in self.fields.items()
            if isinstance(f, models.ForeignKey)
        }
        self.ignores_case = key_ignores_case(model, self.key)
        self._ascii_folded: bool | None = None
        self.checks = applicability.FieldChecks(model)
        self.new_instance = NewInstances(model)
        self.seen = SeenKeys(fold=self._fold)
        # Codes of referenced rows (customer groups, terms …) found so far: a reference
        # table is small and each code is looked up once per import, not once per batch.
        self.references: dict[str, dict[str, object]] = {}
        self.content_type = ContentType.objects.get_for_model(model)
        self.digest = hashlib.sha256()
        self.parsers: dict[str, Callable[[object], object]] = {}
        # How many rows from the top the fingerprint covers (None: every row). An
        # import hashes only the rows its preview's fingerprint covered, if any.
        self.fingerprinted_rows: int | None = None
        self._planned_rows = 0
        # Read through a profile: the file's column of each field, and its reader.
        self.profile: profiles.ImportProfile | None = None
        self.sources: dict[str, str] = {}
        self.readers: dict[str, profiles.ColumnMap] = {}
        self.ignored_columns: list[str] = []
        self.profile_ignored: list[str] = []
        # References from the model to itself by business key (an invoice account):
        # they may name a record a row of the same file creates.
        self.self_references = {
            name
            for name, f in self.fields.items()
            if isinstance(f, models.ForeignKey)
            and f.related_model is model
            and self.lookup_fields[name] == self.key
        }
        self._table: TableFile | None = None
        self._scanned = False
        self.described = 0

    # --- the file ---------------------------------------------------------------

    def check_header(self, header: list[str]) -> list[str]:
        """The columns to read; refuses a file whose columns do not fit.

        Linear in the header's width: a file of 40,000 columns is answered at once.
        """
        header = self._read_through_profile(header)
        present = set(header)
        missing = [c for c in self.required_columns if c not in present]
        if missing:
            raise FileRefused(
                _(
                    "The file has no column %(columns)s; it needs at least: %(required)s."
                )
                % {
                    "columns": _listed(missing),
                    "required": ", ".join(self.required_columns),
                }
            )
        times = Counter(header)
        doubled = sorted(c for c, n in times.items() if c and n > 1)
        if doubled:
            raise FileRefused(
                _("The column %(columns)s appears twice.")
                % {"columns": _listed(doubled)}
            )
        # Columns the engine's own export writes (the bank account's verified status,
        # the record's status) are read by nobody: an exported file imports unchanged.
        bank = registry.get(self.model).bank
        exported_only = {bank.status_column} if bank is not None else set()
        if self.has_status:
            exported_only.add(creation.STATUS_FIELD)
        self.ignored_columns += [c for c in header if c in exported_only]
        unknown = [
            c for c in header if c and c not in self.fields and c not in exported_only
        ]
        if unknown and not self.options.ignore_unknown_columns:
            raise FileRefused(
                _(
                    "The file has columns this import does not know: %(columns)s. Remove them, "
                    "or choose to ignore unknown columns."
                )
                % {"columns": _listed(unknown)}
            )
        self.ignored_columns += unknown
        return [c for c in header if c in self.fields]

    def _read_through_profile(self, header: list[str]) -> list[str]:
        """With a profile, the fields the file's columns fill (in file order); else the
        header as it is. Refuses what the profile cannot read."""
        if not self.options.profile:
            return header
        profile = profiles.get(self.model, self.options.profile)
        mapping = profile.map_header(header)
        doubled = profiles.doubled_columns(mapping.seen)
        if doubled:
            raise FileRefused(str(DOUBLED_COLUMNS) % {"columns": _listed(doubled)})
        missing = [c for c in self.required_columns if c not in mapping.sources]
        if missing:
            raise FileRefused(
                str(MISSING_COLUMNS)
                % {
                    "columns": ", ".join(profile.column_of(c) for c in missing),
                    "required": ", ".join(
                        profile.column_of(c) for c in self.required_columns
                    ),
                }
            )
        if mapping.unknown and not self.options.ignore_unknown_columns:
            raise FileRefused(
                str(UNKNOWN_PROFILE_COLUMNS)
                % {"profile": profile.label, "columns": _listed(mapping.unknown)}
            )
        self.profile = profile
        self.sources = mapping.sources
        self.readers = mapping.readers
        self.ignored_columns = list(mapping.unknown)
        self.profile_ignored = list(mapping.ignored)
        return list(mapping.sources)

    def columns_note(self) -> dict[str, object]:
        """For the preview: the profile, and the columns left out (a bounded list)."""
        return {
            "profile": str(self.profile.label) if self.profile else "",
            "read": len(self.sources),
            "ignored": self.ignored_columns[:PREVIEW_COLUMNS],
            "ignored_count": len(self.ignored_columns),
            "profile_ignored": self.profile_ignored[:PREVIEW_COLUMNS],
            "profile_ignored_count": len(self.profile_ignored),
        }

    def open(self, table: TableFile) -> list[str]:
        """The columns to read from `table` (its header checked); its rows are read
        again only to find the line of a key that a reference names further down."""
        self._table = table
        return self.check_header(table.header)

    def batches(self) -> Iterator[list[SourceRow]]:
        assert self._table is not None, "open() the file first"
        batch: list[SourceRow] = []
        for row in self._table.rows():
            batch.append(row)
            if len(batch) >= BATCH_SIZE:
                yield batch
                batch = []
        if batch:
            yield batch

    # --- one batch --------------------------------------------------------------

    def parse_batch(self, rows: list[SourceRow], columns: list[str]) -> list[Parsed]:
        """Each row's cells read as the values of their fields. Looks at nothing but
        the file, so it may run in another process (`read_ahead`)."""
        return [self._parse(row, columns) for row in rows]

    def plan_batch(self, parsed: list[Parsed], *, lock: bool = False) -> list[RowPlan]:
        return self.plan_read(self.read_batch(parsed, lock=lock))

    def read_batch(self, parsed: list[Parsed], *, lock: bool = False) -> BatchRead:
        """What the batch's parsed rows need from the database: the records they name
        (locked, with `lock`), their open proposals and the references.

        Nothing read here depends on what the import has written so far: a preview
        reads and plans the same without writing (so an import's writes may still be
        queued while it runs; see `workflow.write_behind`).
        """
        self._refuse_repeated_keys(parsed)
        references = self._resolve_references(parsed)
        keys = [plan.key for plan, _values in parsed if plan.key]
        manager = self.model._default_manager
        if self.ignores_case:
            folded = manager.alias(folded_key=Lower(self.key))
            matched = Q(folded_key__in={self._fold(k) for k in keys})
            if not (all(k.isascii() for k in keys) and self._folds_ascii(folded.db)):
                # Exact keys too: SQLite's lower() folds ASCII letters only, and a
                # database's lower() need not fold every letter as Python does. Of
                # ASCII keys, where the database folds ASCII as Python does, the
                # exact match is one of the folded ones.
                matched |= Q(**{f"{self.key}__in": keys})
            existing_qs = folded.filter(matched)
        else:
            existing_qs = manager.filter(**{f"{self.key}__in": keys})
        # Matched by key into a dictionary: the model's order would only cost a sort.
        existing_qs = existing_qs.order_by()
        if lock:
            existing_qs = existing_qs.select_for_update()
        build = self.new_instance
        using = existing_qs.db
        records = [
            build.stored(row, using) for row in existing_qs.values_list(*build.attnames)
        ]
        existing = {self._fold(str(getattr(obj, self.key))): obj for obj in records}
        open_proposals = {
            p.object_id: p
            for p in ChangeProposal.objects.filter(
                content_type=self.content_type,
                object_id__in=[o.pk for o in existing.values()],
                state__in=OPEN_PROPOSAL_STATES,
            ).order_by()
        }
        return BatchRead(parsed, references, existing, open_proposals)

    def plan_read(self, read: BatchRead) -> list[RowPlan]:
        """Each row's plan, from the batch as `read_batch` read it."""
        parsed, references = read.parsed, read.references
        existing, open_proposals = read.existing, read.open_proposals
        # Keys of the records this file creates, with their lines: in earlier batches,
        # then in this one as its rows are planned.
        created = self.seen.created_lines(self._self_reference_codes(parsed))
        created_here: dict[str, int] = {}
        plans = []
        for plan, values in parsed:
            instance = existing.get(self._fold(plan.key))
            if not plan.errors:
                self._apply_references(
                    plan, values, references, created=created, new=instance is None
                )
            if not plan.errors:
                if instance is None:
                    self._plan_new(plan, values)
                else:
                    self._plan_update(
                        plan, values, instance, open_proposals.get(instance.pk)
                    )
            if plan.errors:
                plan.kind = INVALID
            if plan.kind == NEW and self.self_references:
                created[plan.key] = created_here[plan.key] = plan.line
            for error in plan.errors:
                error.column = self.sources.get(error.column, error.column)
            if (
                self.fingerprinted_rows is None
                or self._planned_rows < self.fingerprinted_rows
            ):
                self._fingerprint(plan)
            self._planned_rows += 1
            plans.append(plan)
        self.seen.mark_created(created_here)
        self._describe_changes(plans)
        return plans

    def _parse(self, row: SourceRow, columns: list[str]) -> Parsed:
        plan = RowPlan(line=row.line, key="")
        values: dict[str, object] = {}
        for column in columns:
            raw = row.cells.get(self.sources.get(column, column))
            if column in self.readers:
                raw = self.readers[column].read(raw)
            if is_blank(raw):
                continue  # A blank cell keeps the current value; it never blanks it.
            parse = self.parsers.get(column)
            if parse is None:
                parse = self.parsers[column] = cell_parser(
                    self.fields[column], decimal_format=self.options.decimal_format
                )
            try:
                values[column] = parse(raw)
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
            key = self._fold(plan.key)
            first = first_lines.get(key)
            if first is None:
                first_lines[key] = new[plan.key] = plan.line
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

    def row_of_key(self, key: str) -> tuple[str, int] | None:
        """The key as the file writes it and its line, for a row read so far whose key
        is `key` (in any case, where keys ignore case)."""
        return self.seen.written(key)

    def _folds_ascii(self, using: str) -> bool:
        """Whether the database's lower() folds the key's ASCII letters as Python's
        str.lower() does (under a Turkish collation lower('I') is 'ı'). Asked once per
        import, of the key column's collation."""
        if self._ascii_folded is None:
            collation = getattr(self.fields[self.key], "db_collation", None)
            connection = connections[using]
            collate = (
                f" COLLATE {connection.ops.quote_name(collation)}" if collation else ""
            )
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT LOWER(%s{collate})", [string.ascii_uppercase])
                self._ascii_folded = cursor.fetchone()[0] == string.ascii_lowercase
        return self._ascii_folded

    def _fold(self, key: str) -> str:
        """The key as the file's rows and the stored records are matched by."""
        return key.lower() if self.ignores_case else key

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
            with_status = any(
                f.name == creation.STATUS_FIELD for f in related._meta.concrete_fields
            )
            found = related._default_manager.filter(**{f"{lookup}__in": codes})
            rows = (
                list(found.values_list(lookup, "pk", creation.STATUS_FIELD))
                if with_status
                else [
                    (c, pk, creation.ACTIVE)
                    for c, pk in found.values_list(lookup, "pk")
                ]
            )
            known.update({code: None for code in codes})
            known.update({str(code): pk for code, pk, _status in rows})
            inactive = self.inactive.setdefault(name, {})
            for code, _pk, status in rows:
                if not creation.may_be_used(str(status)):
                    inactive[str(code)] = str(status)
        return self.references

    def _refuse_inactive(self, plan: RowPlan, name: str, code: str) -> bool:
        """A reference to a stored record that may not be used yet fails the row."""
        status = self.inactive.get(name, {}).get(code)
        if status is None:
            return False
        related = self.fields[name].related_model
        plan.errors.append(
            RowError(
                plan.line,
                name,
                code,
                selectors.inactive_reference_text(
                    f"{capfirst(related._meta.verbose_name)} {code}",
                    self.fields[name],
                    str(
                        dict(related._meta.get_field(creation.STATUS_FIELD).choices)[
                            status
                        ]
                    ),
                ),
            )
        )
        return True

    def _self_reference_codes(self, parsed) -> set[str]:
        return {
            str(values[name])
            for _plan, values in parsed
            for name in self.self_references
            if name in values
        }

    def _apply_references(
        self,
        plan: RowPlan,
        values: dict[str, object],
        references,
        *,
        created: dict[str, int],
        new: bool,
    ) -> None:
        for name in self.lookup_fields:
            if name not in values:
                continue
            code = str(values[name])
            if name in self.self_references:
                target = self._self_reference(
                    plan, name, code, references, created, new
                )
                if target is not None:
                    values[name] = target
                continue
            pk = references.get(name, {}).get(code)
            if pk is not None and self._refuse_inactive(plan, name, code):
                continue
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

    def _self_reference(
        self,
        plan: RowPlan,
        name: str,
        code: str,
        references,
        created: dict[str, int],
        new: bool,
    ) -> object:
        """What a reference of the model to itself names: a record this file creates
        (above this row, or below it for a new row), a stored one, or nothing (an error
        on the row, and None).

        The file's own records come first, so the preview and the import plan the same
        reference although the import has written the earlier batches meanwhile.
        """
        if code == plan.key:
            plan.errors.append(
                RowError(
                    plan.line,
                    name,
                    code,
                    str(REFERS_TO_ITSELF)
                    % {
                        "code": code,
                        "key": self.fields[self.key].verbose_name,
                        "field": self.labels[name],
                    },
                )
            )
            return None
        if code in created:
            return self._new_target(plan, name, code, created[code])
        pk = references.get(name, {}).get(code)
        if pk is not None:
            return None if self._refuse_inactive(plan, name, code) else pk
        line = self._line_in_file(code)
        if line is not None and (new or line < plan.line):
            return self._new_target(plan, name, code, line)
        if line is not None:
            plan.errors.append(
                RowError(
                    plan.line,
                    name,
                    code,
                    str(REFERS_FORWARD)
                    % {"code": code, "target": line, "line": plan.line},
                )
            )
            return None
        plan.errors.append(
            RowError(
                plan.line,
                name,
                code,
                _("There is no %(model)s “%(code)s”.")
                % {"model": self.model._meta.verbose_name, "code": code},
            )
        )
        return None

    def _new_target(
        self, plan: RowPlan, name: str, code: str, line: int
    ) -> NewRecord | None:
        """A record this file creates; refused when it will await approval."""
        if self.new_status in (creation.ACTIVE, None):
            return NewRecord(code, line)
        plan.errors.append(
            RowError(
                plan.line,
                name,
                code,
                selectors.inactive_reference_text(
                    f"{capfirst(self.model._meta.verbose_name)} {code}",
                    self.fields[name],
                    str(_("Awaiting approval")),
                ),
            )
        )
        return None

    def _line_in_file(self, code: str) -> int | None:
        """The line of the file's row with key `code`, above or below. Read once, when a
        reference first names a key that is neither stored nor created above it."""
        if not self._scanned and self._table is not None:
            self._scanned = True
            self.seen.scan(
                (key, row.line)
                for row in self._table.rows()
                if (key := self._key_of(row))
            )
        return self.seen.file_line(code)

    def _key_of(self, row: SourceRow) -> str:
        """The key of a row, read as `_parse` reads it; "" when it cannot be read."""
        raw = row.cells.get(self.sources.get(self.key, self.key))
        if self.key in self.readers:
            raw = self.readers[self.key].read(raw)
        if is_blank(raw):
            return ""
        try:
            value = parse_cell(
                self.fields[self.key], raw, decimal_format=self.options.decimal_format
            )
        except CellError:
            return ""
        return str(value).strip()

    def _plan_new(self, plan: RowPlan, values: dict[str, object]) -> None:
        links = {n: v for n, v in values.items() if isinstance(v, NewRecord)}
        values = {n: v for n, v in values.items() if n not in links}
        candidate = self.new_instance(
            {self.fields[n].attname: v for n, v in values.items()}
        )
        # The key is new and once in the file: the planner checked that already.
        problems = applicability.record_problems(
            candidate,
            values,
            references_resolved=self.lookup_fields,
            uniqueness_checked=True,
            checks=self.checks,
        )
        if problems:
            self._add_problems(plan, problems, candidate, values)
            return
        if self.new_status is None:
            plan.errors.append(
                RowError(
                    plan.line,
                    self.key,
                    plan.key,
                    str(
                        IMPORT_NEW_RECORD_REJECTED
                        % {
                            "record": f"{capfirst(self.model._meta.verbose_name)} "
                            f"{plan.key}",
                            "model": self.model._meta.verbose_name_plural,
                        }
                    ),
                )
            )
            return
        if self.has_status:
            setattr(candidate, creation.STATUS_FIELD, self.new_status)
            plan.creates_proposal = not creation.is_active(self.new_status)
        plan.kind = NEW
        plan.instance = candidate
        plan.direct = {**applicability.cleaned(candidate, values), **links}

    def _plan_update(self, plan, values, instance, open_proposal) -> None:
        status = getattr(instance, creation.STATUS_FIELD, creation.ACTIVE)
        if not creation.is_active(status):
            # Changed on its page only: into its creation proposal, never around it.
            plan.errors.append(
                RowError(
                    plan.line,
                    self.key,
                    plan.key,
                    str(
                        INACTIVE_RECORD_IMPORT
                        % {
                            "record": str(instance),
                            "status": instance.get_record_status_display(),
                        }
                    ),
                )
            )
            return
        changed = {}
        links = {}
        for name, value in values.items():
            if name == self.key:
                continue
            if isinstance(value, NewRecord):
                links[name] = (
                    value  # A record the file creates is never the stored one.
                )
                continue
            model_field = self.fields[name]
            if getattr(instance, model_field.attname) == value:
                continue  # The same value as stored: no need to compare spellings.
            current = registry.current_value(instance, model_field)
            if not registry.values_equal(
                model_field, current, registry.serialize_value(model_field, value)
            ):
                changed[name] = value
        if not changed and not links:
            plan.kind = UNCHANGED
            return
        candidate = applicability.with_values(instance, changed)
        problems = applicability.record_problems(
            candidate,
            changed,
            references_resolved=self.lookup_fields,
            checks=self.checks,
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
        cleaned.update(links)
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
            model_name=self.model_name,
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
        # What the row does, as the preview and the import both plan it from the same
        # file and the same records. repr, not JSON: every value a cell reads as has
        # one that is the same from run to run, and it costs a tenth of json.dumps.
        record = (
            plan.line,
            plan.kind,
            plan.key,
            _fingerprint_values(plan.direct),
            _fingerprint_values(plan.proposed),
            sorted(plan.originals.items()),
        )
        self.digest.update(repr(record).encode())

    def fingerprint(self) -> str:
        return self.digest.hexdigest()

    # --- what the preview shows -------------------------------------------------

    def _describe_changes(self, plans: list[RowPlan]) -> None:
        """Old and new value of each changed field, for the updated rows among those the
        preview lists (the first PREVIEW_ROWS it lists), as a person reads them: a stale
        file that would undo someone's change shows it."""
        shown = []
        for plan in plans:
            if plan.kind == UNCHANGED:
                continue
            if self.described >= PREVIEW_ROWS:
                break
            self.described += 1
            if plan.kind == UPDATED:
                shown.append(plan)
        if not shown:
            return
        codes = self._reference_codes(shown)
        for plan in shown:
            for name, value in [*plan.direct.items(), *plan.proposed.items()]:
                plan.changes.append(
                    {
                        "field": self.labels[name],
                        "old": self._display(name, plan.originals[name], codes),
                        "new": self._display(
                            name,
                            value
                            if isinstance(value, NewRecord)
                            else registry.serialize_value(self.fields[name], value),
                            codes,
                        ),
                        "proposed": name in plan.proposed,
                    }
                )

    def _reference_codes(self, plans: list[RowPlan]) -> dict[str, dict[object, str]]:
        """The codes of the referenced rows these changes name, old and new: those the
        file named are known, the rest read with one query per reference field."""
        wanted: dict[str, set[object]] = {}
        for plan in plans:
            for values in (plan.direct, plan.proposed):
                for name, value in values.items():
                    if name not in self.lookup_fields:
                        continue
                    pks = wanted.setdefault(name, set())
                    pks.add(plan.originals[name])
                    if not isinstance(value, NewRecord):
                        pks.add(registry.serialize_value(self.fields[name], value))
        codes: dict[str, dict[object, str]] = {}
        for name, pks in wanted.items():
            pks.discard(None)
            known = {
                pk: code
                for code, pk in self.references.get(name, {}).items()
                if pk in pks
            }
            missing = pks - known.keys()
            if missing:
                lookup = self.lookup_fields[name]
                related = self.fields[name].related_model._default_manager
                known.update(related.filter(pk__in=missing).values_list("pk", lookup))
            codes[name] = {pk: str(code) for pk, code in known.items()}
        return codes

    def _display(self, name: str, raw: object, codes) -> str:
        if isinstance(raw, NewRecord):
            text = raw.key
        elif name in self.lookup_fields and raw is not None:
            text = codes.get(name, {}).get(raw, str(raw))
        else:
            text = registry.display_value(self.fields[name], raw)
        return _shortened(text)

    def close(self) -> None:
        """Lets go of the keys seen (a temporary file)."""
        self.seen.close()


class NewInstances:
    """Model(**values) for row after row: the values given, and each other field's
    default (a callable default called for each instance, as Model() does).

    Where Model() would only store the values (no `__init__` of the model's own, no
    receiver of its init signals, and no field with a descriptor of its own that a
    value passes through), they are put in the new instance's __dict__ at once: a
    third of the cost, a million times. `stored` does the same for rows read from the
    database, as `Model.from_db` would build them."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.slots: list[tuple[str, bool, object]] = []
        for f in model._meta.concrete_fields:
            if f.has_default() and callable(f.default):
                self.slots.append((f.attname, True, f.default))
            else:
                self.slots.append((f.attname, False, f.get_default()))
        self.attnames = [attname for attname, _called, _default in self.slots]
        self.stored_as_given = not (
            model.__init__ is not models.Model.__init__
            or signals.pre_init.has_listeners(model)
            or signals.post_init.has_listeners(model)
        ) and all(
            type(model.__dict__.get(f.attname)) in _PLAIN_DESCRIPTORS
            for f in model._meta.concrete_fields
        )

    def __call__(self, values: dict[str, object]) -> models.Model:
        given = [
            values[attname] if attname in values else (default() if called else default)  # type: ignore[operator]
            for attname, called, default in self.slots
        ]
        if not self.stored_as_given:
            return self.model(*given)
        instance = self.model.__new__(self.model)
        instance._state = ModelState()
        instance.__dict__.update(zip(self.attnames, given, strict=True))
        return instance

    def stored(self, row: Sequence[object], using: str) -> models.Model:
        """The record of a row read as `values_list(*attnames)`, as the ORM reads it."""
        if not self.stored_as_given:
            return self.model.from_db(using, self.attnames, row)
        instance = self.model.__new__(self.model)
        state = instance._state = ModelState()
        state.adding = False
        state.db = using
        instance.__dict__.update(zip(self.attnames, row, strict=True))
        return instance


# What Django puts on a model class for a plain field and a foreign key's column:
# setting the attribute of a new instance only stores the value.
_PLAIN_DESCRIPTORS = {DeferredAttribute, ForeignKeyDeferredAttribute}


def key_ignores_case(model: type[models.Model], key: str) -> bool:
    """Whether `key` is unique whatever its case (a unique constraint on Lower(key)):
    then "c00001" in a file is the record C00001."""
    return any(
        isinstance(c, models.UniqueConstraint)
        and not c.condition
        and len(c.expressions) == 1
        and isinstance(c.expressions[0], Lower)
        and c.expressions[0].get_source_expressions() == [F(key)]
        for c in model._meta.constraints
    )


class SeenKeys:
    """The keys met so far in a file, with the line of each, in a temporary SQLite file
    (deleted when closed): memory stays flat however many rows the file has."""

    def __init__(self, fold: Callable[[str], str] = str) -> None:
        self._connection: sqlite3.Connection | None = None
        # Repeated keys are found folded (a key unique whatever its case); the rows
        # keep the key as written, which references name.
        self._fold = fold

    @property
    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            # "" opens a private temporary database on disk with a small page cache.
            self._connection = sqlite3.connect("")
            self._connection.execute(
                "CREATE TABLE seen (key TEXT PRIMARY KEY, line INTEGER, "
                "created INTEGER NOT NULL DEFAULT 0, folded TEXT NOT NULL UNIQUE)"
            )
            # Every key of the file, read ahead only when a reference needs it.
            self._connection.execute(
                "CREATE TABLE file_keys (key TEXT PRIMARY KEY, line INTEGER)"
            )
        return self._connection

    def _select(self, sql: str, keys: set[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        wanted = list(keys)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(self._db.execute(sql % ",".join("?" * len(chunk)), chunk))
        return found

    def first_lines(self, keys: set[str]) -> dict[str, int]:
        """The line of each of `keys` met before, by the folded key."""
        return self._select(
            "SELECT folded, line FROM seen WHERE folded IN (%s)",
            {self._fold(k) for k in keys},
        )

    def add(self, lines: dict[str, int]) -> None:
        self._db.executemany(
            "INSERT INTO seen (key, folded, line) VALUES (?, ?, ?)",
            ((key, self._fold(key), line) for key, line in lines.items()),
        )

    def written(self, key: str) -> tuple[str, int] | None:
        """The key as met, and its line, of `key` folded."""
        row = self._db.execute(
            "SELECT key, line FROM seen WHERE folded = ?", (self._fold(key),)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def created_lines(self, keys: set[str]) -> dict[str, int]:
        """Of `keys`, those of records the file creates (so far), with their lines."""
        if not keys:
            return {}
        return self._select(
            "SELECT key, line FROM seen WHERE created = 1 AND key IN (%s)", keys
        )

    def mark_created(self, keys: Iterable[str]) -> None:
        self._db.executemany(
            "UPDATE seen SET created = 1 WHERE key = ?", ((k,) for k in keys)
        )

    def scan(self, lines: Iterable[tuple[str, int]]) -> None:
        """Remember every key of the file with the first line it is on."""
        self._db.executemany("INSERT OR IGNORE INTO file_keys VALUES (?, ?)", lines)

    def file_line(self, key: str) -> int | None:
        row = self._db.execute(
            "SELECT line FROM file_keys WHERE key = ?", (key,)
        ).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _fingerprint_values(values: dict[str, object]) -> list[tuple[str, object]]:
    """A row's values with each record by its primary key (its repr would name it)."""
    return sorted(
        (name, value.pk if isinstance(value, models.Model) else value)
        for name, value in values.items()
    )


def _shortened(text: str, limit: int = PREVIEW_VALUE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _listed(columns: list[str], limit: int = 20) -> str:
    """Column names for a message: the first `limit`, and how many more."""
    names = ", ".join(_shortened(c, 40) for c in columns[:limit])
    if len(columns) <= limit:
        return names
    return str(MORE_COLUMNS) % {"columns": names, "count": len(columns) - limit}


def report_add(
    report: ImportReport, plans: list[RowPlan], governed: registry.GovernedModel
) -> None:
    for plan in plans:
        report.total_rows += 1
        report.counts[plan.kind] += 1
        if plan.proposed or plan.creates_proposal:
            report.counts["proposals"] += 1
        for error in plan.errors:
            report.error_count += 1
            if len(report.errors) < MAX_REPORTED_ERRORS:
                report.errors.append(error.as_dict())
        if len(report.rows) < PREVIEW_ROWS and plan.kind != UNCHANGED:
            report.rows.append(plan.summary(governed))
