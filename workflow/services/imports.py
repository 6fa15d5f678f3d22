"""Imports of governed records: a preview that writes nothing, and an all-or-nothing run.

Rows stream from the file and are planned and written in batches, so memory stays flat
in the file size and queries stay a few per batch. The data entity behaviour decides
what a change to a field under approval does: write it, fail the row, or propose it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import notifications, registry, selectors
from ..audit import Translated, audit_row, audit_rows_write, in_every_language
from ..bulk_sql import (
    instances_insert,
    instances_inserted_as_left,
    key_lookups_by_index,
    keys_ahead,
    references_checked_as_written,
    rows_insert,
    rows_update,
)
from ..core import applicability, creation, routing
from ..core.actions import eligible, justification_refusal
from ..core.applicability import FieldChecks
from ..core.conditions import skipped_step_text
from ..core.facts import Part, Participation, ProposalFacts
from ..core.permissions import Action, required_permissions
from ..core.routing import Route
from ..enforcement import engine_writes
from ..exceptions import (
    BEHAVIOUR_NOT_PERMITTED,
    NO_ELIGIBLE_APPROVER,
    NO_PERMISSION,
    NotSubmittable,
    PermissionRefused,
    WorkflowError,
)
from ..importing.database_refusals import database_refusal
from ..importing.garbage import fewer_collections
from ..importing.limits import FILE_TOO_LARGE, megabytes
from ..importing.plan import (
    NEW,
    UPDATED,
    ImportOptions,
    ImportPlanner,
    ImportReport,
    NewRecord,
    RowPlan,
    report_add,
)
from ..importing.read_ahead import ParsedBatch, ReadAhead, read_ahead_wanted
from ..importing.reading import FileRefused, TableFile, survey
from ..models import (
    AuditAction,
    AutoApprovalRule,
    ChangeProposal,
    ImportJob,
    ImportJobState,
    ProposedChange,
    Source,
    Workflow,
    WorkflowStep,
    WorkItem,
)
from ..selectors import applicability_of
from ..selectors_facts import actor_facts, candidate_facts
from ..text import clean_comment
from ..write_behind import write_behind
from .common import WORK_ITEM_ROW_FIELDS, require_model_permission, work_item_rows
from .decisions import (
    SUBMISSION_FIELDS,
    active_workflow_required,
    proposal_submit,
    submitted_text,
)
from .import_jobs import JobLease, LeaseLost, import_job_lease
from .tallies import changes_tallied, proposals_tallied, tallies_gathered

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User
    from django.core.files import File

STALE_PREVIEW = gettext_lazy(
    "The data changed since the preview, so nothing was imported. Check the file again "
    "and confirm the new preview."
)
CHECK_FAILED = gettext_lazy(
    "The check of the file stopped with an error; nothing was imported: %(error)s"
)
Progress = Callable[[ImportReport], None]


class _Rollback(Exception):
    pass


@dataclass
class PreviewReport(ImportReport):
    """A preview's report. `sample_rows` is 0 when it checked every row, else the
    number of first rows it checked of a file that has more."""

    sample_rows: int = 0

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "sample_rows": self.sample_rows}


def _cut(batches: Iterator[ParsedBatch], at: int) -> Generator[ParsedBatch, None, None]:
    """The same rows in the same order, the batch that holds row `at` split after it:
    the fingerprint of the first `at` rows can be read between two batches."""
    done = 0
    for batch in batches:
        if done < at < done + len(batch):
            yield batch[: at - done]
            yield batch[at - done :]
        else:
            yield batch
        done += len(batch)


def _instance(plan: RowPlan) -> models.Model:
    """The record of a new or updated row, which the planner always sets."""
    assert plan.instance is not None
    return plan.instance


def _require_import_permission(actor: User | None, model: type[models.Model]) -> None:
    """An import always runs as a person: its rows and proposals are theirs."""
    if actor is None:
        raise PermissionRefused(str(NO_PERMISSION))
    require_model_permission(actor, model, Action.IMPORT)


def _may_submit(actor: User, model: type[models.Model]) -> bool:
    opts = model._meta
    return actor_facts(actor).holds(
        *required_permissions(
            Action.SUBMIT,
            opts.app_label,
            # Options.model_name is None only while a model class is being built.
            opts.model_name,  # type: ignore[arg-type]
        )
    )


def governed_records_import(
    *,
    model: type[models.Model],
    path: Path | str,
    file_name: str,
    options: ImportOptions,
    actor: User,
    dry_run: bool,
    expected_fingerprint: str = "",
    progress: Progress | None = None,
    source: Source = Source.IMPORT,
    sample_rows: int = 0,
) -> ImportReport:
    """Check a file (dry run) or import it: every row is written, or none.

    With `expected_fingerprint` (from the preview the user confirmed), the import is
    refused when the rows would now do anything else than the preview showed.
    With `sample_rows`, a dry run checks the first `sample_rows` rows only (its
    report says so when the file has more), and an import compares the fingerprint
    of those first rows with `expected_fingerprint`: a large file is previewed in
    bounded time and still imported only as previewed, its other rows checked
    while it is imported (any error there writes nothing).
    `source` is where the import runs from: the Import page, or the command line.
    Its audit rows name the file, so that the change log can say where a value came
    from.
    """
    _require_import_permission(actor, model)
    governed = registry.get(model)
    report = PreviewReport() if dry_run else ImportReport()
    try:
        justification = clean_comment(options.justification)
    except WorkflowError as error:
        report.refused = str(error.message)
        return report
    if not selectors.import_behaviour_permitted(model, options.behaviour):
        report.refused = str(
            BEHAVIOUR_NOT_PERMITTED % {"parameters": governed.labels.parameters}
        )
        return report
    planner = ImportPlanner(model, options)
    if not dry_run:
        # What the preview's fingerprint covered (its first `sample_rows`, or every
        # row), or nothing when no preview is to be matched (the command line).
        planner.fingerprinted_rows = (
            (sample_rows or None) if expected_fingerprint else 0
        )
    try:
        table = TableFile(
            path,
            name=file_name,
            encoding=options.encoding,
            delimiter=options.delimiter,
            sheet=options.sheet,
        )
        report.sheet, report.sheets = table.sheet, table.sheets
        columns = planner.open(table)
        report.columns = planner.columns_note()
    except FileRefused as refused:
        report.refused = refused.message
        return report
    with fewer_collections():
        # Forked here, before the transaction and write-behind's thread start.
        reader = ReadAhead(planner, columns, in_second_process=read_ahead_wanted(path))
        batches = _cut(iter(reader), sample_rows)
        try:
            if dry_run:
                with key_lookups_by_index():
                    for batch in batches:
                        if sample_rows and report.total_rows >= sample_rows:
                            # The file goes on: the rest is checked when it is imported.
                            assert isinstance(report, PreviewReport)
                            report.sample_rows = sample_rows
                            break
                        planner.checks.take_ahead(batch.verdicts)
                        report_add(report, planner.plan_batch(batch.parsed), governed)
                        if progress:
                            progress(report)
                report.fingerprint = planner.fingerprint()
                report.refused = _submission_problem(
                    model, actor, report, justification
                )
                return report
            with transaction.atomic(), key_lookups_by_index():
                references_checked_as_written()
                writer = _ImportWriter(
                    model,
                    actor,
                    justification,
                    source=source,
                    file_name=file_name,
                    references_resolved=planner.lookup_fields,
                )
                previewed = ""  # The fingerprint of the rows the preview checked.
                with write_behind() as queue, tallies_gathered():
                    for batch in batches:
                        # The batch's reads go before the last batch's queued writes,
                        # which then run while this batch is planned.
                        with queue.reads_ahead():
                            read = planner.read_batch(batch.parsed, lock=True)
                            keys_ahead(model, len(batch) - len(read.existing))
                            # As many proposals as the batch before made: the mix
                            # of a file changes slowly, and a key left over is a gap.
                            keys_ahead(ChangeProposal, writer.proposals_last_batch)
                        queue.start()
                        planner.checks.take_ahead(batch.verdicts)
                        plans = planner.plan_read(read)
                        report_add(report, plans, governed)
                        if not report.error_count:
                            writer.write(plans)
                        if progress:
                            progress(report)
                        if sample_rows and report.total_rows == sample_rows:
                            previewed = planner.fingerprint()
                            if (
                                expected_fingerprint
                                and expected_fingerprint != previewed
                            ):
                                report.refused = str(STALE_PREVIEW)
                                raise _Rollback
                    writer.finish()
                if planner.fingerprinted_rows != 0:
                    report.fingerprint = planner.fingerprint()
                if report.error_count:
                    raise _Rollback
                previewed = previewed or report.fingerprint
                if expected_fingerprint and expected_fingerprint != previewed:
                    report.refused = str(STALE_PREVIEW)
                    raise _Rollback
        except _Rollback:
            pass
        except IntegrityError as error:
            report.refused = database_refusal(error, planner)
        except FileRefused as refused:
            report.refused = refused.message
        except WorkflowError as error:
            report.refused = str(error.message)
        finally:
            batches.close()
            reader.close()
            planner.close()
    return report


def _submission_problem(
    model: type[models.Model], actor: User, report: ImportReport, justification: str
) -> str:
    """Why the proposals a preview plans could not be submitted, or ""."""
    if not report.counts.get("proposals"):
        return ""
    try:
        workflow = active_workflow_required(model)
    except NotSubmittable as refused:
        return str(refused.message)
    refusal = justification_refusal(
        required=workflow.justification_required, justification=justification
    )
    if refusal is not None:
        return str(refusal)
    if not _may_submit(actor, model):
        return str(
            _(
                "The file proposes changes that need approval, and you may not submit changes for approval."
            )
        )
    return ""


class _ImportWriter:
    """Writes the planned batches of one import.

    What stays the same from batch to batch (the workflow and its steps, who may decide,
    field labels, how references read) is looked up once per import, so a batch costs
    the same few queries at 10k rows as at 1M.
    """

    def __init__(
        self,
        model: type[models.Model],
        actor: User,
        justification: str = "",
        *,
        source: Source = Source.IMPORT,
        file_name: str = "",
        references_resolved: Iterable[str] = (),
    ) -> None:
        self.model = model
        self.actor = actor
        self.justification = justification
        self.source = source
        # Every row the import writes says which file it came from, once per import
        # in every language.
        self.file_note: Translated | str = (
            in_every_language(
                lambda: _("From the file %(file)s.") % {"file": file_name}
            )
            if file_name
            else ""
        )
        self.governed = registry.get(model)
        self.content_type = ContentType.objects.get_for_model(model)
        self.fields = {f.name: f for f in model._meta.concrete_fields}
        self.labels = {
            name: str(self.governed.field_label(name)) for name in self.fields
        }
        self.references: dict[str, dict[object, str]] = {}
        # New records whose reference names a record a later batch creates:
        # (record, field name, target), set once the target is written.
        self.pending_links: list[tuple[models.Model, str, NewRecord]] = []
        self._submission: _Submission | None = None
        # Proposals assigned to each approver, for one e-mail each when the import ends.
        self.assigned: dict[int, tuple[User, list[int]]] = {}
        # Proposals applied without approval, for one e-mail to the importer.
        self.applied: list[int] = []
        # References the planner looked up for each batch: not fetched again when
        # proposed values are checked before they are applied.
        self.references_resolved = tuple(references_resolved)
        self.checks = FieldChecks(model)
        # Proposals the last batch made: the keys the next one takes where it is read.
        self.proposals_last_batch = 0

    # --- reading values ---------------------------------------------------------

    def _learn_references(self, plans: list[RowPlan], *, created: bool = False) -> None:
        """How the references of this batch read, fetching only codes not seen before;
        `created`: new records, whose references are their values."""
        for name, model_field in self.fields.items():
            if not isinstance(model_field, models.ForeignKey):
                continue
            known = self.references.setdefault(name, {})
            wanted = set()
            for plan in plans:
                if created:
                    wanted.add(registry.current_value(_instance(plan), model_field))
                    continue
                for values in (plan.direct, plan.proposed):
                    if name in values:
                        wanted.add(registry.serialize_value(model_field, values[name]))
                if name in plan.originals:
                    wanted.add(plan.originals[name])
            wanted -= known.keys()
            wanted.discard(None)
            if wanted:
                related = model_field.related_model._default_manager.filter(
                    pk__in=wanted
                )
                known.update({obj.pk: str(obj) for obj in related})

    def _link_new_records(
        self, plans: list[RowPlan], new_rows: list[RowPlan], updated: list[RowPlan]
    ) -> None:
        """Point the references to records this file creates at their rows, now that
        they have primary keys: created in this batch (just inserted), in an earlier
        one (read back), or in a later one (set when that batch is written).

        A new record was inserted without such a reference, so it is set in a second
        statement; an updated record's change takes the key before it is written or
        proposed.
        """
        key = self.governed.business_key
        linked = [
            (plan, values, name, target)
            for plan in plans
            for values in (plan.direct, plan.proposed)
            for name, target in values.items()
            if isinstance(target, NewRecord)
        ]
        if not linked and not self.pending_links:
            return
        pks = {str(getattr(p.instance, key)): _instance(p).pk for p in new_rows}
        first_line = plans[0].line
        earlier = {
            t.key for *_, t in linked if t.key not in pks and t.line < first_line
        }
        if earlier:
            pks.update(
                (str(k), pk)
                for k, pk in self.model._default_manager.filter(
                    **{f"{key}__in": earlier}
                ).values_list(key, "pk")
            )
        waiting = self.pending_links
        self.pending_links = []
        for plan, values, name, target in linked:
            if plan.kind == NEW:
                waiting.append((_instance(plan), name, target))
            else:
                # The planner refuses a change to an existing record that names a
                # record created further down, so the target is written by now.
                values[name] = pks[target.key]
        by_field: dict[str, list[models.Model]] = {}
        for instance, name, target in waiting:
            if target.key in pks:
                setattr(instance, self.fields[name].attname, pks[target.key])
                by_field.setdefault(name, []).append(instance)
            else:
                self.pending_links.append((instance, name, target))
        with engine_writes():
            for name, instances in by_field.items():
                rows_update(self.model, instances, [name])

    def _display(self, name: str, raw: object) -> str:
        model_field = self.fields[name]
        if isinstance(model_field, models.ForeignKey) and raw is not None:
            return self.references[name].get(raw, str(raw))
        return registry.display_value(model_field, raw)

    def _field_row(
        self,
        action: AuditAction,
        plan: RowPlan,
        name: str,
        old_raw: object,
        new_raw: object,
        proposal_id: int | None,
    ) -> tuple[object, ...]:
        """The audit row of one imported field, written or proposed."""
        return audit_row(
            action=action,
            actor=self.actor,
            source=self.source,
            content_type_id=self.content_type.pk,
            object_id=_instance(plan).pk,
            object_repr=plan.object_repr,
            proposal_id=proposal_id,
            field_name=name,
            field_label=self.labels[name],
            old_value=old_raw,
            new_value=new_raw,
            old_display=self._display(name, old_raw),
            new_display=self._display(name, new_raw),
            comment=self.file_note,
            created_at=self.now,
        )

    # --- one batch --------------------------------------------------------------

    def write(self, plans: list[RowPlan]) -> None:
        self.now = timezone.now()
        fields = self.fields
        new_rows = [p for p in plans if p.kind == NEW]
        updated = [p for p in plans if p.kind == UPDATED]
        instances_insert(self.model, [_instance(p) for p in new_rows])
        self._link_new_records(plans, new_rows, updated)
        self._learn_references(updated)
        rows = []

        rows += [
            audit_row(
                action=AuditAction.CREATED,
                actor=self.actor,
                source=self.source,
                content_type_id=self.content_type.pk,
                object_id=_instance(p).pk,
                object_repr=str(p.instance),
                comment=self.file_note,
                created_at=self.now,
            )
            for p in new_rows
        ]
        for plan in updated:
            plan.object_repr = str(plan.instance)

        direct_rows = [p for p in updated if p.direct]
        if direct_rows:
            changed_fields: set[str] = set()
            for plan in direct_rows:
                for name, value in plan.direct.items():
                    new_raw = registry.serialize_value(fields[name], value)
                    setattr(_instance(plan), fields[name].attname, value)
                    changed_fields.add(name)
                    rows.append(
                        self._field_row(
                            AuditAction.FIELD_CHANGED,
                            plan,
                            name,
                            plan.originals[name],
                            new_raw,
                            None,
                        )
                    )
                if "updated_at" in fields:
                    # django-stubs cannot know that this model has the field.
                    _instance(plan).updated_at = self.now  # type: ignore[attr-defined]
            if "updated_at" in fields:
                changed_fields.add("updated_at")
            with engine_writes():
                rows_update(
                    self.model,
                    [_instance(p) for p in direct_rows],
                    sorted(changed_fields),
                )

        # Approval on create: a new record that waits gets a creation proposal of
        # its values (old values empty), submitted with the batch's other proposals.
        creating = [p for p in new_rows if p.creates_proposal]
        if creating:
            governable = self.governed.governable_fields()
            self._learn_references(creating, created=True)
            for plan in creating:
                values = creation.creation_values(
                    {
                        f.name: registry.current_value(_instance(plan), f)
                        for f in governable
                    }
                )
                plan.proposed = values
                plan.originals = dict.fromkeys(values)
        proposing = [p for p in updated if p.proposed] + creating
        self.proposals_last_batch = len(proposing)
        slow: list[ChangeProposal] = []
        if proposing:
            proposals = [
                ChangeProposal(
                    content_type=self.content_type,
                    object_id=_instance(p).pk,
                    object_repr=self.governed.object_repr(_instance(p)),
                    source=self.source,
                    created_by=self.actor,
                    justification=self.justification,
                    creates_record=p.creates_proposal,
                )
                for p in proposing
            ]
            changes: list[ProposedChange] = []
            items: list[tuple[object, ...]] = []
            # Submitted, and some applied, before they are written: each goes in once,
            # in the state the batch leaves it.
            with instances_inserted_as_left(
                ChangeProposal, proposals, changing=[*SUBMISSION_FIELDS, "closed_at"]
            ):
                for plan, proposal in zip(proposing, proposals, strict=True):
                    if plan.creates_proposal:
                        rows.append(
                            self._proposal_row(
                                proposal,
                                AuditAction.RECORD_AWAITING,
                                self.file_note,
                                actor=self.actor,
                                source=self.source,
                            )
                        )
                    proposal.prefetched_changes = []
                    for name, value in plan.proposed.items():
                        original = plan.originals[name]
                        proposed = (
                            value
                            if plan.creates_proposal
                            else registry.serialize_value(fields[name], value)
                        )
                        change = ProposedChange(
                            proposal=proposal,
                            field_name=name,
                            original_value=original,
                            proposed_value=proposed,
                            proposed_by=self.actor,
                        )
                        changes.append(change)
                        proposal.prefetched_changes.append(change)
                        rows.append(
                            self._field_row(
                                AuditAction.FIELD_PROPOSED,
                                plan,
                                name,
                                original,
                                proposed,
                                proposal.pk,
                            )
                        )
                slow = self._submit(
                    [
                        (proposal, _instance(plan))
                        for plan, proposal in zip(proposing, proposals, strict=True)
                    ],
                    rows,
                    items,
                )
            proposals_tallied(proposals)
            instances_insert(ProposedChange, changes, keys=False)
            changes_tallied(added=changes)
            rows_insert(WorkItem, WORK_ITEM_ROW_FIELDS, items)
        audit_rows_write(rows)
        # Proposals the fast path leaves to the single path go after their own history.
        for proposal in slow:
            proposal_submit(
                proposal=proposal, actor=self.actor, justification=self.justification
            )

    def finish(self) -> None:
        """After the last batch: one e-mail per approver about all their new items,
        and one to the importer about every proposal applied without approval."""
        for assignee, proposal_ids in self.assigned.values():
            notifications.notify_many(
                event=notifications.ASSIGNED,
                proposal_ids=proposal_ids,
                recipients=[assignee],
            )
        notifications.notify_many(
            event=notifications.APPLIED,
            proposal_ids=self.applied,
            recipients=[self.actor],
        )

    # --- submitting the batch's proposals ---------------------------------------

    def _submission_context(self) -> _Submission:
        if self._submission is None:
            self._submission = _Submission.load(
                self.model, self.actor, self.justification
            )
        return self._submission

    def _submit(
        self,
        submitted: list[tuple[ChangeProposal, models.Model]],
        rows: list[tuple],
        items: list[tuple[object, ...]],
    ) -> list[ChangeProposal]:
        """Submit imported proposals with a few queries in all instead of many each.

        The same rules as `proposal_submit`, asked once per proposal: automatic
        approval, step conditions with skips recorded, assignees who may decide,
        and whether the values still apply. A proposal the rules approve at once
        (or whose every step is skipped) is applied here with the batch: its record
        in one UPDATE per batch, its audit rows with the batch's. Returns the
        proposals the batch cannot decide alone (an assignee taken from the record,
        values that no longer apply, an empty workflow): they go through
        `proposal_submit` itself. The work items of the proposals that wait go into
        `items` (rows), to be written after the proposals they name.
        """
        context = self._submission_context()
        workflow, actor = context.workflow, self.actor
        fast, applying, slow = [], [], []
        for proposal, record in submitted:
            # Kept on the instance by write(): not a model field, so django-stubs
            # does not know it.
            changes = proposal.prefetched_changes  # type: ignore[attr-defined]
            proposed = {
                c.field_name: (c.original_value, c.proposed_value) for c in changes
            }
            if not context.steps:
                # proposal_submit refuses it, saying why.
                slow.append(proposal)
                continue
            automatic = routing.automatic_approval(context.auto_rules, proposed)
            route = routing.next_step(context.steps, 0, proposed)
            if automatic or route.step is None:
                found = applicability_of(
                    record,
                    changes,
                    references_resolved=self.references_resolved,
                    creating=proposal.creates_record,
                    checks=self.checks,
                )
                if not found.applies:
                    # Ends in Conflict, with its reasons: the single path says so.
                    slow.append(proposal)
                    continue
                applying.append((proposal, record, found.values, automatic, route))
                continue
            first = route.step
            if first.assignee_field:
                slow.append(proposal)
                continue
            if not context.assignees_by_step[first.pk]:
                raise NotSubmittable(NO_ELIGIBLE_APPROVER % {"step": first.name})
            fast.append((proposal, first, route.skipped))

        for proposal, first, skipped in fast:
            proposal.submit(
                by=actor, workflow=workflow, justification=self.justification
            )
            proposal.advance(next_step=first)
            assignees = context.assignees_by_step[first.pk]
            items += work_item_rows(proposal, first, assignees, now=self.now)
            for user in assignees:
                self.assigned.setdefault(user.pk, (user, []))[1].append(proposal.pk)
            rows.append(self._submitted_row(proposal, context))
            rows += self._skipped_rows(proposal, skipped, context)
            rows.append(
                self._proposal_row(
                    proposal,
                    AuditAction.STEP_STARTED,
                    context.assigned_texts[first.pk],
                    actor=None,
                    source=Source.SYSTEM,
                )
            )
        self._apply_all(applying, rows, context)
        return slow

    def _apply_all(
        self,
        applying: list[tuple[ChangeProposal, models.Model, dict, tuple, Route]],
        rows: list[tuple],
        context: _Submission,
    ) -> None:
        """Submit and apply at once the proposals that need no approval, as
        `proposal_submit` would: approved by their rules (or with every step
        skipped), their values written to the records in one UPDATE per set of
        fields, with the same audit rows; the importer hears of them in one e-mail
        when the import ends."""
        by_fields: dict[tuple[str, ...], list[models.Model]] = {}
        for proposal, record, values, automatic, route in applying:
            proposal.submit(
                by=self.actor,
                workflow=context.workflow,
                justification=self.justification,
            )
            rows.append(self._submitted_row(proposal, context))
            if automatic:
                rows.append(
                    self._proposal_row(
                        proposal,
                        AuditAction.AUTO_APPROVED,
                        context.auto_approved_text(automatic),
                        actor=None,
                        source=Source.SYSTEM,
                    )
                )
                # Applied by the system: no person approved it.
                writer = None
            else:
                rows += self._skipped_rows(proposal, route.skipped, context)
                # Every step skipped: applied as the submitter's own change.
                writer = self.actor
            comment = context.applied_text(proposal.pk)
            for name, value in values.items():
                model_field = self.fields[name]
                # A creation's values are written from nothing (approval on create).
                old_raw = (
                    None
                    if proposal.creates_record
                    else registry.current_value(record, model_field)
                )
                new_raw = registry.serialize_value(model_field, value)
                setattr(
                    record,
                    model_field.attname,
                    applicability.attvalue(model_field, value),
                )
                rows.append(
                    audit_row(
                        action=AuditAction.FIELD_CHANGED,
                        actor=writer,
                        source=proposal.source,
                        content_type_id=self.content_type.pk,
                        object_id=record.pk,
                        object_repr=str(record),
                        proposal_id=proposal.pk,
                        field_name=name,
                        field_label=capfirst(str(model_field.verbose_name)),
                        old_value=old_raw,
                        new_value=new_raw,
                        old_display=self._display(name, old_raw),
                        new_display=self._display(name, new_raw),
                        comment=comment,
                        created_at=self.now,
                    )
                )
            if "updated_at" in self.fields:
                # django-stubs cannot know that this model has the field.
                record.updated_at = self.now  # type: ignore[attr-defined]
            written = tuple(sorted(values))
            if proposal.creates_record:
                # Approved at once: the record is active with its values.
                setattr(record, creation.STATUS_FIELD, creation.AFTER_APPROVAL)
                written += (creation.STATUS_FIELD,)
            by_fields.setdefault(written, []).append(record)
            proposal.apply()
            rows.append(
                self._proposal_row(
                    proposal, AuditAction.APPLIED, "", actor=None, source=Source.SYSTEM
                )
            )
            if proposal.creates_record:
                rows.append(
                    self._proposal_row(
                        proposal,
                        AuditAction.RECORD_ACTIVATED,
                        context.activated_text,
                        actor=None,
                        source=Source.SYSTEM,
                    )
                )
            self.applied.append(proposal.pk)
        stamp = ["updated_at"] if "updated_at" in self.fields else []
        with engine_writes():
            for names, records in by_fields.items():
                rows_update(self.model, records, [*names, *stamp])

    def _submitted_row(
        self, proposal: ChangeProposal, context: _Submission
    ) -> tuple[object, ...]:
        return self._proposal_row(
            proposal,
            AuditAction.SUBMITTED,
            context.sent_text,
            actor=self.actor,
            source=proposal.source,
        )

    def _skipped_rows(
        self,
        proposal: ChangeProposal,
        skipped: tuple[WorkflowStep, ...],
        context: _Submission,
    ) -> list[tuple[object, ...]]:
        return [
            self._proposal_row(
                proposal,
                AuditAction.STEP_SKIPPED,
                context.skip_texts[step.pk],
                actor=None,
                source=Source.SYSTEM,
            )
            for step in skipped
        ]

    def _proposal_row(
        self,
        proposal: ChangeProposal,
        action: AuditAction,
        comment: Translated | str,
        *,
        actor: User | None,
        source: Source | str,
    ) -> tuple[object, ...]:
        return audit_row(
            action=action,
            actor=actor,
            source=source,
            content_type_id=self.content_type.pk,
            object_id=proposal.object_id,
            object_repr=proposal.object_repr,
            proposal_id=proposal.pk,
            comment=comment,
            created_at=self.now,
        )


@dataclass
class _Submission:
    """The active workflow as one import submits to it: steps, rules, who may decide."""

    workflow: Workflow
    steps: list[WorkflowStep]
    auto_rules: list[AutoApprovalRule]
    assignees_by_step: dict[int, list[User]]
    # The audit comments, built once per import in every language.
    sent_text: Translated
    skip_texts: dict[int, Translated]
    assigned_texts: dict[int, Translated]
    # "Applied from proposal %(id)s." in every language, filled in per proposal.
    applied_template: Translated
    # A creation approved at once (approval on create).
    activated_text: Translated
    # The automatic approval's sentence by the rules that matched, built once each.
    auto_texts: dict[tuple[int, ...], Translated] = field(default_factory=dict)

    def applied_text(self, proposal_id: int) -> Translated:
        """The comment of the values applied from a proposal, in every language,
        without translating anything again."""
        values = {"id": proposal_id}
        text, translations = self.applied_template
        return Translated(
            text % values, {code: t % values for code, t in translations.items()}
        )

    def auto_approved_text(self, rules: tuple[AutoApprovalRule, ...]) -> Translated:
        """The audit comment of an automatic approval by `rules`, as
        `proposal_submit` writes it."""
        key = tuple(rule.pk for rule in rules)
        if key not in self.auto_texts:
            text = selectors.auto_approval_text(self.workflow, rules)
            self.auto_texts[key] = in_every_language(
                lambda: _("No approval needed: %(rule)s.") % {"rule": text}
            )
        return self.auto_texts[key]

    @classmethod
    def load(
        cls, model: type[models.Model], actor: User, justification: str
    ) -> _Submission:
        if not _may_submit(actor, model):
            raise PermissionRefused(str(NO_PERMISSION))
        governed = registry.get(model)
        workflow = active_workflow_required(model)
        refusal = justification_refusal(
            required=workflow.justification_required, justification=justification
        )
        if refusal is not None:
            raise refusal.error()
        steps = list(workflow.steps.all())
        # Every proposal of the import has the same history so far: the importer
        # proposed and submitted it. So who may decide each step is asked once.
        facts = ProposalFacts(
            state="pending",
            created_by_id=actor.pk,
            submitted_by_id=actor.pk,
            submission_round=1,
            participations=(
                Participation(actor.pk, Part.PROPOSED),
                Participation(actor.pk, Part.SUBMITTED, submission_round=1),
            ),
        )
        assignees_by_step: dict[int, list[User]] = {}
        for step in steps:
            if step.assignee_field:
                continue
            users = selectors.step_assignees(step, None)
            allowed = {
                c.user_id
                for c in eligible(facts, candidate_facts(users), step.sequence)
            }
            assignees_by_step[step.pk] = [u for u in users if u.pk in allowed]
        skip_texts = {
            step.pk: in_every_language(partial(skipped_step_text, step, governed))
            for step in steps
        }

        def assigned_text(pk: int, users: list[User]) -> str:
            return _("Step “%(step)s” assigned to %(users)s.") % {
                "step": next(s for s in steps if s.pk == pk),
                "users": ", ".join(u.get_username() for u in users),
            }

        assigned_texts = {
            pk: in_every_language(partial(assigned_text, pk, users))
            for pk, users in assignees_by_step.items()
        }
        return cls(
            workflow=workflow,
            steps=steps,
            auto_rules=list(workflow.auto_approval_rules.all()),
            assignees_by_step=assignees_by_step,
            activated_text=in_every_language(
                lambda: _("Its creation was approved: the record is active.")
            ),
            sent_text=in_every_language(
                partial(submitted_text, workflow, justification)
            ),
            skip_texts=skip_texts,
            assigned_texts=assigned_texts,
            applied_template=in_every_language(
                lambda: _("Applied from proposal %(id)s.")
            ),
        )


# --- Import jobs -----------------------------------------------------------------------


def import_job_create(
    *,
    model: type[models.Model],
    upload: File,
    options: ImportOptions,
    actor: User,
) -> ImportJob:
    """Store an uploaded file for its preview; refuses files over the size limit and
    files that are not what an import reads (told by their content), and keeps no file
    it refuses. Rows are estimated from the file's first part, never counted here."""
    _require_import_permission(actor, model)
    if upload.size > settings.IMPORT_MAX_BYTES:
        raise FileRefused(
            str(FILE_TOO_LARGE)
            % {
                "size": megabytes(upload.size),
                "limit": megabytes(settings.IMPORT_MAX_BYTES),
            }
        )
    job = ImportJob(
        content_type=ContentType.objects.get_for_model(model),
        created_by=actor,
        # An upload always has a name; django-stubs types File.name as optional.
        original_name=Path(upload.name).name[:255],  # type: ignore[arg-type]
        options=options.__dict__,
    )
    job.file.save(job.original_name, upload, save=False)
    try:
        job.estimated_rows = survey(job.file.path, sheet=options.sheet).estimated_rows
    except FileRefused:
        job.file.delete(save=False)
        raise
    job.save()
    return job


