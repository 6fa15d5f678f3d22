"""Reads of the approval engine, with their related rows already joined."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import registry
from .core import actions, applicability, changes, conditions, creation
from .core.applicability import cleaned, with_values
from .core.permissions import DECIDE_PERMISSION
from .core.refusals import Refusal
from .core.separation import exclusions
from .exceptions import APPLY_INVALID, INACTIVE_REFERENCE
from .models import (
    OPEN_PROPOSAL_STATES,
    ApprovalSettings,
    AuditAction,
    AuditEntry,
    AutoApprovalRule,
    ChangeProposal,
    DataEntityBehavior,
    ImportJob,
    ProposalState,
    ProposedChange,
    UserLanguage,
    Workflow,
    WorkflowStep,
    WorkItem,
    WorkItemState,
)
from .selectors_facts import (
    actor_facts,
    candidate_facts,
    exclusion_texts,
    proposal_facts,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User

    from .core.permissions import Action


def approval_settings_for(model: type[models.Model]) -> ApprovalSettings:
    """The saved settings, or the defaults (approvals off) when none were saved yet."""
    content_type = ContentType.objects.get_for_model(model)
    found = ApprovalSettings.objects.filter(content_type=content_type).first()
    return found or ApprovalSettings(content_type=content_type)


def enabled_fields_for(model: type[models.Model]) -> frozenset[str]:
    """The fields whose changes need approval now (none while approvals are off)."""
    settings_row = approval_settings_for(model)
    return changes.enabled_fields(
        settings_row.approvals_enabled,
        settings_row.enabled_fields,
        registry.get(model).governable_field_names,
    )


def import_behaviour_permitted(model: type[models.Model], behaviour: str) -> bool:
    """Whether the parameters let an import of `model` follow `behaviour`."""
    settings_row = approval_settings_for(model)
    return changes.behaviour_permitted(
        settings_row.approvals_enabled, settings_row.data_entity_behavior, behaviour
    )


def _proposals_of(instance: models.Model) -> QuerySet[ChangeProposal]:
    return ChangeProposal.objects.filter(
        content_type=ContentType.objects.get_for_model(instance), object_id=instance.pk
    )


def inactive_references(
    model: type[models.Model], values: Mapping[str, object]
) -> dict[str, str]:
    """Field name -> why, for each reference in `values` to a record that may not be
    used yet (approval on create: awaiting approval or rejected). One query per
    reference given; an import asks for its batch instead (importing.plan)."""
    problems: dict[str, str] = {}
    for name, value in values.items():
        model_field = registry.concrete_field(model, name)
        related = getattr(model_field, "related_model", None)
        if not isinstance(model_field, models.ForeignKey) or related is None:
            continue
        if not any(f.name == creation.STATUS_FIELD for f in related._meta.fields):
            continue
        pk = value.pk if isinstance(value, models.Model) else value
        if pk is None:
            continue
        found = related._default_manager.filter(pk=pk).first()
        if found is None:
            continue
        status = getattr(found, creation.STATUS_FIELD)
        if not creation.may_be_used(status):
            problems[name] = inactive_reference_text(
                found, model_field, found.get_record_status_display()
            )
    return problems


def inactive_reference_text(
    record: object, model_field: models.Field, status: str
) -> str:
    return str(
        INACTIVE_REFERENCE
        % {
            "record": record,
            "field": str(model_field.verbose_name),
            "status": status,
        }
    )


def record_status_of(model: type[models.Model], pk: object) -> str:
    """A record's status as stored (approval on create): active, awaiting, rejected."""
    found = (
        model._default_manager.filter(pk=pk)
        .values_list(creation.STATUS_FIELD, flat=True)
        .first()
    )
    return found or creation.ACTIVE


def open_proposal_for(instance: models.Model) -> ChangeProposal | None:
    return (
        _proposals_of(instance)
        .filter(state__in=OPEN_PROPOSAL_STATES)
        .select_related("submitted_by", "created_by", "current_step", "workflow")
        .prefetch_related("changes")
        .first()
    )


