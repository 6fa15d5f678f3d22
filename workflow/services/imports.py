"""Imports of governed records: a preview that writes nothing, and an all-or-nothing run.

Rows stream from the file and are planned and written in batches, so memory stays flat
in the file size and queries stay a few per batch. The data entity behaviour decides
what a change to a field under approval does: write it, fail the row, or propose it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import conditions, notifications, registry, rules, selectors
from ..audit import audit_entry_build, audit_for_proposal, audit_write
from ..exceptions import (
    NO_ACTIVE_WORKFLOW,
    NO_ELIGIBLE_APPROVER,
    NO_PERMISSION,
    NotSubmittable,
    PermissionRefused,
    WorkflowError,
)
from ..importing.plan import (
    NEW,
    UPDATED,
    ImportOptions,
    ImportPlanner,
    ImportReport,
    RowPlan,
    report_add,
)
from ..importing.reading import FileRefused, TableFile
from ..models import (
    AuditAction,
    ChangeProposal,
    DataEntityBehavior,
    ImportJob,
    ImportJobState,
    ProposedChange,
    Source,
    WorkItem,
)
from .decisions import proposal_submit

ALLOW_NOT_PERMITTED = gettext_lazy(
    "The %(parameters)s do not let imports change fields under approval without approval. "
    "Choose Create change proposals or Reject changes."
)
STALE_PREVIEW = gettext_lazy(
    "The data changed since the preview, so nothing was imported. Check the file again "
    "and confirm the new preview."
)
Progress = Callable[[ImportReport], None]


class _Rollback(Exception):
    pass


def _require_import_permission(actor, model: type[models.Model]) -> None:
    opts = model._meta
    needed = [
        f"{opts.app_label}.add_{opts.model_name}",
        f"{opts.app_label}.change_{opts.model_name}",
    ]
    if actor is None or not all(actor.has_perm(p) for p in needed):
        raise PermissionRefused(NO_PERMISSION)


def governed_records_import(
    *,
    model: type[models.Model],
    path: Path | str,
    file_name: str,
    options: ImportOptions,
    actor,
    dry_run: bool,
    expected_fingerprint: str = "",
    progress: Progress | None = None,
) -> ImportReport:
    """Check a file (dry run) or import it: every row is written, or none.

    With `expected_fingerprint` (from the preview the user confirmed), the import is
    refused when the rows would now do anything else than the preview showed.
    """
    _require_import_permission(actor, model)
    governed = registry.get(model)
    report = ImportReport()
    if not behaviour_permitted(model, options.behaviour):
        report.refused = str(
            ALLOW_NOT_PERMITTED % {"parameters": governed.labels.parameters}
        )
        return report
    planner = ImportPlanner(model, options)
    try:
        table = TableFile(
            path, name=file_name, encoding=options.encoding, delimiter=options.delimiter
        )
        columns = planner.check_header(table.header)
    except FileRefused as refused:
        report.refused = refused.message
        return report
    try:
        if dry_run:
            for batch in planner.batches(table):
                report_add(report, planner.plan_batch(batch, columns), governed)
                if progress:
                    progress(report)
            report.fingerprint = planner.fingerprint()
            report.refused = _submission_problem(model, actor, report)
            return report
        with transaction.atomic():
            for batch in planner.batches(table):
                plans = planner.plan_batch(batch, columns, lock=True)
                report_add(report, plans, governed)
                if not report.error_count:
                    _write_batch(model, governed, plans, actor)
                if progress:
                    progress(report)
            report.fingerprint = planner.fingerprint()
            if report.error_count:
                raise _Rollback
            if expected_fingerprint and expected_fingerprint != report.fingerprint:
                report.refused = str(STALE_PREVIEW)
                raise _Rollback
    except _Rollback:
        pass
    except FileRefused as refused:
        report.refused = refused.message
    except WorkflowError as error:
        report.refused = error.message
    return report


def behaviour_permitted(model: type[models.Model], behaviour: str) -> bool:
    """An import may be stricter than the parameters, never looser: "Allow changes
    without approval" only where the parameters allow it (or approvals are off)."""
    settings_row = selectors.approval_settings_for(model)
    if behaviour != DataEntityBehavior.ALLOW or not settings_row.approvals_enabled:
        return True
    return settings_row.data_entity_behavior == DataEntityBehavior.ALLOW


