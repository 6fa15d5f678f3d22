"""Approval parameters and workflow definitions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from .. import registry, selectors
from ..audit import audit_for_object, audit_write
from ..core import permissions
from ..exceptions import (
    NO_PERMISSION,
    NOT_GOVERNABLE_FIELD,
    WORKFLOW_IN_USE,
    WORKFLOW_WITHOUT_STEPS,
    NotSubmittable,
    PermissionRefused,
)
from ..models import (
    ApprovalSettings,
    AuditAction,
    AutoApprovalRule,
    DataEntityBehavior,
    Source,
    Workflow,
    WorkflowStep,
)
from ..selectors_facts import actor_facts

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User

    from ..audit import SystemComment
    from ..models import AuditEntry

# --- Permissions ------------------------------------------------------------------

# Steps and automatic approval rules are parts of their workflow: whoever may create or
# change workflows edits them, as on the workflow page.
PART_ACTIONS = ("add", "change")


def _require_definition_permission(
    actor: User | None,
    *,
    governed_model: type[models.Model],
    definition_model: type[models.Model],
    actions: tuple[str, ...],
) -> None:
    """Refuse `actor` unless they hold one of the permissions for `actions`.

    `actor` None means the system itself (demo data, migrations), which needs none.
    """
    if actor is None:
        return
    governed = registry.get(governed_model)
    proxy = (
        governed.workflows_proxy
        if definition_model is Workflow
        else governed.parameters_proxy
    )
    needed = permissions.definition_permissions(
        actions,
        tuple(
            # Options.model_name is None only while a model class is being built.
            (m._meta.app_label, m._meta.model_name)  # type: ignore[misc]
            for m in (definition_model, proxy)
            if m is not None
        ),
    )
    held = actor_facts(actor)
    if not any(held.holds(name) for name in needed):
        raise PermissionRefused(NO_PERMISSION)


def _require_workflow_permission(
    actor: User | None, workflow: Workflow, *actions: str
) -> None:
    _require_definition_permission(
        actor,
        governed_model=registry.model_of(workflow.content_type),
        definition_model=Workflow,
        actions=actions,
    )


# --- Settings and workflow definitions -----------------------------------------


def approval_settings_ensure(*, model: type[models.Model]) -> ApprovalSettings:
    """The settings row of a governed model, created (approvals off) on first use."""
    registry.get(model)
    settings_row, _created = ApprovalSettings.objects.get_or_create(
        content_type=ContentType.objects.get_for_model(model)
    )
    return settings_row


def approval_settings_update(
    *,
    model: type[models.Model],
    approvals_enabled: bool,
    data_entity_behavior: DataEntityBehavior | str,
    enabled_fields: list[str],
    actor: User | None,
    new_records_need_approval: bool | None = None,
) -> ApprovalSettings:
    """Change the approval parameters; every changed value leaves an audit row.

    `new_records_need_approval` None keeps what the parameters say.

    Needs the permission to change the approval parameters of `model`.
    """
    governed = registry.get(model)
    _require_definition_permission(
        actor,
        governed_model=model,
        definition_model=ApprovalSettings,
        actions=("change",),
    )
    unknown = [
        name for name in enabled_fields if name not in governed.governable_field_names
    ]
    if unknown:
        raise ValidationError(
            {"enabled_fields": NOT_GOVERNABLE_FIELD % {"field": ", ".join(unknown)}}
        )
    if data_entity_behavior not in DataEntityBehavior.values:
        raise ValidationError(
            {"data_entity_behavior": _("Choose one of the listed behaviours.")}
        )
    ordered = [
        name for name in governed.governable_field_names if name in set(enabled_fields)
    ]
    with transaction.atomic():
        row = ApprovalSettings.objects.select_for_update().get(
            pk=approval_settings_ensure(model=model).pk
        )
        before = {
            "approvals_enabled": (
                row.approvals_enabled,
                str(governed.labels.enable_approvals),
                _yes_no(row.approvals_enabled),
            ),
            "data_entity_behavior": (
                row.data_entity_behavior,
                _("Data entity behavior"),
                row.get_data_entity_behavior_display(),
            ),
            "enabled_fields": (
                row.enabled_fields,
                _("Fields that need approval"),
                _field_list(governed, row.enabled_fields),
            ),
            "new_records_need_approval": (
                row.new_records_need_approval,
                _("New records wait for approval"),
                _yes_no(row.new_records_need_approval),
            ),
        }
        if new_records_need_approval is not None:
            row.new_records_need_approval = new_records_need_approval
        row.approvals_enabled = approvals_enabled
        row.data_entity_behavior = data_entity_behavior
        row.enabled_fields = ordered
        row.full_clean()
        row.save(
            update_fields=[
                "approvals_enabled",
                "data_entity_behavior",
                "enabled_fields",
                "new_records_need_approval",
                "updated_at",
            ]
        )
        after = {
            "approvals_enabled": (
                row.approvals_enabled,
                _yes_no(row.approvals_enabled),
            ),
            "data_entity_behavior": (
                row.data_entity_behavior,
                row.get_data_entity_behavior_display(),
            ),
            "enabled_fields": (
                row.enabled_fields,
                _field_list(governed, row.enabled_fields),
            ),
            "new_records_need_approval": (
                row.new_records_need_approval,
                _yes_no(row.new_records_need_approval),
            ),
        }
        entries = []
        for key, (old, label, old_display) in before.items():
            new, new_display = after[key]
            if old != new:
                entries.append(
                    audit_for_object(
                        instance=row,
                        action=AuditAction.SETTINGS_CHANGED,
                        actor=actor,
                        source=Source.BROWSER,
                        field_name=key,
                        field_label=label,
                        old_value=old,
                        new_value=new,
                        old_display=old_display,
                        new_display=new_display,
                    )
                )
        audit_write(entries)
    return row


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _field_list(governed: registry.GovernedModel, names: list[str]) -> str:
    return ", ".join(
        governed.field_label(n) for n in names if n in governed.governable_field_names
    ) or _("(none)")


SEQUENCE_PARKING = 10000


def _refuse_if_in_use(workflow: Workflow) -> None:
    if workflow.pk and selectors.workflow_in_use(workflow):
        raise NotSubmittable(WORKFLOW_IN_USE % {"workflow": workflow})


def workflow_save(*, workflow: Workflow, actor: User | None) -> Workflow:
    """Create a workflow definition, or change one that nothing uses yet.

    Needs the permission to add workflows to create one, to change them to change one.
    """
    created = workflow.pk is None
    _require_workflow_permission(actor, workflow, "add" if created else "change")
    _refuse_if_in_use(workflow)
    if created and workflow.created_by_id is None:
        workflow.created_by = actor
    workflow.full_clean()
    with transaction.atomic():
        workflow.save()
        audit_write(
            [
                _workflow_audit(
                    workflow,
                    actor,
                    AuditAction.WORKFLOW_CHANGED,
                    (lambda: _("Created.")) if created else (lambda: _("Changed.")),
                )
            ]
        )
    return workflow


def workflow_step_save(*, step: WorkflowStep, actor: User | None) -> WorkflowStep:
    """Create or change one approval step of a workflow that nothing uses yet."""
    _require_workflow_permission(actor, step.workflow, *PART_ACTIONS)
    _refuse_if_in_use(step.workflow)
    step.full_clean()
    with transaction.atomic():
        step.save()
        audit_write(
            [
                _workflow_audit(
                    step.workflow,
                    actor,
                    AuditAction.WORKFLOW_CHANGED,
                    lambda: _("Step “%(step)s” saved.") % {"step": step},
                )
            ]
        )
    return step


def workflow_step_delete(*, step: WorkflowStep, actor: User | None) -> None:
    """Remove an approval step of a workflow that nothing uses yet."""
    _require_workflow_permission(actor, step.workflow, *PART_ACTIONS)
    _refuse_if_in_use(step.workflow)
    with transaction.atomic():
        audit_write(
            [
                _workflow_audit(
                    step.workflow,
                    actor,
                    AuditAction.WORKFLOW_CHANGED,
                    lambda: _("Step “%(step)s” removed.") % {"step": step},
                )
            ]
        )
        step.delete()


def workflow_steps_save(
    *,
    workflow: Workflow,
    steps: list[WorkflowStep],
    deleted: list[WorkflowStep],
    actor: User | None,
) -> None:
    """Save a workflow's steps together, so that steps may swap sequence numbers."""
    _require_workflow_permission(actor, workflow, *PART_ACTIONS)
    _refuse_if_in_use(workflow)
    with transaction.atomic():
        for step in deleted:
            workflow_step_delete(step=step, actor=actor)
        moving = [s.pk for s in steps if s.pk]
        if moving:
            # Park the steps being saved out of the way of each other's new numbers.
            WorkflowStep.objects.filter(pk__in=moving).update(
                sequence=F("sequence") + SEQUENCE_PARKING
            )
        for step in steps:
            workflow_step_save(step=step, actor=actor)