def open_proposal_for_update(instance: models.Model) -> ChangeProposal | None:
    return (
        _proposals_of(instance)
        .select_for_update()
        .filter(state__in=OPEN_PROPOSAL_STATES)
        .first()
    )


def latest_closed_proposal_for(instance: models.Model) -> ChangeProposal | None:
    return _proposals_of(instance).exclude(state__in=OPEN_PROPOSAL_STATES).first()


def proposals_for(instance: models.Model) -> list[ChangeProposal]:
    """The record's proposals, newest first, each with `field_labels` of its changes."""
    governed = registry.get(type(instance))
    proposals = list(
        _proposals_of(instance)
        .select_related("created_by", "submitted_by")
        .prefetch_related("changes")
    )
    for proposal in proposals:
        # A list for the history template, hung on the instance: not a model field,
        # so django-stubs does not know it.
        proposal.field_labels = [  # type: ignore[attr-defined]
            governed.field_label(c.field_name) for c in proposal.changes.all()
        ]
    return proposals


def proposal_change_rows(proposal: ChangeProposal) -> list[dict[str, object]]:
    """Field, original and proposed value of each change, as a person reads them."""
    governed = registry.governed_of(proposal.content_type)
    rows = []
    for change in proposal.changes.all():
        model_field = registry.concrete_field(governed.model, change.field_name)
        rows.append(
            {
                "field_name": change.field_name,
                "label": governed.field_label(change.field_name),
                "original": registry.display_value(model_field, change.original_value),
                "proposed": registry.display_value(model_field, change.proposed_value),
                "proposed_by": change.proposed_by,
            }
        )
    return rows


# A value that moved since it was proposed: the change, its field, the value now.
Conflict = tuple[ProposedChange, models.Field, object]


@dataclass
class Applicability:
    """Whether a proposal's values still apply to its record, and if so, which."""

    values: dict[str, object]
    moved: list[Conflict]
    reason: str = ""

    @property
    def applies(self) -> bool:
        return not self.moved and not self.reason


def applicability_of(
    record: models.Model,
    changes: list[ProposedChange],
    *,
    references_resolved: Iterable[str] = (),
    creating: bool = False,
    checks: applicability.FieldChecks | None = None,
) -> Applicability:
    """Asks the core whether `changes` still apply to `record` as it is now: the
    services before they write, the pages before an approver decides.

    `references_resolved` names the references whose values the caller looked up
    for a whole batch (an import), so that they are not fetched again per record.

    `creating`: the changes of a creation proposal, whose old values are empty: none
    can have moved (the record was made with them, and only the engine writes it
    while it waits), so only the whole record's validity is asked."""
    model = type(record)
    fields = {
        c.field_name: registry.concrete_field(model, c.field_name) for c in changes
    }
    current = {n: registry.current_value(record, f) for n, f in fields.items()}
    moved_names = (
        []
        if creating
        else applicability.moved_fields(
            {c.field_name: c.original_value for c in changes},
            current,
            lambda name, left, right: registry.values_equal(fields[name], left, right),
        )
    )
    moved = [
        (c, fields[c.field_name], current[c.field_name])
        for c in changes
        if c.field_name in moved_names
    ]
    if moved:
        return Applicability(values={}, moved=moved)
    candidate = with_values(
        record,
        {
            c.field_name: registry.deserialize_value(
                fields[c.field_name], c.proposed_value
            )
            for c in changes
        },
    )
    problems = applicability.record_problems(
        candidate, fields, references_resolved=references_resolved, checks=checks
    )
    if problems:
        messages = " ".join(m for found in problems.values() for m in found)
        return Applicability(
            values={}, moved=[], reason=str(APPLY_INVALID % {"errors": messages})
        )
    return Applicability(values=cleaned(candidate, fields), moved=[])


def active_workflow_for(model: type[models.Model]) -> Workflow | None:
    return Workflow.objects.filter(
        content_type=ContentType.objects.get_for_model(model), is_active=True
    ).first()


