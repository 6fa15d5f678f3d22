"""The services behind the parameters and workflow pages check the permission
themselves: called directly by someone the pages would turn away, they refuse and write
nothing, not even an audit row."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from customers.models import AccountsReceivableWorkflow, Customer
from tests.factories import UserFactory
from workflow import services
from workflow.core.conditions import ConditionKind
from workflow.exceptions import NO_PERMISSION, PermissionRefused
from workflow.models import (
    ApprovalSettings,
    AuditEntry,
    AutoApprovalRule,
    DataEntityBehavior,
    Workflow,
    WorkflowStep,
)


@pytest.fixture
def draft(roles, approval_admin):
    """A workflow nothing uses yet, with one step and one automatic approval rule."""
    workflow = services.workflow_save(
        workflow=AccountsReceivableWorkflow(
            content_type=ContentType.objects.get_for_model(Customer), name="Draft"
        ),
        actor=approval_admin,
    )
    services.workflow_step_save(
        step=WorkflowStep(
            workflow=workflow,
            sequence=1,
            name="Step 1",
            assigned_group=roles["Approvers"],
        ),
        actor=approval_admin,
    )
    services.auto_approval_rule_save(
        rule=AutoApprovalRule(
            workflow=workflow,
            field_name="credit_limit",
            kind=ConditionKind.DECREASES,
        ),
        actor=approval_admin,
    )
    return workflow


def update_settings(actor, draft):
    return services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=DataEntityBehavior.PROPOSE,
        enabled_fields=["credit_limit"],
        actor=actor,
    )


def create_workflow(actor, draft):
    return services.workflow_save(
        workflow=AccountsReceivableWorkflow(
            content_type=draft.content_type, name="Another"
        ),
        actor=actor,
    )


def rename_workflow(actor, draft):
    draft.name = "Renamed"
    return services.workflow_save(workflow=draft, actor=actor)


def add_step(actor, draft):
    return services.workflow_step_save(
        step=WorkflowStep(
            workflow=draft,
            sequence=2,
            name="Step 2",
            assigned_group=draft.steps.get().assigned_group,
        ),
        actor=actor,
    )


def rename_step(actor, draft):
    step = draft.steps.get()
    step.name = "Renamed step"
    return services.workflow_step_save(step=step, actor=actor)


def delete_step(actor, draft):
    return services.workflow_step_delete(step=draft.steps.get(), actor=actor)


def save_steps(actor, draft):
    step = draft.steps.get()
    step.sequence = 5
    return services.workflow_steps_save(
        workflow=draft, steps=[step], deleted=[], actor=actor
    )


def save_rule(actor, draft):
    rule = draft.auto_approval_rules.get()
    rule.kind = ConditionKind.INCREASES
    return services.auto_approval_rule_save(rule=rule, actor=actor)


def delete_rule(actor, draft):
    return services.auto_approval_rule_delete(
        rule=draft.auto_approval_rules.get(), actor=actor
    )


def new_version(actor, draft):
    return services.workflow_copy(workflow=draft, actor=actor, as_new_version=True)


def copy(actor, draft):
    return services.workflow_copy(workflow=draft, actor=actor, as_new_version=False)


def activate(actor, draft):
    return services.workflow_activate(workflow=draft, actor=actor)


SERVICES = [
    update_settings,
    create_workflow,
    rename_workflow,
    add_step,
    rename_step,
    delete_step,
    save_steps,
    save_rule,
    delete_rule,
    new_version,
    copy,
    activate,
]


def stored() -> dict[str, list]:
    return {
        "settings": list(ApprovalSettings.objects.values()),
        "workflows": list(Workflow.objects.order_by("pk").values()),
        "steps": list(WorkflowStep.objects.order_by("pk").values()),
        "rules": list(AutoApprovalRule.objects.order_by("pk").values()),
        "audit": list(AuditEntry.objects.order_by("pk").values_list("pk", flat=True)),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["clerk", "approver"])
@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.__name__)
def test_clerks_and_approvers_are_refused_and_nothing_is_written(
    request, draft, role, service
):
    actor = request.getfixturevalue(role)
    before = stored()

    with pytest.raises(PermissionRefused) as refused:
        service(actor, draft)

    assert refused.value.message == NO_PERMISSION
    assert stored() == before


@pytest.mark.django_db
@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.__name__)
def test_an_approval_administrator_may(draft, approval_admin, service):
    audit_rows = AuditEntry.objects.count()

    service(approval_admin, draft)

    assert AuditEntry.objects.count() > audit_rows


def user_with(*permissions: str):
    user = UserFactory(username="_".join(p.split(".")[1] for p in permissions))
    for dotted in permissions:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


@pytest.mark.django_db
def test_each_service_asks_the_permission_that_matches_it(draft):
    may_add = user_with("customers.add_accountsreceivableworkflow")
    may_change = user_with("customers.change_accountsreceivableworkflow")

    assert new_version(may_add, draft).version == 2
    with pytest.raises(PermissionRefused):
        activate(may_add, draft)
    with pytest.raises(PermissionRefused):
        rename_workflow(may_add, draft)
    with pytest.raises(PermissionRefused):
        update_settings(may_change, draft)
    with pytest.raises(PermissionRefused):
        create_workflow(may_change, draft)
    with pytest.raises(PermissionRefused):
        copy(may_change, draft)
    assert activate(may_change, draft).is_active


@pytest.mark.django_db
def test_the_engines_own_permissions_cover_every_governed_model(draft):
    editor = user_with("workflow.change_approvalsettings", "workflow.change_workflow")

    update_settings(editor, draft)
    rename_step(editor, draft)

    assert ApprovalSettings.objects.get().enabled_fields == ["credit_limit"]
    assert draft.steps.get().name == "Renamed step"


@pytest.mark.django_db
def test_the_system_needs_no_permission(draft):
    """Demo data and migrations call the services without a user."""
    update_settings(None, draft)
    activate(None, draft)

    assert Workflow.objects.get(pk=draft.pk).is_active


@pytest.mark.django_db
def test_the_permission_for_one_models_parameters_does_not_cover_anothers(roles):
    """Terms of payment and customers are governed in the same app; whoever may change
    the terms' parameters may not change the customers'."""
    from customers.models import PaymentTerms

    terms_admin = UserFactory(username="terms_admin")
    terms_admin.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="customers",
            codename="change_termsofpaymentparameters",
        )
    )
    arguments = {
        "approvals_enabled": True,
        "data_entity_behavior": DataEntityBehavior.PROPOSE,
        "enabled_fields": [],
        "actor": terms_admin,
    }
    services.approval_settings_update(model=PaymentTerms, **arguments)
    with pytest.raises(PermissionRefused):
        services.approval_settings_update(model=Customer, **arguments)
    assert not ApprovalSettings.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer)
    ).exists()