def import_job_preview_rows(*, job: ImportJob) -> int:
    """How many first rows the job's preview checks: 0 (every row) unless the file
    has more than IMPORT_FULL_PREVIEW_ROWS by its estimate, so that the preview of a
    large file costs a bounded part of a pass over it, not a second full pass."""
    limit = settings.IMPORT_FULL_PREVIEW_ROWS
    return limit if job.estimated_rows > limit else 0


def import_job_preview(*, job: ImportJob) -> ImportJob:
    """Check the job's file against the data now; nothing is written to the records.

    A file larger than IMPORT_FULL_PREVIEW_ROWS is checked by its first rows only
    (`import_job_preview_rows`); its import checks every row.

    A preview that cannot be confirmed (a refused file, rows with errors) keeps no file.
    Does nothing to a job that waits for no check (checked already, or ended). The
    check holds the job's lease while it works; if the job was given to another
    worker meanwhile (this one was taken for dead), its result is dropped.
    """
    lease = import_job_lease(job=job, state=ImportJobState.PREVIEWING)
    if lease is None:
        job.refresh_from_db()
        return job
    try:
        with lease:
            report = governed_records_import(
                model=registry.model_of(job.content_type),
                path=job.file.path,
                file_name=job.original_name,
                options=ImportOptions(**job.options),
                actor=job.created_by,
                dry_run=True,
                progress=lease.progress,
                sample_rows=import_job_preview_rows(job=job),
            )
    except LeaseLost:
        job.refresh_from_db()
        return job
    except Exception as error:  # noqa: BLE001 - the job records any failure for its page
        logger.exception("The check of import job %s failed", job.pk)
        report = ImportReport()
        report.refused = str(CHECK_FAILED % {"error": error})
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if not lease.held_by(job):
            return job
        job.finish_preview(report=report.as_dict())
        job.processed_rows = report.total_rows
        fields = [
            "state",
            "preview",
            "processed_rows",
            "message",
            "heartbeat_at",
            "finished_at",
        ]
        if job.state == ImportJobState.INVALID and job.file:
            job.file.delete(save=False)
            fields.append("file")
        job.save(update_fields=fields)
    return job