def step_assignees(step: WorkflowStep, record: models.Model | None) -> list[User]:
    """Active users the step names: its group's members, its named users, and the user
    a field of the record points at (the account manager, say)."""
    user_model = get_user_model()
    condition = Q(pk__in=step.assigned_users.values("pk"))
    if step.assigned_group_id:
        condition |= Q(groups=step.assigned_group_id)
    if step.assignee_field and record is not None:
        field_user_id = getattr(record, f"{step.assignee_field}_id", None)
        if field_user_id:
            condition |= Q(pk=field_user_id)
    return list(
        user_model._default_manager.filter(condition, is_active=True)
        .distinct()
        .order_by("pk")
    )


def escalation_targets(step: WorkflowStep) -> list[User]:
    user_model = get_user_model()
    condition = (
        Q(pk=step.escalate_to_user_id) if step.escalate_to_user_id else Q(pk__in=[])
    )
    if step.escalate_to_group_id:
        condition |= Q(groups=step.escalate_to_group_id)
    return list(
        user_model._default_manager.filter(condition, is_active=True)
        .distinct()
        .order_by("pk")
    )


def step_named_users_who_may_not_decide(step: WorkflowStep) -> list[User]:
    """The users named on the step who may not decide its work items: inactive, or
    without the permission to (`ActorFacts.holds(DECIDE_PERMISSION)`)."""
    users = list(step.assigned_users.order_by("username"))
    may = {c.user_id for c in candidate_facts(users) if c.holds(DECIDE_PERMISSION)}
    return [u for u in users if u.pk not in may]


def steps_without_decider(workflow: Workflow) -> list[WorkflowStep]:
    """The steps of `workflow` that nobody they are assigned to may decide: no active
    member of the group and no named user holds the permission. A step that also goes
    to a user field of the record is left out: who that is depends on the record."""
    found = []
    for step in workflow.steps.filter(assignee_field="").order_by("sequence"):
        candidates = candidate_facts(step_assignees(step, None))
        if not any(c.holds(DECIDE_PERMISSION) for c in candidates):
            found.append(step)
    return found


def handover_candidates(proposal: ChangeProposal) -> list[User]:
    """Users the current work item may be delegated or reassigned to."""
    step = proposal.current_step
    if step is None:
        return []
    users = list(
        get_user_model()
        ._default_manager.filter(is_active=True, is_staff=True)
        .order_by("username")
    )
    allowed = {
        c.user_id
        for c in actions.eligible(
            proposal_facts(proposal), candidate_facts(users), step.sequence
        )
    }
    return [u for u in users if u.pk in allowed]


def change_map(proposal: ChangeProposal) -> dict[str, tuple[object, object]]:
    """Field name -> (original, proposed), the input of conditions."""
    return {
        c.field_name: (c.original_value, c.proposed_value)
        for c in proposal.changes.all()
    }


def auto_approval_text(workflow: Workflow, rules: tuple[AutoApprovalRule, ...]) -> str:
    """The automatic approval rules that approved a proposal, as one sentence."""
    governed = registry.governed_of(workflow.content_type)
    return "; ".join(
        conditions.condition_text(rule.kind, rule.field_name, rule.value, governed)
        for rule in rules
    )


def action_refusals(
    proposal: ChangeProposal,
    user: User | AnonymousUser,
    actions_wanted: Iterable[Action],
) -> dict[str, Refusal | None]:
    """For each action, why `user` may not take it on the proposal now (None: they may),
    asked of the same rule the services apply."""
    facts = proposal_facts(proposal)
    actor = actor_facts(user)
    content_type = proposal.content_type
    result: dict[str, Refusal | None] = {}
    for action in actions_wanted:
        refusal = actions.action_refusal(
            action,
            facts,
            actor,
            app_label=content_type.app_label,
            model_name=content_type.model,
            state_label=proposal.get_state_display(),
        )
        result[str(action)] = refusal
    return result


class ExclusionRow(TypedDict):
    user: User
    reasons: list[str]