def auto_approval_rule_save(
    *, rule: AutoApprovalRule, actor: User | None
) -> AutoApprovalRule:
    """Create or change an automatic approval rule of a workflow that nothing uses yet."""
    _require_workflow_permission(actor, rule.workflow, *PART_ACTIONS)
    _refuse_if_in_use(rule.workflow)
    rule.full_clean()
    with transaction.atomic():
        rule.save()
        audit_write(
            [
                _workflow_audit(
                    rule.workflow,
                    actor,
                    AuditAction.WORKFLOW_CHANGED,
                    lambda: _("Automatic approval rule saved."),
                )
            ]
        )
    return rule


def auto_approval_rule_delete(*, rule: AutoApprovalRule, actor: User | None) -> None:
    """Remove an automatic approval rule of a workflow that nothing uses yet."""
    _require_workflow_permission(actor, rule.workflow, *PART_ACTIONS)
    _refuse_if_in_use(rule.workflow)
    with transaction.atomic():
        audit_write(
            [
                _workflow_audit(
                    rule.workflow,
                    actor,
                    AuditAction.WORKFLOW_CHANGED,
                    lambda: _("Automatic approval rule removed."),
                )
            ]
        )
        rule.delete()


def _workflow_audit(
    workflow: Workflow,
    actor: User | None,
    action: AuditAction,
    comment: str | SystemComment = "",
) -> AuditEntry:
    return audit_for_object(
        instance=workflow,
        action=action,
        actor=actor,
        source=Source.BROWSER,
        comment=comment,
    )