def import_job_confirm(*, job: ImportJob, actor: User) -> ImportJob:
    """The user confirms a preview: queue the import of exactly what it showed."""
    _require_import_permission(actor, registry.model_of(job.content_type))
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.created_by_id != actor.pk:
            raise PermissionRefused(NO_PERMISSION)
        if job.state != ImportJobState.PREVIEWED:
            raise NotSubmittable(
                _("This file cannot be imported now; its status is: %(state)s.")
                % {"state": job.get_state_display()}
            )
        job.queue()
        job.save(update_fields=["state", "processed_rows"])
    return job


def import_job_run(*, job: ImportJob) -> ImportJob:
    """Import a confirmed job's file, all or nothing, against its preview's fingerprint.

    Does nothing to a job that is not waiting to import (a task run twice). The rows
    and the job's end are committed together, and only while the job is still this
    worker's: one taken for dead meanwhile rolls everything back, so a job given back
    to its owner never has rows written behind it.
    """
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.state != ImportJobState.QUEUED:
            return job
        job.start()
        job.save(update_fields=["state", "processed_rows", "heartbeat_at"])
    lease = JobLease(job, ImportJobState.APPLYING)
    message = ""
    try:
        with lease, transaction.atomic(durable=True):
            try:
                # A savepoint: whatever fails in the import leaves this transaction
                # usable for recording the failure.
                with transaction.atomic():
                    report = governed_records_import(
                        model=registry.model_of(job.content_type),
                        path=job.file.path,
                        file_name=job.original_name,
                        options=ImportOptions(**job.options),
                        actor=job.created_by,
                        dry_run=False,
                        expected_fingerprint=job.preview.get("fingerprint", ""),
                        progress=lease.progress,
                        # The preview's fingerprint is of its rows only.
                        sample_rows=job.preview.get("sample_rows", 0),
                    )
            except LeaseLost:
                raise
            except Exception as error:  # noqa: BLE001 - the job records any failure
                logger.exception("Import job %s failed", job.pk)
                report = ImportReport()
                message = _(
                    "The import stopped with an error; nothing was imported: %(error)s"
                ) % {"error": error}
            job = ImportJob.objects.select_for_update().get(pk=job.pk)
            if not lease.held_by(job):
                raise LeaseLost
            job.finish(report=report.as_dict(), message=message)
            job.processed_rows = report.total_rows
            job.save(
                update_fields=[
                    "state",
                    "result",
                    "message",
                    "finished_at",
                    "processed_rows",
                ]
            )
    except LeaseLost:
        logger.warning("Import job %s was taken back while it ran; rolled back", job.pk)
        job.refresh_from_db()
    return job