def decision_exclusions(proposal: ChangeProposal) -> list[ExclusionRow]:
    """Who may not decide the proposal's current step, each with why in words."""
    step = proposal.current_step
    found = exclusions(
        proposal_facts(proposal), step.sequence if step is not None else None
    )
    if not found:
        return []
    governed = registry.governed_of(proposal.content_type)
    users = get_user_model()._default_manager.in_bulk(list(found))
    rows: list[ExclusionRow] = []
    for user_id, reasons in found.items():
        user = users.get(user_id)
        if user is None:
            continue
        rows.append({"user": user, "reasons": exclusion_texts(reasons, governed)})
    return sorted(rows, key=lambda row: row["user"].get_username())


def open_work_items_for(user: User) -> QuerySet[WorkItem]:
    return (
        WorkItem.objects.filter(
            assignee=user,
            state=WorkItemState.OPEN,
            proposal__state=ProposalState.PENDING,
        )
        .select_related(
            "proposal", "proposal__submitted_by", "proposal__content_type", "step"
        )
        .order_by("created_at", "id")
    )


WORK_ITEM_COUNT_CAP = 10_000


def open_work_item_count(user: User | AnonymousUser) -> int:
    """How many open work items `user` has, counted up to WORK_ITEM_COUNT_CAP + 1: a
    number above the cap means "more than" it and costs no more to find."""
    if not user.is_authenticated:
        return 0
    cap = WORK_ITEM_COUNT_CAP
    # Without the model's order: which rows are counted does not matter, and sorting
    # them made the count grow with the queue beyond the cap.
    return (
        WorkItem.objects.filter(
            assignee=user,
            state=WorkItemState.OPEN,
            proposal__state=ProposalState.PENDING,
        )
        .order_by()[: cap + 1]
        .count()
    )


def open_work_item_of(
    proposal: ChangeProposal, user: User | AnonymousUser
) -> WorkItem | None:
    if proposal.state != ProposalState.PENDING or not user.is_authenticated:
        return None
    return WorkItem.objects.filter(
        proposal=proposal,
        step=proposal.current_step_id,
        assignee=user,
        state=WorkItemState.OPEN,
        submission_round=proposal.submission_round,
    ).first()


def open_work_item_holders(proposal: ChangeProposal) -> list[User]:
    """Who holds an open work item of the proposal now: whom a recall would tell."""
    return list(
        get_user_model()
        ._default_manager.filter(
            work_items__proposal=proposal, work_items__state=WorkItemState.OPEN
        )
        .distinct()
        .order_by("username")
    )


def work_items_of(proposal: ChangeProposal) -> QuerySet[WorkItem]:
    return (
        WorkItem.objects.filter(proposal=proposal)
        .select_related("assignee", "step", "handed_over_to")
        .order_by("submission_round", "step__sequence", "id")
    )


def audit_entries_for(instance: models.Model) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(instance), object_id=instance.pk
    ).select_related("actor", "proposal")


class AuditText(TypedDict):
    object: str
    label: str
    old: str
    new: str


# The parameters' own fields, as their audit rows name them.
SETTINGS_FIELD_LABELS = {
    "data_entity_behavior": gettext_lazy("Data entity behavior"),
    "enabled_fields": gettext_lazy("Fields that need approval"),
    "new_records_need_approval": gettext_lazy("New records wait for approval"),
}


def audit_texts(entries: Iterable[AuditEntry]) -> dict[int, AuditText]:
    """Audit rows as the reader reads them (`audit_entry_text`), by id, for a page of
    many: the approval parameters (a row per governed model) are read once for all."""
    entries = list(entries)
    if not entries:
        return {}
    settings_rows = ApprovalSettings.objects.select_related("content_type").in_bulk()
    return {e.pk: _audit_text(e, settings_rows) for e in entries}


def audit_entry_text(entry: AuditEntry) -> AuditText:
    """An audit row as the reader reads it: the record, the field's label and its
    values in the reader's language and number format, worked out from what was
    stored; the text recorded at the time where nothing better is known (a reference
    keeps its code of then, a field since removed its old label)."""
    settings_type = ContentType.objects.get_for_model(ApprovalSettings)
    settings_rows = (
        ApprovalSettings.objects.select_related("content_type").in_bulk(
            [entry.object_id]
        )
        if entry.content_type_id == settings_type.pk and entry.object_id is not None
        else {}
    )
    return _audit_text(entry, settings_rows)


