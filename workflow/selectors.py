"""Reads of the approval engine, with their related rows already joined."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypedDict

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import registry
from .core import actions, changes, conditions
from .core.permissions import DECIDE_PERMISSION
from .core.refusals import Refusal
from .core.separation import ExclusionReason, exclusions
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
    UserLanguage,
    Workflow,
    WorkflowStep,
    WorkItem,
    WorkItemState,
)
from .selectors_facts import actor_facts, candidate_facts, proposal_facts

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
        texts = []
        for reason in reasons:
            if reason.reason == ExclusionReason.PROPOSED:
                texts.append(
                    _("proposed or withdrew %(field)s")
                    % {"field": governed.field_label(reason.field_name)}
                    if reason.field_name
                    else _("started the proposal")
                )
            elif reason.reason == ExclusionReason.SUBMITTED:
                texts.append(
                    _("submitted it (round %(round)s)")
                    % {"round": reason.submission_round}
                )
            else:
                texts.append(
                    _("decided step %(step)s") % {"step": reason.step_sequence}
                )
        rows.append({"user": user, "reasons": list(dict.fromkeys(texts))})
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
    return WorkItem.objects.filter(
        assignee=user, state=WorkItemState.OPEN, proposal__state=ProposalState.PENDING
    )[: cap + 1].count()


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
        if entry.field_name == "approvals_enabled" and isinstance(raw, bool):
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
