"""Approving many proposals in one go, with a few queries in all instead of many each.

The decision core answers for every proposal exactly as for `proposal_approve`; this
module only batches the reads and writes around it. Each refusal is reported with its
reason; everything else is approved in one transaction, with every record and proposal
locked. A proposal whose last step this approval ends is applied here in bulk; one that
goes on to a further step takes the single path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import notifications, registry
from ..audit import Translated, audit_for_proposal, audit_write, in_every_language
from ..bulk_sql import rows_update
from ..core import completion, creation, lifecycle, routing
from ..core.actions import action_refusal
from ..core.applicability import FieldChecks
from ..core.bank import decision_kind_refusal
from ..core.conditions import skipped_step_text
from ..core.permissions import Action
from ..enforcement import STATUS_FIELD, engine_writes
from ..exceptions import NOT_ASSIGNED, WorkflowError
from ..models import (
    AuditAction,
    AuditEntry,
    ChangeProposal,
    ProposalState,
    ProposedChange,
    Source,
    WorkflowStep,
    WorkItem,
    WorkItemState,
)
from ..selectors import applicability_of
from ..selectors_facts import actor_facts, proposal_facts_many
from ..text import clean_comment
from .common import field_change_entries
from .decisions import activated_entry, conflict_entries, proposal_approve
from .tallies import proposals_tallied

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User
    from django_stubs_ext import StrOrPromise


@dataclass
class BulkApproval:
    approved: list[int] = field(default_factory=list)
    applied: list[int] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)
    refused: dict[int, StrOrPromise] = field(default_factory=dict)


def proposals_approve_bulk(
    *,
    proposal_ids: list[int],
    actor: User,
    comment: str = "",
    source: Source = Source.BROWSER,
) -> BulkApproval:
    """Approve, as `actor`, every listed proposal that the rules let them approve."""
    outcome = BulkApproval()
    comment = clean_comment(comment)
    with transaction.atomic():
        proposals = _lock(proposal_ids)
        for missing in set(proposal_ids) - set(proposals):
            outcome.refused[missing] = str(NOT_ASSIGNED)
        facts = proposal_facts_many(proposals.values())
        me = actor_facts(actor)
        # Each status is named once, not once per proposal.
        state_labels: dict[str, str] = {}
        for pid, proposal in proposals.items():
            if proposal.state not in state_labels:
                state_labels[proposal.state] = proposal.get_state_display()
            refusal = action_refusal(
                Action.APPROVE,
                facts[pid],
                me,
                app_label=proposal.content_type.app_label,
                model_name=proposal.content_type.model,
                state_label=state_labels[proposal.state],
            )
            if refusal is None and proposal.current_step is not None:
                # A call-back step is approved one by one, with its call recorded.
                refusal = decision_kind_refusal(
                    proposal.current_step.kind, with_call=False
                )
            if refusal is not None:
                outcome.refused[pid] = str(refusal)
        items = _open_items(proposals, actor, exclude=set(outcome.refused))
        finishing, going_on, skipped = [], [], []
        skip_texts: dict[tuple[int, int], Translated] = {}
        for pid in list(items):
            proposal = proposals[pid]
            step = proposal.current_step
            # The actor holds an open work item of this step, so the proposal is
            # pending with its workflow and a step.
            assert step is not None and proposal.workflow is not None
            # The step's outcome once this approval counts, known before anything is
            # written, so that a proposal going on to a later step takes the single path.
            votes = [
                "approved"
                if item.assignee_id == actor.pk and item.state == "open"
                else item.state
                for item in facts[pid].work_items
                if item.step_sequence == step.sequence
                and item.submission_round == proposal.submission_round
                and item.state in lifecycle.VOTES
            ]
            decided = completion.step_outcome(
                step.completion_policy, step.approval_percentage, votes
            )
            if decided != completion.APPROVED:
                continue
            route = routing.next_step(
                proposal.workflow.steps.all(),
                step.sequence,
                {
                    c.field_name: (c.original_value, c.proposed_value)
                    for c in proposal.changes.all()
                },
            )
            if route.step is not None:
                going_on.append(proposal)
                del items[pid]
                continue
            finishing.append(proposal)
            skipped += _skipped_entries(proposal, route.skipped, skip_texts)
        for item in items.values():
            item.approve(comment=comment)
        rows_update(WorkItem, list(items.values()), ["state", "comment", "decided_at"])
        entries = [
            audit_for_proposal(
                proposal=proposals[pid],
                action=AuditAction.APPROVED,
                actor=actor,
                comment=comment,
                source=source,
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
                        proposal=proposal, actor=actor, comment=comment, source=source
                    )
            except WorkflowError as error:
                outcome.refused[proposal.pk] = error.message
                continue
            outcome.approved.append(proposal.pk)
            if proposal.state == ProposalState.APPLIED:
                outcome.applied.append(proposal.pk)
    return outcome


def _skipped_entries(
    proposal: ChangeProposal,
    steps: Iterable[WorkflowStep],
    texts: dict[tuple[int, int], Translated],
) -> list[AuditEntry]:
    """The rows of the steps skipped; each step's sentence is put in every language
    once per bulk approval (`texts`), not once per proposal."""
    governed = registry.governed_of(proposal.content_type)
    entries = []
    for step in steps:
        key = (step.pk, proposal.content_type_id)
        if key not in texts:
            texts[key] = in_every_language(partial(skipped_step_text, step, governed))
        entries.append(
            audit_for_proposal(
                proposal=proposal,
                action=AuditAction.STEP_SKIPPED,
                actor=None,
                source=Source.SYSTEM,
                comment=texts[key],
            )
        )
    return entries


def _applied_comment(template: Translated, proposal: ChangeProposal) -> Translated:
    """ "Applied from proposal N." in every language, from the sentence put in every
    language once per bulk approval."""
    values = {"id": proposal.pk}
    return Translated(
        template.text % values,
        {code: text % values for code, text in template.translations.items()},
    )


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


def _open_items(
    proposals: dict[int, ChangeProposal], actor: User, *, exclude: set[int]
) -> dict[int, WorkItem]:
    """The actor's open work item of each proposal's current step, locked."""
    items: dict[int, WorkItem] = {}
    for item in WorkItem.objects.select_for_update().filter(
        proposal_id__in=[pid for pid in proposals if pid not in exclude],
        assignee=actor,
        state=WorkItemState.OPEN,
    ):
        proposal = proposals[item.proposal_id]
        if (
            item.step_id == proposal.current_step_id
            and item.submission_round == proposal.submission_round
        ):
            item.proposal = proposal
            items[item.proposal_id] = item
    return items


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


def _apply_all(
    proposals: list[ChangeProposal], actor: User, outcome: BulkApproval
) -> list[AuditEntry]:
    """Write the proposals whose last step is now approved: each all or nothing."""
    entries: list[AuditEntry] = []
    applied_template = in_every_language(lambda: _("Applied from proposal %(id)s."))
    by_model: dict[type[models.Model], list[ChangeProposal]] = defaultdict(list)
    for proposal in proposals:
        by_model[registry.model_of(proposal.content_type)].append(proposal)
    for model, group in by_model.items():
        records = model._default_manager.in_bulk([p.object_id for p in group])
        # Ten thousand records of one model: each field's verdict on a value once.
        checks = FieldChecks(model)
        to_write: dict[tuple[str, ...], list[models.Model]] = defaultdict(list)
        applied = []
        for proposal in group:
            record = records[proposal.object_id]
            changes: list[ProposedChange] = list(proposal.changes.all())
            found = applicability_of(
                record, changes, creating=proposal.creates_record, checks=checks
            )
            if not found.applies:
                proposal.mark_conflict()
                outcome.conflicts.append(proposal.pk)
                entries += conflict_entries(proposal, actor, found.moved, found.reason)
                notifications.notify_submitter(
                    event=notifications.CONFLICT, proposal=proposal
                )
                continue

            entries += field_change_entries(
                instance=record,
                values=found.values,
                actor=actor,
                source=proposal.source,
                proposal=proposal,
                comment=_applied_comment(applied_template, proposal),
                created=proposal.creates_record,
            )
            written = tuple(sorted(found.values))
            if proposal.creates_record:
                # Approval on create: the record becomes active with its values.
                setattr(record, STATUS_FIELD, creation.AFTER_APPROVAL)
                written += (STATUS_FIELD,)
            to_write[written].append(record)
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
            if proposal.creates_record:
                entries.append(activated_entry(proposal))
        now = timezone.now()
        stamp = (
            ["updated_at"]
            if any(f.name == "updated_at" for f in model._meta.concrete_fields)
            else []
        )
        with engine_writes():
            for field_names, rows in to_write.items():
                for row in rows:
                    if stamp:
                        # Only a model with the field is stamped: django-stubs cannot
                        # know that of a model given as a class.
                        row.updated_at = now  # type: ignore[attr-defined]
                rows_update(model, rows, list(field_names) + stamp)
        rows_update(ChangeProposal, group, ["state", "closed_at"])
        proposals_tallied(group)
        outcome.applied += [p.pk for p in applied]
        by_submitter: dict[User | None, list[ChangeProposal]] = defaultdict(list)
        for proposal in applied:
            by_submitter[proposal.submitted_by].append(proposal)
        for submitter, mine in by_submitter.items():
            notifications.notify_many(
                event=notifications.APPLIED,
                proposal_ids=[p.pk for p in mine],
                recipients=[submitter],
            )
    return entries