def _audit_text(
    entry: AuditEntry, settings_rows: dict[int, ApprovalSettings]
) -> AuditText:
    recorded = AuditText(
        object=entry.object_repr,
        label=entry.field_label,
        old=entry.old_display,
        new=entry.new_display,
    )
    model = ContentType.objects.get_for_id(entry.content_type_id).model_class()
    if model is ApprovalSettings:
        settings_row = settings_rows.get(entry.object_id or 0)
        return _approval_settings_text(entry, settings_row, recorded)
    if not entry.field_name or model is None:
        return recorded
    try:
        governed = registry.get(model)
        model_field = registry.concrete_field(model, entry.field_name)
    except (registry.NotGoverned, FieldDoesNotExist):
        return recorded
    label = governed.field_label(entry.field_name)
    if isinstance(model_field, models.ForeignKey):
        return {**recorded, "label": label}
    try:
        return {
            **recorded,
            "label": label,
            "old": registry.display_value(model_field, entry.old_value),
            "new": registry.display_value(model_field, entry.new_value),
        }
    except ValidationError:
        return recorded


def _approval_settings_text(
    entry: AuditEntry, settings_row: ApprovalSettings | None, recorded: AuditText
) -> AuditText:
    governed_model = settings_row.content_type.model_class() if settings_row else None
    try:
        governed = registry.get(governed_model) if governed_model else None
    except registry.NotGoverned:
        governed = None
    if settings_row is None or governed is None:
        return recorded

    def value(raw: object) -> str:
        if entry.field_name in (
            "approvals_enabled",
            "new_records_need_approval",
        ) and isinstance(raw, bool):
            return str(_("Yes") if raw else _("No"))
        if entry.field_name == "data_entity_behavior" and isinstance(raw, str):
            return str(dict(DataEntityBehavior.choices).get(raw, ""))
        if entry.field_name == "enabled_fields" and isinstance(raw, list):
            names = [n for n in raw if n in governed.governable_field_names]
            return ", ".join(governed.field_label(n) for n in names) or _("(none)")
        return ""

    labels = {
        **SETTINGS_FIELD_LABELS,
        "approvals_enabled": governed.labels.enable_approvals,
    }
    if entry.field_name not in labels:
        return {**recorded, "object": str(settings_row)}
    return {
        "object": str(settings_row),
        "label": str(labels[entry.field_name]),
        "old": value(entry.old_value) or entry.old_display,
        "new": value(entry.new_value) or entry.new_display,
    }


def workflow_in_use(workflow: Workflow) -> bool:
    """An active workflow, or one that proposals were submitted under, stays as it is."""
    stored = (
        Workflow.objects.filter(pk=workflow.pk)
        .values_list("is_active", flat=True)
        .first()
    )
    return (
        bool(stored) or ChangeProposal.objects.filter(workflow_id=workflow.pk).exists()
    )


def workflow_versions(workflow: Workflow) -> QuerySet[Workflow]:
    return Workflow.objects.filter(series=workflow.series).order_by("-version")


def workflow_step_summaries(workflow: Workflow) -> list[dict[str, object]]:
    """Each step of a workflow in words: who, how many, when, and what if late."""
    governed = registry.governed_of(workflow.content_type)
    summaries = []
    for step in workflow.steps.select_related(
        "assigned_group", "escalate_to_user", "escalate_to_group"
    ).prefetch_related("assigned_users"):
        assignees = [str(u) for u in step.assigned_users.all()]
        if step.assigned_group:
            assignees.insert(0, str(step.assigned_group))
        if step.assignee_field:
            assignees.append(governed.field_label(step.assignee_field))
        policy = step.get_completion_policy_display()
        if step.approval_percentage and step.completion_policy == "percentage":
            policy = f"{policy} {step.approval_percentage}%"
        summaries.append(
            {
                "step": step,
                "assignees": assignees,
                "policy": policy,
                "condition": conditions.condition_text(
                    step.condition_kind,
                    step.condition_field,
                    step.condition_value,
                    governed,
                ),
                "time_limit": step.time_limit_text() if step.time_limit_value else "",
                "escalation": step.get_escalation_action_display()
                if step.escalation_action
                else "",
            }
        )
    return summaries


