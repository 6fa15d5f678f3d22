"""Approving many proposals in one go, with a few queries in all instead of many each.

The same rules as `proposal_approve`, checked for every proposal: pending, assigned to
the approver now, not proposed or submitted by them, at most one step per person. Each
refusal is reported with its reason; everything else is approved in one transaction,
with every record and proposal locked. A proposal whose last step this approval ends is
applied here in bulk; one that goes on to a further step takes the single path.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import conditions, notifications, registry, rules
from ..audit import audit_for_proposal, audit_write
from ..bulk_sql import rows_update
from ..exceptions import (
    ALREADY_DECIDED_STEP,
    APPLY_INVALID,
    NO_PERMISSION,
    NOT_ASSIGNED,
    NOT_PENDING,
    ONE_STEP_ONLY,
    OWN_PROPOSAL,
    WorkflowError,
)
from ..models import (
    AuditAction,
    ChangeProposal,
    ProposalState,
    ProposedChange,
    Source,
    WorkItem,
    WorkItemState,
)
from .decisions import (
    COUNTED_STATES,
    conflict_entries,
    policy_outcome,
    proposal_approve,
)
from .records import _write_fields_entries


@dataclass
class BulkApproval:
    approved: list[int] = field(default_factory=list)
    applied: list[int] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def proposals_approve_bulk(
    *, proposal_ids: list[int], actor, comment: str = ""
) -> BulkApproval:
    """Approve, as `actor`, every listed proposal that the rules let them approve."""
    outcome = BulkApproval()
    if not actor.has_perm(rules.DECIDE_PERMISSION):
        outcome.refused = dict.fromkeys(proposal_ids, str(NO_PERMISSION))
        return outcome
    comment = comment.strip()
    with transaction.atomic():
        proposals = _lock(proposal_ids)
        for missing in set(proposal_ids) - set(proposals):
            outcome.refused[missing] = str(NOT_ASSIGNED)
        items = _refuse_what_rules_forbid(proposals, actor, outcome)
        # The step's outcome once this approval counts, known before anything is written,
        # so that a proposal going on to a later step can take the single path.
        states = _step_states(proposals, items)
        finishing, going_on, skipped = [], [], []
        for pid in list(items):
            proposal = proposals[pid]
            after = list(states[pid])
            after[after.index(WorkItemState.OPEN)] = WorkItemState.APPROVED
            if policy_outcome(proposal.current_step, after) != WorkItemState.APPROVED:
                continue
            later = [
                s
                for s in proposal.workflow.steps.all()
                if s.sequence > proposal.current_step.sequence
            ]
            changes = {
                c.field_name: (c.original_value, c.proposed_value)
                for c in proposal.changes.all()
            }
            if any(
                conditions.condition_holds(
                    s.condition_kind, s.condition_field, s.condition_value, changes
                )
                for s in later
            ):
                going_on.append(proposal)
                del items[pid]
                continue
            finishing.append(proposal)
            skipped += _skipped_entries(proposal, later)
        for item in items.values():
            item.approve(comment=comment)
        rows_update(WorkItem, list(items.values()), ["state", "comment", "decided_at"])
        entries = [
            audit_for_proposal(
                proposal=proposals[pid],
                action=AuditAction.APPROVED,
                actor=actor,
                comment=comment,
                source=Source.BROWSER,
            )
            for pid in items
        ] + skipped
        outcome.approved = list(items)
        _close_others(finishing)
        entries += _apply_all(finishing, actor, outcome)
        audit_write(entries)
        for proposal in going_on:
            try:
                with transaction.atomic():
                    proposal = proposal_approve(
                        proposal=proposal, actor=actor, comment=comment
                    )
            except WorkflowError as error:
                outcome.refused[proposal.pk] = error.message
                continue
            outcome.approved.append(proposal.pk)
            if proposal.state == ProposalState.APPLIED:
                outcome.applied.append(proposal.pk)
    return outcome


def _skipped_entries(proposal: ChangeProposal, steps) -> list:
    governed = registry.get(proposal.content_type.model_class())
    return [
        audit_for_proposal(
            proposal=proposal,
            action=AuditAction.STEP_SKIPPED,
            actor=None,
            source=Source.SYSTEM,
            comment=lambda step=step: conditions.skipped_step_text(step, governed),
        )
        for step in steps
    ]


def _lock(proposal_ids: list[int]) -> dict[int, ChangeProposal]:
    """Records first, then proposals: the lock order of every other service."""
    found = list(
        ChangeProposal.objects.filter(pk__in=proposal_ids).values_list(
            "pk", "content_type__app_label", "content_type__model", "object_id"
        )
    )
    by_model: dict[tuple[str, str], list[int]] = defaultdict(list)
    for _pk, app_label, model_name, object_id in found:
        by_model[(app_label, model_name)].append(object_id)
    from django.apps import apps

    for (app_label, model_name), object_ids in by_model.items():
        model = apps.get_model(app_label, model_name)
        list(
            model._default_manager.select_for_update()
            .filter(pk__in=object_ids)
            .values_list("pk", flat=True)
        )
    return {
        p.pk: p
        for p in ChangeProposal.objects.select_for_update(of=("self",))
        .filter(pk__in=proposal_ids)
        .select_related("content_type", "current_step", "workflow", "submitted_by")
        .prefetch_related("workflow__steps", "changes")
    }


def _refuse_what_rules_forbid(
    proposals, actor, outcome: BulkApproval
) -> dict[int, WorkItem]:
    for pid, proposal in list(proposals.items()):
        if proposal.state != ProposalState.PENDING:
            outcome.refused[pid] = str(
                NOT_PENDING % {"state": proposal.get_state_display()}
            )
        elif actor.pk in {proposal.created_by_id, proposal.submitted_by_id} | {
            c.proposed_by_id for c in proposal.changes.all()
        }:
            outcome.refused[pid] = str(OWN_PROPOSAL)
    candidates = [pid for pid in proposals if pid not in outcome.refused]
    other_steps = defaultdict(set)
    for pid, sequence in WorkItem.objects.filter(
        proposal_id__in=candidates, assignee=actor, state=WorkItemState.APPROVED
    ).values_list("proposal_id", "step__sequence"):
        other_steps[pid].add(sequence)
    items = {}
    for item in WorkItem.objects.select_for_update().filter(
        proposal_id__in=candidates, assignee=actor, state=WorkItemState.OPEN
    ):
        proposal = proposals[item.proposal_id]
        if (
            item.step_id == proposal.current_step_id
            and item.submission_round == proposal.submission_round
        ):
            item.proposal = proposal
            items[item.proposal_id] = item
    decided = set(
        WorkItem.objects.filter(proposal_id__in=candidates, assignee=actor)
        .exclude(state=WorkItemState.OPEN)
        .values_list("proposal_id", "step_id", "submission_round")
    )
    for pid in candidates:
        proposal = proposals[pid]
        if other_steps[pid] - {proposal.current_step.sequence}:
            outcome.refused[pid] = str(ONE_STEP_ONLY)
            items.pop(pid, None)
        elif pid not in items:
            current = (pid, proposal.current_step_id, proposal.submission_round)
            outcome.refused[pid] = str(
                ALREADY_DECIDED_STEP if current in decided else NOT_ASSIGNED
            )
    return items


def _step_states(proposals, items) -> dict[int, list[str]]:
    states: dict[int, list[str]] = defaultdict(list)
    rows = (
        WorkItem.objects.filter(proposal_id__in=list(items), state__in=COUNTED_STATES)
        .values("proposal_id", "step_id", "submission_round", "state")
        .annotate(n=Count("id"))
    )
    for row in rows:
        proposal = proposals[row["proposal_id"]]
        if (
            row["step_id"] == proposal.current_step_id
            and row["submission_round"] == proposal.submission_round
        ):
            states[row["proposal_id"]] += [row["state"]] * row["n"]
    return states


def _close_others(proposals: list[ChangeProposal]) -> None:
    """The step is decided: the other approvers' items close."""
    if not proposals:
        return
    others = list(
        WorkItem.objects.select_for_update().filter(
            proposal__in=proposals, state=WorkItemState.OPEN
        )
    )
    for item in others:
        item.close()
    rows_update(WorkItem, others, ["state", "decided_at"])


