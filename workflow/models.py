"""Approval settings, workflow definitions, change proposals, work items and the audit trail.

Nothing here names a governed model: proposals and audit rows point at their object
through the content type framework, so vendors fit beside customers unchanged.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


class Source(models.TextChoices):
    BROWSER = "browser", _("Browser")
    IMPORT = "import", _("Import")
    SYSTEM = "system", _("System")


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
    version = models.PositiveIntegerField(_("version"), default=1)
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
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class CompletionPolicy(models.TextChoices):
    SINGLE = "single", _("Single approver")
    MAJORITY = "majority", _("Majority")
    PERCENTAGE = "percentage", _("Percentage")
    ALL = "all", _("All approvers")


class WorkflowStep(models.Model):
    workflow = models.ForeignKey(
        Workflow,
        on_delete=models.CASCADE,
        related_name="steps",
        verbose_name=_("workflow"),
    )
    sequence = models.PositiveSmallIntegerField(_("sequence"), default=1)
    name = models.CharField(_("name"), max_length=100)
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
    # Conditions and time limits are read by the engine in a later version; the
    # columns are here so that definitions made now keep their meaning.
    condition = models.JSONField(_("condition"), null=True, blank=True)
    time_limit = models.DurationField(_("time limit"), null=True, blank=True)

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


class ProposalState(models.TextChoices):
    DRAFT = "draft", _("Changes not submitted")
    PENDING = "pending", _("Changes pending approval")
    APPLIED = "applied", _("Applied")
    REJECTED = "rejected", _("Rejected")
    CONFLICT = "conflict", _("Conflict")
    DISCARDED = "discarded", _("Discarded")


OPEN_PROPOSAL_STATES = (ProposalState.DRAFT, ProposalState.PENDING)


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

    class Meta:
        verbose_name = _("change proposal")
        verbose_name_plural = _("change proposals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=Q(state__in=["draft", "pending"]),
                name="changeproposal_one_open_per_object",
                violation_error_message=_(
                    "This record already has an open change proposal."
                ),
            ),
        ]
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"])]
        permissions = [("submit_changeproposal", _("Can submit change proposals"))]

    def __str__(self) -> str:
        return str(
            _("Proposal %(id)s for %(object)s")
            % {"id": self.pk, "object": self.object_repr}
        )

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_PROPOSAL_STATES

    @transition(
        field=state,
        source=ProposalState.DRAFT,
        target=ProposalState.PENDING,
        permission="workflow.submit_changeproposal",
    )
    def submit(self, *, by, workflow: Workflow, first_step: WorkflowStep) -> None:
        self.submitted_by = by
        self.submitted_at = timezone.now()
        self.workflow = workflow
        self.current_step = first_step

    @transition(field=state, source=ProposalState.PENDING, target=ProposalState.PENDING)
    def advance(self, *, next_step: WorkflowStep) -> None:
        self.current_step = next_step

    @transition(field=state, source=ProposalState.DRAFT, target=ProposalState.DISCARDED)
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

    def __str__(self) -> str:
        return self.field_name


class WorkItemState(models.TextChoices):
    OPEN = "open", _("Open")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CLOSED = "closed", _("Closed")


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

    class Meta:
        verbose_name = _("work item")
        verbose_name_plural = _("my work items")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "step", "assignee"],
                name="workitem_one_per_assignee",
            ),
        ]
        indexes = [models.Index(fields=["assignee", "state", "created_at"])]
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
        permission="workflow.decide_workitem",
    )
    def approve(self, *, comment: str) -> None:
        self.comment = comment
        self.decided_at = timezone.now()

    @transition(
        field=state,
        source=WorkItemState.OPEN,
        target=WorkItemState.REJECTED,
        permission="workflow.decide_workitem",
    )
    def reject(self, *, comment: str) -> None:
        self.comment = comment
        self.decided_at = timezone.now()

    @transition(field=state, source=WorkItemState.OPEN, target=WorkItemState.CLOSED)
    def close(self) -> None:
        self.decided_at = timezone.now()


class AuditAction(models.TextChoices):
    CREATED = "created", _("Created")
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


class AuditEntry(models.Model):
    """One row per thing that happened; rows are written once and never changed."""

    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    actor_name = models.CharField(_("who"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=AuditAction.choices)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("model")
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
    )
    field_name = models.CharField(_("field"), max_length=100, blank=True)
    field_label = models.CharField(_("field"), max_length=200, blank=True)
    old_value = models.JSONField(_("original value"), null=True, blank=True)
    new_value = models.JSONField(_("new value"), null=True, blank=True)
    old_display = models.TextField(_("original value"), blank=True)
    new_display = models.TextField(_("new value"), blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()}"