def latest_send_back(proposal: ChangeProposal) -> AuditEntry | None:
    """The approver's note when the proposal was last sent back for changes."""
    return _latest_entry(proposal, [AuditAction.CHANGE_REQUESTED])


def latest_rejection(proposal: ChangeProposal) -> AuditEntry | None:
    """Who rejected the proposal and why (an approver, or the system at a time limit)."""
    return _latest_entry(proposal, [AuditAction.REJECTED, AuditAction.ESCALATED])


def _latest_entry(proposal: ChangeProposal, actions: list[str]) -> AuditEntry | None:
    return (
        AuditEntry.objects.filter(proposal=proposal, action__in=actions)
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )


def active_user(user_id: object) -> User | None:
    """The active user with this id, or None (for ids that arrive in a POST)."""
    try:
        pk = int(str(user_id))
    except (TypeError, ValueError):
        return None
    return get_user_model()._default_manager.filter(pk=pk, is_active=True).first()


def proposal_audit_entries(proposal: ChangeProposal) -> QuerySet[AuditEntry]:
    return proposal.audit_entries.select_related("actor").order_by("created_at", "id")


def import_job_of(
    job_id: int, user: User, model: type[models.Model]
) -> ImportJob | None:
    """The user's own import job of `model`; nobody sees another's upload."""
    return ImportJob.objects.filter(
        pk=job_id,
        created_by=user,
        content_type=ContentType.objects.get_for_model(model),
    ).first()


def user_languages(user_ids: Iterable[int]) -> dict[int, str]:
    """The language each user last worked in; users not on record get the default."""
    return dict(
        UserLanguage.objects.filter(user_id__in=user_ids).values_list(
            "user_id", "language"
        )
    )


def users_by_ids(user_ids: Iterable[int]) -> list[User]:
    return list(
        get_user_model()._default_manager.filter(pk__in=list(user_ids)).order_by("pk")
    )


# --- What an approver reads before deciding -------------------------------------------


def _references(
    model: type[models.Model], changes: Iterable[tuple[str, Iterable[object]]]
) -> dict[str, dict[object, models.Model]]:
    """The rows that foreign key values point at, one query per related model:
    `changes` are (field name, stored values) pairs; the result maps each foreign key
    field name to its rows by primary key."""
    wanted: dict[str, set[object]] = defaultdict(set)
    for name, raws in changes:
        model_field = registry.concrete_field(model, name)
        if isinstance(model_field, models.ForeignKey):
            wanted[name].update(
                registry.deserialize_value(model_field, raw)
                for raw in raws
                if raw not in (None, "")
            )
    related_of = {name: _related_model(model, name) for name in wanted}
    by_model: dict[type[models.Model], set[object]] = defaultdict(set)
    for name, pks in wanted.items():
        by_model[related_of[name]].update(pks)
    rows = {
        related: related._default_manager.in_bulk(list(pks))
        for related, pks in by_model.items()
    }
    return {name: rows[related_of[name]] for name in wanted}


def _related_model(model: type[models.Model], name: str) -> type[models.Model]:
    related = registry.concrete_field(model, name).related_model
    # A foreign key always has its related model once the apps are loaded.
    assert isinstance(related, type)
    return related


@dataclass(frozen=True)
class ChangeLine:
    """One proposed change as a person reads it: its field, the value before and the
    value proposed, and (while it waits) the value the record holds now."""

    field_name: str
    label: str
    original: str
    proposed: str
    current: str = ""
    moved: bool = False