def workflow_copy(
    *, workflow: Workflow, actor: User | None, as_new_version: bool
) -> Workflow:
    """Copy a workflow with its steps and rules, inactive and free to edit.

    As a new version it joins the same series (the way to change a workflow in use);
    otherwise it starts a series of its own. Needs the permission to add workflows.
    """
    _require_workflow_permission(actor, workflow, "add")
    with transaction.atomic():
        source = Workflow.objects.select_for_update().get(pk=workflow.pk)
        steps = list(source.steps.prefetch_related("assigned_users"))
        rules = list(source.auto_approval_rules.all())
        if as_new_version:
            latest = (
                Workflow.objects.filter(series=source.series)
                .order_by("-version")
                .first()
            )
            # The series holds `source` itself.
            assert latest is not None
            copy = Workflow(
                content_type=source.content_type,
                name=source.name,
                series=source.series,
                version=latest.version + 1,
                created_by=actor,
                justification_required=source.justification_required,
            )
        else:
            copy = Workflow(
                content_type=source.content_type,
                name=_("Copy of %(name)s") % {"name": source.name},
                created_by=actor,
                justification_required=source.justification_required,
            )
        copy.save()
        for step in steps:
            users = list(step.assigned_users.all())
            step.pk = None
            step.workflow = copy
            # Else set() would see the source's users. Django's prefetch cache is not
            # part of its public API, so django-stubs does not declare it.
            step._prefetched_objects_cache = {}  # type: ignore[attr-defined]
            step.save()
            step.assigned_users.set(users)
        for rule in rules:
            rule.pk = None
            rule.workflow = copy
            rule.save()

        def comment() -> str:
            if as_new_version:
                return _("Version %(version)s of %(name)s.") % {
                    "version": copy.version,
                    "name": source.name,
                }
            return _("Copied from %(workflow)s.") % {"workflow": source}

        audit_write(
            [_workflow_audit(copy, actor, AuditAction.WORKFLOW_CHANGED, comment)]
        )
    return copy


def workflow_activate(*, workflow: Workflow, actor: User | None) -> Workflow:
    """Make `workflow` the one active workflow of its model.

    Proposals already submitted keep the version they were submitted under. Needs the
    permission to change workflows.
    """
    _require_workflow_permission(actor, workflow, "change")
    with transaction.atomic():
        workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
        if not workflow.steps.exists():
            raise NotSubmittable(WORKFLOW_WITHOUT_STEPS)
        previous = list(
            Workflow.objects.select_for_update()
            .filter(content_type=workflow.content_type, is_active=True)
            .exclude(pk=workflow.pk)
        )
        for old in previous:
            old.is_active = False
            old.save(update_fields=["is_active"])
        workflow.is_active = True
        workflow.save(update_fields=["is_active"])

        def comment() -> str:
            if not previous:
                return ""
            return _("Replaces %(workflows)s.") % {
                "workflows": ", ".join(str(w) for w in previous)
            }

        audit_write(
            [_workflow_audit(workflow, actor, AuditAction.WORKFLOW_ACTIVATED, comment)]
        )
    return workflow