def _submission_problem(model, actor, report: ImportReport) -> str:
    """Why the proposals a preview plans could not be submitted, or ""."""
    if not report.counts.get("proposals"):
        return ""
    if selectors.active_workflow_for(model) is None:
        governed = registry.get(model)
        return str(
            NO_ACTIVE_WORKFLOW
            % {
                "model": model._meta.verbose_name_plural,
                "workflows": governed.labels.workflows,
            }
        )
    if not actor.has_perm("workflow.submit_changeproposal"):
        return str(
            _(
                "The file proposes changes that need approval, and you may not submit changes for approval."
            )
        )
    return ""


def _display_map(model_field: models.Field, raw_values: set) -> dict[object, str]:
    """How references read, fetched once per field and batch instead of once per cell."""
    if not isinstance(model_field, models.ForeignKey):
        return {}
    related = model_field.related_model._default_manager.filter(
        pk__in=[v for v in raw_values if v is not None]
    )
    return {obj.pk: str(obj) for obj in related}


def _display(model_field, raw, displays) -> str:
    if isinstance(model_field, models.ForeignKey) and raw in displays:
        return displays[raw]
    if isinstance(model_field, models.ForeignKey) and raw is not None:
        return str(raw)
    return registry.display_value(model_field, raw)


def _update_rows(model, instances: list[models.Model], field_names: list[str]) -> None:
    """Write `field_names` of many rows at once.

    On PostgreSQL one UPDATE … FROM (VALUES …): Django's bulk_update builds a CASE per
    field and row, which costs more in Python than the whole write costs the database.
    """
    if not instances:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(instances, field_names, batch_size=500)
        return
    fields = [model._meta.get_field(name) for name in field_names]
    pk = model._meta.pk
    columns = [pk.column] + [f.column for f in fields]

    def cast(model_field) -> str:
        # Text is cast to text, not varchar(n): an over-long value must fail, not be cut.
        if isinstance(model_field, (models.CharField, models.TextField)):
            return "text"
        return model_field.db_type(connection)

    assignments = ", ".join(f'"{f.column}" = v."{f.column}"::{cast(f)}' for f in fields)
    statement = (
        f'UPDATE "{model._meta.db_table}" AS t SET {assignments} FROM (VALUES %s) '
        f"AS v({', '.join(chr(34) + c + chr(34) for c in columns)}) "
        f'WHERE t."{pk.column}" = v."{pk.column}"::{pk.db_type(connection)}'
    )
    rows = [
        [obj.pk]
        + [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
        for obj in instances
    ]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        values = ", ".join(
            cursor.cursor.mogrify(placeholders, row).decode() for row in rows
        )
        # No parameters: the values are already quoted by the driver, so no % is read twice.
        cursor.execute(statement.replace("(VALUES %s)", f"(VALUES {values})"))
        if cursor.rowcount != len(rows):
            raise RuntimeError(
                f"{model._meta.db_table}: {cursor.rowcount} of {len(rows)} rows were updated"
            )


def _field_entry(action, plan: RowPlan, name: str, old_raw, new_raw, proposal, context):
    """The audit row of one imported field, written or proposed."""
    actor, content_type, governed, fields, displays = context
    return audit_entry_build(
        action=action,
        actor=actor,
        source=Source.IMPORT,
        content_type=content_type,
        object_id=plan.instance.pk,
        object_repr=str(plan.instance),
        proposal=proposal,
        field_name=name,
        field_label=governed.field_label(name),
        old_value=old_raw,
        new_value=new_raw,
        old_display=_display(fields[name], old_raw, displays.get(name, {})),
        new_display=_display(fields[name], new_raw, displays.get(name, {})),
    )


def _write_batch(model, governed, plans: list[RowPlan], actor) -> None:
    content_type = ContentType.objects.get_for_model(model)
    fields = {f.name: f for f in model._meta.concrete_fields}
    now = timezone.now()
    new_rows = [p for p in plans if p.kind == NEW]
    updated = [p for p in plans if p.kind == UPDATED]

    displays: dict[str, dict] = {}
    for name, model_field in fields.items():
        if isinstance(model_field, models.ForeignKey):
            values = set()
            for plan in updated:
                for source in (plan.direct, plan.proposed):
                    if name in source:
                        values.add(registry.serialize_value(model_field, source[name]))
                if name in plan.originals:
                    values.add(plan.originals[name])
            displays[name] = _display_map(model_field, values) if values else {}

    entries = []
    if new_rows:
        created = model._default_manager.bulk_create(
            [p.instance for p in new_rows], batch_size=500
        )
        entries += [
            audit_entry_build(
                action=AuditAction.CREATED,
                actor=actor,
                source=Source.IMPORT,
                content_type=content_type,
                object_id=obj.pk,
                object_repr=str(obj),
            )
            for obj in created
        ]

    context = (actor, content_type, governed, fields, displays)
    direct_rows = [p for p in updated if p.direct]
    if direct_rows:
        changed_fields: set[str] = set()
        for plan in direct_rows:
            for name, value in plan.direct.items():
                old_raw = plan.originals[name]
                new_raw = registry.serialize_value(fields[name], value)
                setattr(plan.instance, fields[name].attname, value)
                changed_fields.add(name)
                entries.append(
                    _field_entry(
                        AuditAction.FIELD_CHANGED,
                        plan,
                        name,
                        old_raw,
                        new_raw,
                        None,
                        context,
                    )
                )
            if "updated_at" in fields:
                plan.instance.updated_at = now
        if "updated_at" in fields:
            changed_fields.add("updated_at")
        _update_rows(model, [p.instance for p in direct_rows], sorted(changed_fields))

    proposing = [p for p in updated if p.proposed]
    if proposing:
        proposals = ChangeProposal.objects.bulk_create(
            [
                ChangeProposal(
                    content_type=content_type,
                    object_id=p.instance.pk,
                    object_repr=governed.object_repr(p.instance),
                    source=Source.IMPORT,
                    created_by=actor,
                )
                for p in proposing
            ]
        )
        changes = []
        for plan, proposal in zip(proposing, proposals, strict=True):
            for name, value in plan.proposed.items():
                original = plan.originals[name]
                proposed = registry.serialize_value(fields[name], value)
                changes.append(
                    ProposedChange(
                        proposal=proposal,
                        field_name=name,
                        original_value=original,
                        proposed_value=proposed,
                        proposed_by=actor,
                    )
                )
                entries.append(
                    _field_entry(
                        AuditAction.FIELD_PROPOSED,
                        plan,
                        name,
                        original,
                        proposed,
                        proposal,
                        context,
                    )
                )
        ProposedChange.objects.bulk_create(changes, batch_size=1000)
        by_proposal: dict[int, list[ProposedChange]] = {}
        for change in changes:
            by_proposal.setdefault(change.proposal_id, []).append(change)
        for proposal in proposals:
            proposal.prefetched_changes = by_proposal.get(proposal.pk, [])
        audit_write(entries)
        entries = []
        _submit_in_bulk(model, proposals, [p.proposed for p in proposing], actor)
    audit_write(entries)


def _submit_in_bulk(
    model, proposals: list[ChangeProposal], proposed: list[dict], actor
) -> None:
    """Submit a batch of imported proposals with a few queries instead of many per proposal.

    The same rules as `proposal_submit`: the active workflow, automatic approval, step
    conditions with skips recorded, and assignees who may decide. A proposal the fast
    path cannot decide alone (automatic approval, an assignee taken from the record) goes
    through `proposal_submit` itself.
    """
    if not actor.has_perm("workflow.submit_changeproposal"):
        raise PermissionRefused(NO_PERMISSION)
    workflow = selectors.active_workflow_for(model)
    if workflow is None:
        governed = registry.get(model)
        raise NotSubmittable(
            NO_ACTIVE_WORKFLOW
            % {
                "model": model._meta.verbose_name_plural,
                "workflows": governed.labels.workflows,
            }
        )
    steps = list(workflow.steps.all())
    auto_rules = list(workflow.auto_approval_rules.all())
    governed = registry.get(model)
    assignees_by_step = {
        step.pk: [
            u
            for u in selectors.step_assignees(step, None)
            if u.pk != actor.pk and u.is_active and u.has_perm(rules.DECIDE_PERMISSION)
        ]
        for step in steps
        if not step.assignee_field
    }
    fields = {f.name: f for f in model._meta.concrete_fields}
    now = timezone.now()
    fast, slow = [], []
    for proposal, values in zip(proposals, proposed, strict=True):
        changes = {
            name: (None, registry.serialize_value(fields[name], value))
            for name, value in values.items()
        }
        originals = {
            c.field_name: c.original_value for c in proposal.prefetched_changes
        }
        changes = {
            name: (originals.get(name), new) for name, (_old, new) in changes.items()
        }
        first = None
        skipped = []
        for step in steps:
            if conditions.condition_holds(
                step.condition_kind, step.condition_field, step.condition_value, changes
            ):
                first = step
                break
            skipped.append(step)
        automatic = auto_rules and selectors.matching_auto_approval(
            workflow, changes, auto_rules
        )
        if automatic or first is None or first.assignee_field:
            slow.append(proposal)
            continue
        if not assignees_by_step[first.pk]:
            raise NotSubmittable(NO_ELIGIBLE_APPROVER % {"step": first.name})
        fast.append((proposal, first, skipped))

    entries, items = [], []
    for proposal, first, skipped in fast:
        proposal.submit(by=actor, workflow=workflow)
        proposal.advance(next_step=first)
        due_at = now + first.time_limit if first.time_limit else None
        assignees = assignees_by_step[first.pk]
        items += [
            WorkItem(
                proposal=proposal,
                step=first,
                assignee=user,
                due_at=due_at,
                submission_round=proposal.submission_round,
            )
            for user in assignees
        ]
        entries.append(
            audit_for_proposal(
                proposal=proposal,
                action=AuditAction.SUBMITTED,
                actor=actor,
                comment=_("Sent to %(workflow)s.") % {"workflow": workflow},
            )
        )
        for step in skipped:
            text = conditions.condition_text(
                step.condition_kind,
                step.condition_field,
                step.condition_value,
                governed,
            )
            entries.append(
                audit_for_proposal(
                    proposal=proposal,
                    action=AuditAction.STEP_SKIPPED,
                    actor=None,
                    source=Source.SYSTEM,
                    comment=_(
                        "Step “%(step)s” skipped: its condition (%(condition)s) does not hold."
                    )
                    % {"step": step, "condition": text},
                )
            )
        entries.append(
            audit_for_proposal(
                proposal=proposal,
                action=AuditAction.STEP_STARTED,
                actor=None,
                source=Source.SYSTEM,
                comment=_("Step “%(step)s” assigned to %(users)s.")
                % {
                    "step": first,
                    "users": ", ".join(u.get_username() for u in assignees),
                },
            )
        )
    if fast:
        _update_rows(
            ChangeProposal,
            [p for p, _first, _skipped in fast],
            [
                "state",
                "submitted_by",
                "submitted_at",
                "workflow",
                "current_step",
                "submission_round",
            ],
        )
        WorkItem.objects.bulk_create(items, batch_size=1000)
        audit_write(entries)
        by_assignee: dict[int, tuple[object, list[ChangeProposal]]] = {}
        for item in items:
            by_assignee.setdefault(item.assignee.pk, (item.assignee, []))[1].append(
                item.proposal
            )
        for assignee, assigned in by_assignee.values():
            notifications.notify_many(
                event=notifications.ASSIGNED, proposals=assigned, recipients=[assignee]
            )
    for proposal in slow:
        proposal_submit(proposal=proposal, actor=actor)


# --- Import jobs -----------------------------------------------------------------------


def import_job_create(
    *, model: type[models.Model], upload, options: ImportOptions, actor
) -> ImportJob:
    """Store an uploaded file for its preview; refuses files over the size limit."""
    _require_import_permission(actor, model)
    if upload.size > settings.IMPORT_MAX_BYTES:
        raise FileRefused(
            _("The file is %(size)s MB; files up to %(limit)s MB can be imported.")
            % {
                "size": round(upload.size / 1_000_000, 1),
                "limit": settings.IMPORT_MAX_BYTES // 1_000_000,
            }
        )
    job = ImportJob(
        content_type=ContentType.objects.get_for_model(model),
        created_by=actor,
        original_name=Path(upload.name).name[:255],
        options=options.__dict__,
    )
    job.file.save(job.original_name, upload, save=False)
    job.estimated_rows = _estimate_rows(job)
    job.save()
    return job


def _estimate_rows(job: ImportJob) -> int:
    try:
        return TableFile(
            job.file.path, name=job.original_name, encoding="auto"
        ).count_rows()
    except FileRefused:
        return 0


def _progress_saver(job: ImportJob) -> Progress:
    """Saves the rows done on a connection of its own, so others see it mid-transaction."""
    alias = "progress" if "progress" in settings.DATABASES else DEFAULT_DB_ALIAS

    def save(report: ImportReport) -> None:
        if alias == DEFAULT_DB_ALIAS and transaction.get_connection().in_atomic_block:
            return
        ImportJob.objects.using(alias).filter(pk=job.pk).update(
            processed_rows=report.total_rows
        )

    return save


def import_job_preview(*, job: ImportJob) -> ImportJob:
    """Check the job's file against the data now; nothing is written to the records."""
    report = governed_records_import(
        model=job.content_type.model_class(),
        path=job.file.path,
        file_name=job.original_name,
        options=ImportOptions(**job.options),
        actor=job.created_by,
        dry_run=True,
        progress=_progress_saver(job),
    )
    job.refresh_from_db()
    job.finish_preview(report=report.as_dict())
    job.processed_rows = report.total_rows
    job.save(update_fields=["state", "preview", "processed_rows"])
    return job


def import_job_confirm(*, job: ImportJob, actor) -> ImportJob:
    """The user confirms a preview: queue the import of exactly what it showed."""
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
    """Import a confirmed job's file, all or nothing, against its preview's fingerprint."""
    job.refresh_from_db()
    job.start()
    job.save(update_fields=["state", "processed_rows"])
    message = ""
    try:
        report = governed_records_import(
            model=job.content_type.model_class(),
            path=job.file.path,
            file_name=job.original_name,
            options=ImportOptions(**job.options),
            actor=job.created_by,
            dry_run=False,
            expected_fingerprint=job.preview.get("fingerprint", ""),
            progress=_progress_saver(job),
        )
    except Exception as error:  # noqa: BLE001 - the job records any failure for its page
        report = ImportReport()
        message = _(
            "The import stopped with an error; nothing was imported: %(error)s"
        ) % {"error": error}
    job.refresh_from_db()
    job.finish(report=report.as_dict(), message=message)
    job.processed_rows = report.total_rows
    job.save(
        update_fields=["state", "result", "message", "finished_at", "processed_rows"]
    )
    return job