def attach_change_lines(items: Sequence[WorkItem]) -> None:
    """Give each work item `change_lines`, its proposal's changes as a person reads
    them, with a fixed number of queries for the whole page (the changes are
    prefetched; references are read once per related model)."""
    proposals = [item.proposal for item in items]
    by_model: dict[type[models.Model], list[ChangeProposal]] = defaultdict(list)
    for proposal in proposals:
        by_model[registry.model_of(proposal.content_type)].append(proposal)
    for model, group in by_model.items():
        governed = registry.get(model)
        references = _references(
            model,
            [
                (c.field_name, (c.original_value, c.proposed_value))
                for p in group
                for c in p.changes.all()
            ],
        )
        for proposal in group:
            lines = []
            for change in proposal.changes.all():
                model_field = registry.concrete_field(model, change.field_name)
                rows = references.get(change.field_name)
                lines.append(
                    ChangeLine(
                        field_name=change.field_name,
                        label=governed.field_label(change.field_name),
                        original=registry.display_value(
                            model_field, change.original_value, rows
                        ),
                        proposed=registry.display_value(
                            model_field, change.proposed_value, rows
                        ),
                    )
                )
            # A list for the page, hung on the instance: not a model field, so
            # django-stubs does not know it.
            proposal.change_lines = lines  # type: ignore[attr-defined]
    for item in items:
        item.change_lines = item.proposal.change_lines  # type: ignore[attr-defined]


@dataclass
class Review:
    """A pending proposal as its approver reads it before deciding: each change with
    the value the record holds now, and whether approving would end in Conflict."""

    proposal: ChangeProposal
    lines: list[ChangeLine]
    # Why the values would not be written if the proposal were approved now ("" when
    # they would): a value moved since it was proposed, or the record no longer valid.
    conflict: str = ""
    record: models.Model | None = None


def proposal_reviews(proposals: Sequence[ChangeProposal]) -> list[Review]:
    """What would become of each proposal if it were approved now, asked of the same
    function the services ask before they write (`applicability_of`). The records are
    read once per model, the references once per related model."""
    by_model: dict[type[models.Model], list[ChangeProposal]] = defaultdict(list)
    for proposal in proposals:
        by_model[registry.model_of(proposal.content_type)].append(proposal)
    reviews: dict[int, Review] = {}
    for model, group in by_model.items():
        governed = registry.get(model)
        records = model._default_manager.in_bulk([p.object_id for p in group])
        changes_of = {p.pk: list(p.changes.all()) for p in group}
        currents = {
            p.pk: {
                c.field_name: registry.current_value(
                    records[p.object_id],
                    registry.concrete_field(model, c.field_name),
                )
                for c in changes_of[p.pk]
            }
            for p in group
            if p.object_id in records
        }
        references = _references(
            model,
            [
                (
                    c.field_name,
                    (
                        c.original_value,
                        c.proposed_value,
                        currents.get(p.pk, {}).get(c.field_name),
                    ),
                )
                for p in group
                for c in changes_of[p.pk]
            ],
        )
        for proposal in group:
            record = records.get(proposal.object_id)
            found = (
                applicability_of(
                    record, changes_of[proposal.pk], creating=proposal.creates_record
                )
                if record is not None
                else None
            )
            moved = {c.field_name for c, _f, _now in found.moved} if found else set()
            lines = []
            for change in changes_of[proposal.pk]:
                model_field = registry.concrete_field(model, change.field_name)
                rows = references.get(change.field_name)
                current = currents.get(proposal.pk, {}).get(change.field_name)
                lines.append(
                    ChangeLine(
                        field_name=change.field_name,
                        label=governed.field_label(change.field_name),
                        original=registry.display_value(
                            model_field, change.original_value, rows
                        ),
                        proposed=registry.display_value(
                            model_field, change.proposed_value, rows
                        ),
                        current=registry.display_value(model_field, current, rows),
                        moved=change.field_name in moved,
                    )
                )
            conflict = ""
            if found is not None and moved:
                conflict = _(
                    "Changed since it was proposed: %(fields)s. Approved now, this "
                    "proposal would end in Conflict and nothing would be written."
                ) % {"fields": ", ".join(line.label for line in lines if line.moved)}
            elif found is not None and found.reason:
                conflict = found.reason
            reviews[proposal.pk] = Review(
                proposal=proposal, lines=lines, conflict=conflict, record=record
            )
    return [reviews[p.pk] for p in proposals]