def _apply_all(proposals: list[ChangeProposal], actor, outcome: BulkApproval) -> list:
    """Write the proposals whose last step is now approved: each all or nothing."""
    entries = []
    by_model: dict[type[models.Model], list[ChangeProposal]] = defaultdict(list)
    for proposal in proposals:
        by_model[proposal.content_type.model_class()].append(proposal)
    for model, group in by_model.items():
        governed = registry.get(model)
        records = model._default_manager.in_bulk([p.object_id for p in group])
        to_write: dict[tuple[str, ...], list[models.Model]] = defaultdict(list)
        applied = []
        for proposal in group:
            record = records[proposal.object_id]
            changes: list[ProposedChange] = list(proposal.changes.all())
            conflict = _conflicts(model, record, changes)
            reason = ""
            candidate = copy.copy(record)
            values = {
                c.field_name: registry.deserialize_value(
                    model._meta.get_field(c.field_name), c.proposed_value
                )
                for c in changes
            }
            for name, value in values.items():
                setattr(candidate, model._meta.get_field(name).attname, value)
            if not conflict:
                unchanged_references = [
                    f.name
                    for f in model._meta.concrete_fields
                    if f.name not in values and isinstance(f, models.ForeignKey)
                ]
                try:
                    # As the single path, less the lookups of references that do not change
                    # and the uniqueness checks of fields that no change touches.
                    candidate.full_clean(
                        exclude=unchanged_references,
                        validate_unique=_touches_uniqueness(model, values),
                    )
                except ValidationError as error:
                    reason = str(APPLY_INVALID % {"errors": " ".join(error.messages)})
            if conflict or reason:
                proposal.mark_conflict()
                outcome.conflicts.append(proposal.pk)
                entries += conflict_entries(proposal, actor, conflict, reason)
                notifications.notify_submitter(
                    event=notifications.CONFLICT, proposal=proposal
                )
                continue
            entries += _write_fields_entries(
                instance=record,
                values={
                    n: getattr(candidate, model._meta.get_field(n).attname)
                    for n in values
                },
                actor=actor,
                source=proposal.source,
                proposal=proposal,
                comment=lambda proposal=proposal: (
                    _("Applied from proposal %(id)s.") % {"id": proposal.pk}
                ),
                governed=governed,
            )
            to_write[tuple(sorted(values))].append(record)
            proposal.apply()
            applied.append(proposal)
            entries.append(
                audit_for_proposal(
                    proposal=proposal,
                    action=AuditAction.APPLIED,
                    actor=None,
                    source=Source.SYSTEM,
                )
            )
        now = timezone.now()
        for field_names, rows in to_write.items():
            stamp = (
                ["updated_at"]
                if any(f.name == "updated_at" for f in model._meta.concrete_fields)
                else []
            )
            for row in rows:
                if stamp:
                    row.updated_at = now
            rows_update(model, rows, list(field_names) + stamp)
        rows_update(ChangeProposal, group, ["state", "closed_at"])
        outcome.applied += [p.pk for p in applied]
        by_submitter = defaultdict(list)
        for proposal in applied:
            by_submitter[proposal.submitted_by].append(proposal)
        for submitter, mine in by_submitter.items():
            notifications.notify_many(
                event=notifications.APPLIED,
                proposal_ids=[p.pk for p in mine],
                recipients=[submitter],
            )
    return entries


def _touches_uniqueness(model, values: dict[str, object]) -> bool:
    unique_sets = [set(fields) for fields in model._meta.unique_together]
    unique_sets += [
        set(c.fields)
        for c in model._meta.constraints
        if isinstance(c, models.UniqueConstraint)
    ]
    return any(model._meta.get_field(n).unique for n in values) or any(
        s & set(values) for s in unique_sets
    )


def _conflicts(model, record, changes) -> list:
    """(change, field, current value) of each change whose original value has moved."""
    moved = []
    for change in changes:
        model_field = model._meta.get_field(change.field_name)
        now = registry.current_value(record, model_field)
        if not registry.values_equal(model_field, now, change.original_value):
            moved.append((change, model_field, now))
    return moved
