"""Approval settings, workflow definitions, change proposals, work items and the audit trail.

Nothing here names a governed model: proposals and audit rows point at their object
through the content type framework, so vendors fit beside customers unchanged.
"""

from __future__ import annotations

import datetime
import uuid
from datetime import timedelta
from typing import NamedTuple

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from . import registry
from .core import lifecycle
from .core.bank import CallbackOutcome, StepKind
from .core.conditions import ConditionKind, condition_errors, condition_text


class Source(models.TextChoices):
    BROWSER = "browser", _("Browser")
    IMPORT = "import", _("Import")
    # An import run from the shell (manage.py import_customers), not the Import page.
    COMMAND = "command", _("Command line")
    SYSTEM = "system", _("System")
    # A system (or a person) calling the REST API; its audit rows name the token.
    API = "api", _("API")


# The key of an audit row's `comment_translations` that names the API token that
# wrote it: no language has it, so each reader's comment is unchanged.
API_TOKEN_KEY = "api_token"


class DataEntityBehavior(models.TextChoices):
    ALLOW = "allow", _("Allow changes without approval")
    REJECT = "reject", _("Reject changes")
    PROPOSE = "propose", _("Create change proposals")


class ApprovalSettings(models.Model):
    content_type = models.OneToOneField(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("model")
    )
    approvals_enabled = models.BooleanField(_("enable approvals"), default=False)
    data_entity_behavior = models.CharField(
        _("data entity behavior"),
        max_length=20,
        choices=DataEntityBehavior.choices,
        default=DataEntityBehavior.ALLOW,
    )
    enabled_fields = models.JSONField(
        _("fields that need approval"), default=list, blank=True
    )
    new_records_need_approval = models.BooleanField(
        _("new records wait for approval"),
        default=False,
        help_text=_(
            "A new record is “Awaiting approval”, not active, until the workflow "
            "approves its creation; a rejected one stays inactive until it is edited "
            "and submitted again, or deleted."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("approval parameters")
        verbose_name_plural = _("approval parameters")

    def __str__(self) -> str:
        model = self.content_type.model_class()
        name = model._meta.verbose_name if model else self.content_type.model
        return str(_("Approval parameters for %(model)s") % {"model": name})


class Workflow(models.Model):
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("model")
    )
    name = models.CharField(_("name"), max_length=100)
    series = models.UUIDField(
        _("series"),
        default=uuid.uuid4,
        editable=False,
        help_text=_("The versions of one workflow share a series."),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    is_active = models.BooleanField(_("active"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    justification_required = models.BooleanField(
        _("justification required"),
        default=False,
        help_text=_(
            "Whoever submits changes must say why; approvers read it beside the changes."
        ),
    )

    class Meta:
        verbose_name = _("workflow")
        verbose_name_plural = _("workflows")
        ordering = ["content_type", "-is_active", "name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type"],
                condition=Q(is_active=True),
                name="workflow_one_active_per_model",
            ),
            models.UniqueConstraint(
                fields=["series", "version"], name="workflow_unique_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


def _governed_model_of(part: models.Model) -> registry.GovernedModel | None:
    """The governed model of a step or rule, also while its workflow is still unsaved."""
    try:
        workflow = part.workflow
    except Workflow.DoesNotExist:
        return None
    if workflow is None or workflow.content_type_id is None:
        return None
    return registry.get(workflow.content_type.model_class())


class TimeUnit(models.TextChoices):
    HOURS = "hours", _("hours")
    DAYS = "days", _("days")


class EscalationAction(models.TextChoices):
    NONE = "", _("Nothing (the work item shows as overdue)")
    REASSIGN = "reassign", _("Reassign to the escalation user or group")
    APPROVE = "approve", _("Approve automatically")
    REJECT = "reject", _("Reject automatically")


class CompletionPolicy(models.TextChoices):
    SINGLE = "single", _("Single approver")
    MAJORITY = "majority", _("Majority")
    PERCENTAGE = "percentage", _("Percentage")
    ALL = "all", _("All approvers")


class StepKindChoices(models.TextChoices):
    APPROVAL = StepKind.APPROVAL, _("Approval")
    CALLBACK = StepKind.CALLBACK, _("Call-back verification")


class WorkflowStep(models.Model):
    workflow = models.ForeignKey(
        Workflow,
        on_delete=models.CASCADE,
        related_name="steps",
        verbose_name=_("workflow"),
    )
    sequence = models.PositiveSmallIntegerField(_("sequence"), default=1)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(
        _("kind of step"),
        max_length=20,
        choices=StepKindChoices.choices,
        default=StepKindChoices.APPROVAL,
        help_text=_(
            "A call-back verification is decided by calling the customer back on a "
            "number it had before the change, and recording the call."
        ),
    )
    assigned_group = models.ForeignKey(
        Group,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned group"),
    )
    assigned_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        verbose_name=_("assigned users"),
    )
    completion_policy = models.CharField(
        _("completion policy"),
        max_length=20,
        choices=CompletionPolicy.choices,
        default=CompletionPolicy.SINGLE,
    )
    approval_percentage = models.PositiveSmallIntegerField(
        _("approval percentage"),
        null=True,
        blank=True,
        help_text=_("Only for the Percentage policy: 1 to 100."),
    )
    assignee_field = models.CharField(
        _("assignee from the record"),
        max_length=100,
        blank=True,
        help_text=_("A user field of the record, such as its account manager."),
    )
    condition_kind = models.CharField(
        _("applies when"),
        max_length=20,
        choices=ConditionKind.choices,
        default=ConditionKind.ALWAYS,
        blank=True,
    )
    condition_field = models.CharField(_("condition field"), max_length=100, blank=True)
    condition_value = models.DecimalField(
        _("condition value"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    time_limit_value = models.PositiveIntegerField(
        _("time limit"), null=True, blank=True
    )
    time_limit_unit = models.CharField(
        _("time limit unit"),
        max_length=10,
        choices=TimeUnit.choices,
        default=TimeUnit.HOURS,
    )
    escalation_action = models.CharField(
        _("when the time limit passes"),
        max_length=20,
        choices=EscalationAction.choices,
        default=EscalationAction.NONE,
        blank=True,
    )
    escalate_to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("escalate to user"),
    )
    escalate_to_group = models.ForeignKey(
        Group,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("escalate to group"),
    )

    class Meta:
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")
        ordering = ["workflow", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "sequence"], name="workflowstep_unique_sequence"
            ),
            models.CheckConstraint(
                condition=Q(approval_percentage__isnull=True)
                | Q(approval_percentage__gte=1, approval_percentage__lte=100),
                name="workflowstep_percentage_1_to_100",
                violation_error_message=_(
                    "The approval percentage must be from 1 to 100."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sequence}. {self.name}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        governed = _governed_model_of(self)
        if governed is not None:
            if (
                self.condition_field
                and self.condition_field not in governed.governable_field_names
            ):
                errors["condition_field"] = _("Choose one of the listed fields.")
            else:
                errors.update(
                    condition_errors(
                        self.condition_kind,
                        self.condition_field,
                        self.condition_value,
                        governed,
                    )
                )
            user_fields = dict(governed.assignee_field_choices())
            if self.assignee_field and self.assignee_field not in user_fields:
                errors["assignee_field"] = _("Choose one of the listed fields.")
        if (
            self.completion_policy == CompletionPolicy.PERCENTAGE
            and not self.approval_percentage
        ):
            errors["approval_percentage"] = _(
                "Give the percentage of approvers needed, from 1 to 100."
            )
        if self.escalation_action and not self.time_limit_value:
            errors["time_limit_value"] = _(
                "Give a time limit, or choose to do nothing when it passes."
            )
        if (
            self.escalation_action == EscalationAction.REASSIGN
            and not self.escalate_to_user_id
            and not self.escalate_to_group_id
        ):
            errors["escalate_to_user"] = _("Choose the user or group to escalate to.")
        if (
            self.kind == StepKindChoices.CALLBACK
            and self.escalation_action == EscalationAction.APPROVE
        ):
            errors["escalation_action"] = _(
                "Nobody calls back when the system approves: a call-back verification "
                "may be reassigned or rejected at its time limit, not approved."
            )
        if errors:
            raise ValidationError(errors)

    def time_limit_text(self) -> str:
        """The time limit as a person reads it: "1 day", "36 hours"."""
        count = self.time_limit_value or 0
        if self.time_limit_unit == TimeUnit.DAYS:
            text = ngettext("%(count)d day", "%(count)d days", count)
        else:
            text = ngettext("%(count)d hour", "%(count)d hours", count)
        return text % {"count": count}

    @property
    def time_limit(self) -> timedelta | None:
        if not self.time_limit_value:
            return None
        if self.time_limit_unit == TimeUnit.DAYS:
            return timedelta(days=self.time_limit_value)
        return timedelta(hours=self.time_limit_value)


class AutoApprovalRule(models.Model):
    """A change that matches a rule needs no approval (a credit limit decrease, say)."""

    workflow = models.ForeignKey(
        Workflow,
        on_delete=models.CASCADE,
        related_name="auto_approval_rules",
        verbose_name=_("workflow"),
    )
    field_name = models.CharField(_("field"), max_length=100)
    kind = models.CharField(
        _("needs no approval when"),
        max_length=20,
        choices=[c for c in ConditionKind.choices if c[0]],
    )
    value = models.DecimalField(
        _("value"), max_digits=18, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("automatic approval rule")
        verbose_name_plural = _("automatic approval rules")
        ordering = ["workflow", "id"]

    def __str__(self) -> str:
        governed = _governed_model_of(self)
        if (
            governed is None
            or self.field_name not in governed.governable_field_names
            or self.kind not in ConditionKind.values
        ):
            return f"{self.field_name} {self.kind} {self.value or ''}".strip()
        # "Credit limit: the value decreases", as the workflow's summary says it.
        return condition_text(self.kind, self.field_name, self.value, governed)

    def clean(self) -> None:
        governed = _governed_model_of(self)
        if governed is None:
            return
        if self.field_name not in governed.governable_field_names:
            raise ValidationError({"field_name": _("Choose one of the listed fields.")})
        errors = condition_errors(self.kind, self.field_name, self.value, governed)
        renamed = {
            "condition_kind": "kind",
            "condition_field": "field_name",
            "condition_value": "value",
        }
        if errors:
            raise ValidationError({renamed[k]: v for k, v in errors.items()})


class ProposalState(models.TextChoices):
    DRAFT = "draft", _("Changes not submitted")
    PENDING = "pending", _("Changes pending approval")
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected")
    CONFLICT = "conflict", _("Conflict")
    DISCARDED = "discarded", _("Discarded")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    # Proposals recalled before recall returned them to their submitter as drafts.
    RECALLED = "recalled", _("Recalled")


OPEN_PROPOSAL_STATES = tuple(ProposalState(s) for s in lifecycle.OPEN)
EDITABLE_PROPOSAL_STATES = tuple(ProposalState(s) for s in lifecycle.EDITABLE)


# What the dashboard's tallies count a proposal by (workflow/services/tallies.py).
TALLY_FIELDS = ("state", "created_at", "submitted_at", "closed_at")


class TallyFacts(NamedTuple):
    state: str
    created_at: datetime.datetime
    submitted_at: datetime.datetime | None
    closed_at: datetime.datetime | None


class ChangeProposal(ConcurrentTransitionMixin, models.Model):
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("model")
    )
    object_id = models.PositiveBigIntegerField(_("object id"))
    governed_object = GenericForeignKey("content_type", "object_id")
    object_repr = models.CharField(_("object"), max_length=200)
    state = FSMField(
        _("status"),
        max_length=20,
        choices=ProposalState.choices,
        default=ProposalState.DRAFT,
        protected=True,
    )
    source = models.CharField(
        _("source"), max_length=20, choices=Source.choices, default=Source.BROWSER
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    workflow = models.ForeignKey(
        Workflow,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
        verbose_name=_("workflow"),
    )
    current_step = models.ForeignKey(
        WorkflowStep,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current step"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    submission_round = models.PositiveSmallIntegerField(
        _("submission round"), default=0
    )
    justification = models.TextField(_("justification"), blank=True)
    # A creation proposal: its record waits for it to be approved before it is active,
    # and its changes hold the values the record was created with (old values empty).
    creates_record = models.BooleanField(
        _("creates the record"), default=False, db_default=False
    )

    class Meta:
        verbose_name = _("change proposal")
        verbose_name_plural = _("change proposals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=Q(state__in=list(lifecycle.OPEN)),
                name="changeproposal_one_open_per_object",
                violation_error_message=_(
                    "This record already has an open change proposal."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id", "-created_at"]),
            # The dashboard counts open proposals and those closed lately, by state.
            models.Index(fields=["state", "closed_at"]),
            # A list of records filtered by approval status joins on this (index only).
            models.Index(
                fields=["content_type", "state", "object_id"],
                name="changeproposal_status_idx",
            ),
        ]
        permissions = [
            ("submit_changeproposal", _("Can submit change proposals")),
            ("reassign_workitem", _("Can reassign work items of others")),
            ("export_changeproposal", _("Can export change proposals")),
        ]

    def __str__(self) -> str:
        return str(
            _("Proposal %(id)s for %(object)s")
            % {"id": self.pk, "object": self.object_repr}
        )

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_PROPOSAL_STATES

    @classmethod
    def from_db(cls, db, field_names, values):
        """Keep what the dashboard's tallies count this proposal as, so that the
        services can move its count when they save a transition."""
        instance = super().from_db(db, field_names, values)
        instance._tallied = instance.tally_facts()
        return instance

    def refresh_from_db(self, using=None, fields=None, from_queryset=None) -> None:
        """A proposal read again is counted as it now stands (see `from_db`)."""
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        self._tallied = self.tally_facts()

    def tally_facts(self) -> TallyFacts | None:
        """The fields the dashboard's tallies count by; None when some were not read."""
        loaded = self.__dict__
        if any(name not in loaded for name in TALLY_FIELDS):
            return None
        return TallyFacts(
            state=self.state,
            created_at=self.created_at,
            submitted_at=self.submitted_at,
            closed_at=self.closed_at,
        )

    @transition(
        field=state,
        source=[ProposalState.DRAFT, ProposalState.CHANGES_REQUESTED],
        target=ProposalState.PENDING,
    )
    def submit(self, *, by, workflow: Workflow, justification: str = "") -> None:
        self.submitted_by = by
        self.justification = justification
        self.submitted_at = timezone.now()
        self.workflow = workflow
        self.current_step = None
        self.submission_round += 1

    @transition(field=state, source=ProposalState.PENDING, target=ProposalState.PENDING)
    def advance(self, *, next_step: WorkflowStep) -> None:
        self.current_step = next_step

    @transition(
        field=state,
        source=ProposalState.PENDING,
        target=ProposalState.CHANGES_REQUESTED,
    )
    def request_change(self) -> None:
        self.current_step = None

    @transition(field=state, source=ProposalState.PENDING, target=ProposalState.DRAFT)
    def recall(self) -> None:
        # Back to the submitter as a draft, with its values: nothing is lost.
        self.current_step = None

    @transition(
        field=state,
        source=[ProposalState.DRAFT, ProposalState.CHANGES_REQUESTED],
        target=ProposalState.DISCARDED,
    )
    def discard(self) -> None:
        self.closed_at = timezone.now()

    @transition(field=state, source=ProposalState.PENDING, target=ProposalState.APPLIED)
    def apply(self) -> None:
        self.closed_at = timezone.now()

    @transition(
        field=state, source=ProposalState.PENDING, target=ProposalState.CONFLICT
    )
    def mark_conflict(self) -> None:
        self.closed_at = timezone.now()

    @transition(
        field=state, source=ProposalState.PENDING, target=ProposalState.REJECTED
    )
    def reject(self) -> None:
        self.closed_at = timezone.now()


class ProposedChange(models.Model):
    proposal = models.ForeignKey(
        ChangeProposal,
        on_delete=models.CASCADE,
        related_name="changes",
        verbose_name=_("proposal"),
    )
    field_name = models.CharField(_("field"), max_length=100)
    original_value = models.JSONField(_("original value"), null=True, blank=True)
    proposed_value = models.JSONField(_("proposed value"), null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)

    class Meta:
        verbose_name = _("proposed change")
        verbose_name_plural = _("proposed changes")
        ordering = ["proposal", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "field_name"], name="proposedchange_one_per_field"
            ),
        ]
        # The dashboard's most changed fields of the last 30 days.
        indexes = [models.Index(fields=["proposed_at"])]

    def __str__(self) -> str:
        return self.field_name


class WorkItemState(models.TextChoices):
    OPEN = "open", _("Open")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CLOSED = "closed", _("Closed")
    DELEGATED = "delegated", _("Delegated")
    REASSIGNED = "reassigned", _("Reassigned")
    ESCALATED = "escalated", _("Escalated")
    SENT_BACK = "sent_back", _("Sent back for changes")


class WorkItem(ConcurrentTransitionMixin, models.Model):
    proposal = models.ForeignKey(
        ChangeProposal,
        on_delete=models.CASCADE,
        related_name="work_items",
        verbose_name=_("proposal"),
    )
    step = models.ForeignKey(
        WorkflowStep, on_delete=models.PROTECT, related_name="+", verbose_name=_("step")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="work_items",
        verbose_name=_("assigned to"),
    )
    state = FSMField(
        _("status"),
        max_length=20,
        choices=WorkItemState.choices,
        default=WorkItemState.OPEN,
        protected=True,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    submission_round = models.PositiveSmallIntegerField(
        _("submission round"), default=1
    )
    handed_over_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handed over to"),
    )

    class Meta:
        verbose_name = _("work item")
        verbose_name_plural = _("my work items")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "step", "assignee"],
                condition=Q(state="open"),
                name="workitem_one_open_per_assignee",
            ),
        ]
        indexes = [
            models.Index(fields=["assignee", "state", "created_at"]),
            models.Index(fields=["state", "due_at"]),
        ]
        permissions = [("decide_workitem", _("Can approve or reject work items"))]

    def __str__(self) -> str:
        return str(
            _("%(step)s for %(object)s")
            % {"step": self.step.name, "object": self.proposal.object_repr}
        )

    @transition(
        field=state,
        source=WorkItemState.OPEN,
        target=WorkItemState.APPROVED,
    )
    def approve(self, *, comment: str) -> None:
        self.comment = comment
        self.decided_at = timezone.now()

    @transition(
        field=state,
        source=WorkItemState.OPEN,
        target=WorkItemState.REJECTED,
    )
    def reject(self, *, comment: str) -> None:
        self.comment = comment
        self.decided_at = timezone.now()

    @transition(
        field=state,
        source=WorkItemState.OPEN,
        target=WorkItemState.SENT_BACK,
    )
    def send_back(self, *, comment: str) -> None:
        self.comment = comment
        self.decided_at = timezone.now()

    @transition(field=state, source=WorkItemState.OPEN, target=WorkItemState.CLOSED)
    def close(self) -> None:
        self.decided_at = timezone.now()

    @transition(field=state, source=WorkItemState.OPEN, target=WorkItemState.DELEGATED)
    def delegate(self, *, to, comment: str) -> None:
        self.handed_over_to = to
        self.comment = comment
        self.decided_at = timezone.now()

    @transition(field=state, source=WorkItemState.OPEN, target=WorkItemState.REASSIGNED)
    def reassign(self, *, to, comment: str) -> None:
        self.handed_over_to = to
        self.comment = comment
        self.decided_at = timezone.now()

    @transition(field=state, source=WorkItemState.OPEN, target=WorkItemState.ESCALATED)
    def escalate(self) -> None:
        self.decided_at = timezone.now()


class AuditAction(models.TextChoices):
    CREATED = "created", _("Created")
    DELETED = "deleted", _("Deleted")
    FIELD_CHANGED = "field_changed", _("Field changed")
    FIELD_PROPOSED = "field_proposed", _("Change proposed")
    FIELD_DISCARDED = "field_discarded", _("Proposed change discarded")
    PROPOSAL_DISCARDED = "proposal_discarded", _("All proposed changes discarded")
    SUBMITTED = "submitted", _("Submitted for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    APPLIED = "applied", _("Applied")
    CONFLICT = "conflict", _("Conflict")
    SETTINGS_CHANGED = "settings_changed", _("Approval parameters changed")
    WORKFLOW_CHANGED = "workflow_changed", _("Workflow changed")
    WORKFLOW_ACTIVATED = "workflow_activated", _("Workflow activated")
    CHANGE_REQUESTED = "change_requested", _("Sent back for changes")
    RESUBMITTED = "resubmitted", _("Resubmitted")
    RECALLED = "recalled", _("Recalled")
    DELEGATED = "delegated", _("Delegated")
    REASSIGNED = "reassigned", _("Reassigned")
    ESCALATED = "escalated", _("Escalated")
    STEP_SKIPPED = "step_skipped", _("Step skipped")
    STEP_STARTED = "step_started", _("Step started")
    AUTO_APPROVED = "auto_approved", _("Approved automatically")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    GROUPS_CHANGED = "groups_changed", _("Groups changed")
    PERMISSIONS_CHANGED = "permissions_changed", _("Permissions changed")
    SIGN_IN_PAUSE_LIFTED = "sign_in_pause_lifted", _("Sign-in pause lifted")
    EMAIL_SENT_AGAIN = "email_sent_again", _("E-mail sent again")
    RECORD_ACTIVATED = "record_activated", _("Creation approved: active")
    RECORD_REJECTED = "record_rejected", _("Creation rejected: not active")
    RECORD_AWAITING = "record_awaiting", _("Awaiting approval")


class AuditEntry(models.Model):
    """One row per thing that happened; rows are written once and never changed."""

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    # The audit trail's references are checked by PostgreSQL once per statement, not
    # once per row (see migration 0024): no foreign-key constraints of their own.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
        db_constraint=False,
    )
    actor_name = models.CharField(_("who"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=AuditAction.choices)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("model"),
        # The index on (content_type, object_id, created_at) serves these lookups; a
        # second index would only slow down every audit row written.
        db_index=False,
        db_constraint=False,
    )
    object_id = models.PositiveBigIntegerField(_("object id"), null=True, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    proposal = models.ForeignKey(
        ChangeProposal,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
        verbose_name=_("proposal"),
        db_constraint=False,
    )
    field_name = models.CharField(_("field"), max_length=100, blank=True)
    field_label = models.CharField(_("field"), max_length=200, blank=True)
    old_value = models.JSONField(_("original value"), null=True, blank=True)
    new_value = models.JSONField(_("new value"), null=True, blank=True)
    old_display = models.TextField(_("original value"), blank=True)
    new_display = models.TextField(_("new value"), blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # A comment the system wrote, in every language of the site, so that each reader
    # reads it in theirs; `comment` holds it in the language it was written in.
    comment_translations = models.JSONField(
        _("comment in each language"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()}"

    def save(self, *args, **kwargs) -> None:
        # Append-only: PostgreSQL refuses UPDATE and DELETE by trigger as well.
        if not self._state.adding:
            raise AuditEntryImmutable(_("Audit entries cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEntryImmutable(_("Audit entries cannot be deleted."))

    def comment_for_reader(self) -> str:
        """The comment in the reader's language when the system wrote it, else as typed."""
        translations = self.comment_translations or {}
        return translations.get(translation.get_language() or "", self.comment)


class AuditEntryImmutable(Exception):
    pass


class AuditReport(AuditEntry):
    """The auditors' reports on the audit trail (change log, reconciliation, segregation
    of duties, access review): a proxy, so that their page has a place in the admin and
    a permission of its own."""

    class Meta:
        proxy = True
        verbose_name = _("audit report")
        verbose_name_plural = _("audit reports")
        default_permissions = ()
        permissions = [("view_reports", _("Can view and export the audit reports"))]


class ImportJobState(models.TextChoices):
    PREVIEWING = "previewing", _("Checking the file")
    PREVIEWED = "previewed", _("Ready to import")
    INVALID = "invalid", _("The file has errors")
    QUEUED = "queued", _("Waiting to import")
    APPLYING = "applying", _("Importing")
    APPLIED = "applied", _("Imported")
    FAILED = "failed", _("Not imported")


class ImportJob(ConcurrentTransitionMixin, models.Model):
    """One uploaded file: its preview, and its import once confirmed."""

    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("model")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    options = models.JSONField(_("options"), default=dict)
    state = FSMField(
        _("status"),
        max_length=20,
        choices=ImportJobState.choices,
        default=ImportJobState.PREVIEWING,
        protected=True,
    )
    estimated_rows = models.PositiveIntegerField(_("rows (estimate)"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows done"), default=0)
    preview = models.JSONField(_("preview"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # The last sign of life of the check or import working on the file: the worker
    # renews it while it works, so a job whose worker died is told from a slow one.
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    interruptions = models.PositiveSmallIntegerField(
        _("times stopped without finishing"), default=0
    )

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        permissions = [("import_records", _("Can import files of records"))]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_state_display()})"

    @transition(
        field=state,
        source=ImportJobState.PREVIEWING,
        target=RETURN_VALUE(ImportJobState.PREVIEWED, ImportJobState.INVALID),
    )
    def finish_preview(self, *, report: dict) -> str:
        self.preview = report
        self.message = ""
        self.heartbeat_at = timezone.now()
        ok = not report.get("refused") and not report.get("error_count")
        if not ok:
            self.finished_at = self.heartbeat_at
        return ImportJobState.PREVIEWED if ok else ImportJobState.INVALID

    @transition(
        field=state, source=ImportJobState.PREVIEWED, target=ImportJobState.QUEUED
    )
    def queue(self) -> None:
        self.processed_rows = 0
        self.message = ""

    @transition(
        field=state, source=ImportJobState.QUEUED, target=ImportJobState.APPLYING
    )
    def start(self) -> None:
        self.processed_rows = 0
        self.heartbeat_at = timezone.now()

    @transition(
        field=state,
        source=[ImportJobState.PREVIEWING, ImportJobState.APPLYING],
        target=RETURN_VALUE(
            ImportJobState.PREVIEWING, ImportJobState.PREVIEWED, ImportJobState.FAILED
        ),
    )
    def expire_lease(self, *, message: str, final: bool, at) -> str:
        """Its worker gave no sign of life for longer than the lease: it died.

        A check starts again (it writes nothing); an import is offered for
        confirming again (it was all or nothing, so nothing was written); `final`
        ends the job instead, for a file that stopped its worker too often.
        """
        self.interruptions += 1
        self.message = message
        self.processed_rows = 0
        if final:
            self.finished_at = at
            return ImportJobState.FAILED
        if self.state == ImportJobState.PREVIEWING:
            # Waiting for a worker again: no sign of life is due until one starts.
            self.heartbeat_at = None
            return ImportJobState.PREVIEWING
        return ImportJobState.PREVIEWED

    @transition(
        field=state, source=ImportJobState.PREVIEWED, target=ImportJobState.FAILED
    )
    def abandon(self, *, message: str, at) -> None:
        """A preview nobody confirmed in time; its file goes after the retention."""
        self.message = message
        self.finished_at = at

    @transition(
        field=state,
        source=ImportJobState.APPLYING,
        target=RETURN_VALUE(ImportJobState.APPLIED, ImportJobState.FAILED),
    )
    def finish(self, *, report: dict, message: str = "") -> str:
        self.result = report
        self.message = message
        self.finished_at = timezone.now()
        ok = not report.get("refused") and not report.get("error_count") and not message
        return ImportJobState.APPLIED if ok else ImportJobState.FAILED


class UserLanguage(models.Model):
    """The language a user last worked in, so that e-mails reach them in it too."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    language = models.CharField(_("language"), max_length=10)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("user language")
        verbose_name_plural = _("user languages")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.language}"


class PausedSignIn(AccessAttempt):
    """django-axes' failed sign-ins, seen as the pauses they cause.

    A proxy, so that the administrators' page and its permissions have names of this
    project; the rows stay django-axes' own and only `services.lockouts` deletes them.
    """

    class Meta:
        proxy = True
        verbose_name = _("paused sign-in")
        verbose_name_plural = _("paused sign-ins")
        default_permissions = ("view",)
        permissions = [("lift_pausedsignin", _("Can lift paused sign-ins"))]


class ProcessHeartbeat(models.Model):
    """A background process's last sign of life (a task worker, the escalation loop, the
    upkeep of import jobs), one row per process, so that /health/ can tell whether each
    kind still runs somewhere. Written by `services.heartbeats` only."""

    process = models.CharField(_("process"), max_length=20)
    name = models.CharField(_("name"), max_length=150, unique=True)
    started_at = models.DateTimeField(_("started"))
    beat_at = models.DateTimeField(_("last sign of life"))
    late_at = models.DateTimeField(_("late from"), db_index=True)

    class Meta:
        verbose_name = _("process heartbeat")
        verbose_name_plural = _("process heartbeats")

    def __str__(self) -> str:
        return f"{self.process} {self.name}"


class ChainBreak(models.TextChoices):
    """What a verification of the audit trail's hash chain found broken first."""

    ROW_CHANGED = "row_changed", _("row changed")
    ROW_MISSING = "row_missing", _("row deleted")
    ROWS_REORDERED = "rows_reordered", _("rows reordered")
    ROW_APPEARED = "row_appeared", _("row added afterwards")
    SEAL_ALTERED = "seal_altered", _("seal changed")
    SEAL_BROKEN = "seal_broken", _("seal removed or out of order")
    SEAL_OTHER_KEY = "seal_other_key", _("sealed with another key")
    HEAD_LOST = "head_lost", _("end of the chain lost")


class AuditSeal(models.Model):
    """One block of the audit trail's hash chain: the rows `first_id`..`last_id` as they
    were when sealed. Written once by `services.audit_chain`, never changed (the
    design is in `workflow.audit_chain`)."""

    first_id = models.BigIntegerField(_("first row"), unique=True)
    last_id = models.BigIntegerField(_("last row"))
    # Ranges [first, last] of ids in the block that no committed row holds (the
    # sequence values of rolled-back transactions): proven final before sealing.
    never_committed = models.JSONField(_("ids without a row"), default=list, blank=True)
    # The digest of each row present in the block, in id order, 32 bytes each.
    row_digests = models.BinaryField(_("row digests"))
    previous_link = models.CharField(_("previous link"), max_length=64)
    link = models.CharField(_("link"), max_length=64)
    # Which key made the digests and links ("" for plain SHA-256, no key).
    key_id = models.CharField(_("key"), max_length=16, blank=True)
    scheme = models.PositiveSmallIntegerField(_("scheme"), default=1)
    sealed_at = models.DateTimeField(_("sealed at"), default=timezone.now)

    class Meta:
        verbose_name = _("audit seal")
        verbose_name_plural = _("audit seals")
        ordering = ["first_id"]
        default_permissions = ()
        constraints = [
            models.CheckConstraint(
                condition=Q(last_id__gte=models.F("first_id")),
                name="auditseal_range_not_empty",
            )
        ]

    def __str__(self) -> str:
        return f"{self.pk}: {self.first_id}–{self.last_id}"


class AuditVerification(models.Model):
    """One run of the audit trail's verification and what it found; written once."""

    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("verified at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    actor_name = models.CharField(_("verified by"), max_length=150, blank=True)
    intact = models.BooleanField(_("intact"))
    seals_checked = models.PositiveIntegerField(_("seals checked"), default=0)
    rows_checked = models.PositiveBigIntegerField(_("rows checked"), default=0)
    # The end of the chain as verified: the last row sealed and the link there.
    sealed_up_to = models.BigIntegerField(_("sealed up to row"), null=True, blank=True)
    head_link = models.CharField(_("link at the end"), max_length=64, blank=True)
    unsealed_rows = models.PositiveBigIntegerField(_("rows not sealed yet"), default=0)
    break_kind = models.CharField(
        _("broken link"), max_length=20, choices=ChainBreak.choices, blank=True
    )
    break_seal = models.BigIntegerField(_("seal"), null=True, blank=True)
    break_row = models.BigIntegerField(_("row"), null=True, blank=True)
    break_other_row = models.BigIntegerField(_("other row"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit trail verification")
        verbose_name_plural = _("audit trail verifications")
        ordering = ["-finished_at", "-id"]
        default_permissions = ("view",)
        permissions = [("run_auditverification", _("Can verify the audit trail"))]

    def __str__(self) -> str:
        return f"{self.finished_at:%Y-%m-%d %H:%M} {self.intact}"


class OutboxEvent(models.TextChoices):
    """What an e-mail tells its reader; the templates choose their words by it."""

    ASSIGNED = "assigned", _("Approval needed")
    ESCALATED = "escalated", _("Escalated")
    APPLIED = "applied", _("Approved and applied")
    REJECTED = "rejected", _("Rejected")
    SENT_BACK = "sent_back", _("Sent back for changes")
    CONFLICT = "conflict", _("Conflict")
    RECALLED = "recalled", _("Recalled")


class OutboxState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(ConcurrentTransitionMixin, models.Model):
    """One e-mail to one person, written in the transaction of the decision it tells
    about and sent by the outbox afterwards (`workflow.outbox`).

    About one proposal (`proposal`) or, as a digest, about many (`proposal_ids`). Its
    text is made when it is sent, in the language the recipient then works in.
    """

    event = models.CharField(_("message"), max_length=20, choices=OutboxEvent.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("to"),
    )
    proposal = models.ForeignKey(
        ChangeProposal,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposal"),
    )
    proposal_ids = models.JSONField(_("proposals"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # The step as it was when the mail was written: it may have moved on by the send.
    step = models.CharField(_("step"), max_length=100, blank=True)
    state = FSMField(
        _("status"),
        max_length=20,
        choices=OutboxState.choices,
        default=OutboxState.PENDING,
        protected=True,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When a pending e-mail is due; empty once it is sent or failed.
    next_attempt_at = models.DateTimeField(
        _("next attempt"), null=True, blank=True, default=timezone.now
    )
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-id"]
        default_permissions = ("view",)
        permissions = [("resend_outboxmessage", _("Can send failed e-mails again"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(proposal__isnull=False, proposal_ids__isnull=True)
                | Q(proposal__isnull=True, proposal_ids__isnull=False),
                name="outboxmessage_one_proposal_or_a_digest",
            ),
        ]
        indexes = [
            # The outbox's scan for what is due, and the backlog /health/ reports.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="outboxmessage_due",
            ),
            models.Index(fields=["state", "-created_at"]),
            models.Index(fields=["-created_at"]),
        ]

    def __str__(self) -> str:
        return str(
            _("E-mail %(id)s to %(user)s") % {"id": self.pk, "user": self.recipient}
        )

    @transition(field=state, source=OutboxState.PENDING, target=OutboxState.SENT)
    def mark_sent(self, *, at, language: str, subject: str) -> None:
        self.attempts += 1
        self.sent_at = at
        self.next_attempt_at = None
        self.language = language
        self.subject = subject
        self.last_error = ""

    @transition(
        field=state,
        source=OutboxState.PENDING,
        target=RETURN_VALUE(OutboxState.PENDING, OutboxState.FAILED),
    )
    def mark_attempt_failed(
        self, *, at, error: str, retry_in: timedelta | None, language: str, subject: str
    ) -> str:
        """One more try that failed: due again after `retry_in`, or failed for good
        when there is none."""
        self.attempts += 1
        self.last_error = error[: self._meta.get_field("last_error").max_length]
        self.language = language
        self.subject = subject
        if retry_in is None:
            self.next_attempt_at = None
            return OutboxState.FAILED
        self.next_attempt_at = at + retry_in
        return OutboxState.PENDING

    @transition(field=state, source=OutboxState.FAILED, target=OutboxState.PENDING)
    def send_again(self, *, at) -> None:
        self.attempts = 0
        self.next_attempt_at = at
        self.last_error = ""


class ApiToken(models.Model):
    """A key with which a system calls the REST API as one user.

    Only a digest of the key is stored: the key is shown once, when an administrator
    creates it. A revoked token stays, so that the audit rows naming it keep meaning.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        verbose_name=_("user"),
        help_text=_("The API acts as this user, with their permissions."),
    )
    name = models.CharField(
        _("name"),
        max_length=100,
        unique=True,
        help_text=_("Which system uses the token; the audit trail names it."),
    )
    prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    key_digest = models.CharField(
        _("key digest"), max_length=64, unique=True, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class TallyKind:
    """What a dashboard tally counts (never shown: the dashboard labels its figures)."""

    OPEN = "open"  # open proposals, by status and the hour they started
    CONFLICT = "conflict"  # proposals ended in conflict, by the hour
    APPLIED = "applied"  # proposals applied, by the hour
    FIELD = "field"  # proposed changes, by field and the hour proposed


class DashboardTally(models.Model):
    """How many proposals (or proposed changes) of a kind fall in one hour (UTC).

    The dashboard reads these instead of counting the proposal tables, so it costs the
    same whatever the history. The services add rows in the transaction that changes
    a proposal (workflow/services/tallies.py); `dashboard_tallies_compact` folds them
    into one per key, `dashboard_tallies_recount` rebuilds them from the tables.
    """

    kind = models.CharField(_("kind"), max_length=10)
    # The status of an open proposal; "app_label.model.field" of a proposed change.
    label = models.CharField(_("label"), max_length=200, blank=True)
    hour = models.DateTimeField(_("hour"))
    count = models.BigIntegerField(_("count"), default=0)

    class Meta:
        verbose_name = _("dashboard tally")
        verbose_name_plural = _("dashboard tallies")
        # Several rows may count one key (rows are only inserted, then folded now and
        # then by dashboard_tallies_compact): no unique constraint, so no row lock.
        indexes = [
            models.Index(fields=["kind", "hour"], name="dashboardtally_kind_hour")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.label} {self.hour:%Y-%m-%d %H:00}: {self.count}"


class CallbackOutcomeChoices(models.TextChoices):
    CONFIRMED = CallbackOutcome.CONFIRMED, _("Confirmed")
    FAILED = CallbackOutcome.FAILED, _("Failed")


class CallbackVerification(models.Model):
    """The evidence of a call-back: who called which number on file, whom they
    reached and what came of it. Written once, with the decision it supports."""

    proposal = models.ForeignKey(
        ChangeProposal,
        on_delete=models.PROTECT,
        related_name="callbacks",
        verbose_name=_("proposal"),
    )
    work_item = models.OneToOneField(
        WorkItem,
        on_delete=models.PROTECT,
        related_name="callback",
        verbose_name=_("work item"),
    )
    submission_round = models.PositiveSmallIntegerField(_("submission round"))
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("verified by"),
    )
    phone_called = models.CharField(_("number called"), max_length=40)
    person_reached = models.CharField(_("person reached"), max_length=200)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=CallbackOutcomeChoices.choices
    )
    called_at = models.DateTimeField(_("called at"), default=timezone.now)

    class Meta:
        verbose_name = _("call-back verification")
        verbose_name_plural = _("call-back verifications")
        ordering = ["called_at", "id"]

    def __str__(self) -> str:
        return f"{self.phone_called} – {self.person_reached}"


class BankAccountStatus(models.Model):
    """Whether a record's bank account as it is now was verified by a call-back, and
    by whom; written by the engine with every applied change of the account."""

    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(_("object id"))
    field_name = models.CharField(_("field"), max_length=100)
    verified = models.BooleanField(_("verified"), default=False)
    verified_at = models.DateTimeField(_("verified on"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_by_name = models.CharField(_("verified by"), max_length=150, blank=True)
    proposal = models.ForeignKey(
        ChangeProposal,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("proposal"),
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        verbose_name = _("bank account status")
        verbose_name_plural = _("bank account statuses")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "field_name"],
                name="bankaccountstatus_one_per_field",
            )
        ]

    def __str__(self) -> str:
        return self.status_text()

    def status_text(self) -> str:
        """ "Verified on … by …" or "Unverified", as a person reads it."""
        if not self.verified or self.verified_at is None:
            return str(_("Unverified"))
        return str(
            _("Verified on %(date)s by %(user)s")
            % {
                "date": formats.date_format(
                    timezone.localtime(self.verified_at), "SHORT_DATE_FORMAT"
                ),
                "user": self.verified_by_name,
            }
        )