def proposal_review(proposal: ChangeProposal) -> Review:
    (review,) = proposal_reviews([proposal])
    return review


# --- What happened in the meantime ----------------------------------------------------

# The events that take a pending proposal (or a person's work item) out of someone's
# hands, each as the sentence that tells them so.
_DECISION_NEWS = {
    AuditAction.APPROVED: gettext_lazy("Approved by %(user)s at %(when)s."),
    AuditAction.REJECTED: gettext_lazy("Rejected by %(user)s at %(when)s."),
    AuditAction.CHANGE_REQUESTED: gettext_lazy(
        "Sent back for changes by %(user)s at %(when)s."
    ),
    AuditAction.RECALLED: gettext_lazy("Recalled by %(user)s at %(when)s."),
    AuditAction.DELEGATED: gettext_lazy("Delegated to %(to)s by %(user)s at %(when)s."),
    AuditAction.REASSIGNED: gettext_lazy(
        "Reassigned to %(to)s by %(user)s at %(when)s."
    ),
    AuditAction.ESCALATED: gettext_lazy("Escalated by the system at %(when)s."),
}


def moment_text(moment: datetime.datetime) -> str:
    """ "10:13" today, the date and time on another day."""
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return date_format(local, "H:i")
    return date_format(local, "SHORT_DATETIME_FORMAT")


def person_name(user: User | None, username: str) -> str:
    if user is None:
        return username
    return user.get_full_name() or user.get_username()


def decided_meanwhile(
    proposal: ChangeProposal, since: datetime.datetime | None
) -> str | None:
    """What decided the proposal (or moved it on) after `since`, the moment a person
    opened its decision page, as a sentence: "Approved by Anna at 10:13."; None when
    nothing did."""
    if since is None:
        return None
    entry = (
        AuditEntry.objects.filter(
            proposal=proposal, action__in=list(_DECISION_NEWS), created_at__gt=since
        )
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )
    if entry is None:
        return None
    return _DECISION_NEWS[AuditAction(entry.action)] % {
        "user": person_name(entry.actor, entry.actor_name),
        "when": moment_text(entry.created_at),
        "to": entry.new_display,
    }


@dataclass(frozen=True)
class ClashRow:
    """A field two people changed at once: what this person typed, what the other
    stored in the meantime, who and when."""

    field_name: str
    label: str
    mine: str
    theirs: str
    by: str
    at: str


def clash_rows(
    instance: models.Model, clashes: Iterable[tuple[str, object, object]]
) -> list[ClashRow]:
    """`clashes` are (field name, my value, their value) in stored form."""
    clashes = list(clashes)
    model = type(instance)
    governed = registry.get(model)
    references = _references(
        model, [(name, (mine, theirs)) for name, mine, theirs in clashes]
    )
    latest: dict[str, AuditEntry] = {}
    for entry in (
        audit_entries_for(instance)
        .filter(
            action=AuditAction.FIELD_CHANGED,
            field_name__in=[name for name, _mine, _theirs in clashes],
        )
        .order_by("-created_at", "-id")
    ):
        latest.setdefault(entry.field_name, entry)
    rows = []
    for name, mine, theirs in clashes:
        model_field = registry.concrete_field(model, name)
        last = latest.get(name)
        rows.append(
            ClashRow(
                field_name=name,
                label=governed.field_label(name),
                mine=registry.display_value(model_field, mine, references.get(name)),
                theirs=registry.display_value(
                    model_field, theirs, references.get(name)
                ),
                by=person_name(last.actor, last.actor_name) if last else "",
                at=moment_text(last.created_at) if last else "",
            )
        )
    return rows


def approvals_of(proposal_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
    """Who approved each proposal in its last round, and their comment, in order."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for item in (
        WorkItem.objects.filter(
            proposal_id__in=list(proposal_ids), state=WorkItemState.APPROVED
        )
        .select_related("assignee", "proposal")
        .order_by("decided_at", "id")
    ):
        if item.submission_round == item.proposal.submission_round:
            found[item.proposal_id].append(
                (person_name(item.assignee, ""), item.comment)
            )
    return dict(found)
