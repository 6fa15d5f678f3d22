"""The administrator is warned, not refused, when a step goes to people who may not
decide it: a named user without the permission or inactive, or a step nobody may
decide at all, when it is saved and when its workflow is activated."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from customers.models import AccountsReceivableWorkflow, Customer
from tests.conftest import make_workflow
from tests.workflow.test_admin_pages import WORKFLOWS_ADD, workflow_post
from workflow import selectors, services
from workflow.admin.definitions import (
    STEP_USER_INACTIVE,
    STEP_USER_MAY_NOT_DECIDE,
    STEP_WITHOUT_DECIDER,
)


def warnings_of(response) -> list[str]:
    return [
        m.message
        for m in get_messages(response.wsgi_request)
        if m.level_tag == "warning"
    ]


def save_new_workflow(client, **step):
    response = client.post(
        reverse(WORKFLOWS_ADD) + "?type=customers.customer", workflow_post(**step)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


@pytest.mark.django_db
def test_naming_a_clerk_on_a_step_warns_that_they_may_not_decide(
    client, approval_admin, clerk, approver
):
    client.force_login(approval_admin)
    response = save_new_workflow(client, assigned_users=[clerk.pk, approver.pk])

    step = AccountsReceivableWorkflow.objects.get(name="Two approvers").steps.get()
    assert set(step.assigned_users.all()) == {clerk, approver}
    assert warnings_of(response) == [
        str(STEP_USER_MAY_NOT_DECIDE % {"user": "clerk", "step": step.name})
    ]


@pytest.mark.django_db
def test_naming_an_inactive_approver_warns_so(
    client, approval_admin, approver, approver2
):
    approver2.is_active = False
    approver2.save(update_fields=["is_active"])
    client.force_login(approval_admin)
    response = save_new_workflow(client, assigned_users=[approver.pk, approver2.pk])

    step = AccountsReceivableWorkflow.objects.get(name="Two approvers").steps.get()
    assert warnings_of(response) == [
        str(STEP_USER_INACTIVE % {"user": "approver2", "step": step.name})
    ]


@pytest.mark.django_db
def test_a_step_for_a_group_nobody_in_which_may_decide_warns_when_saved(
    client, approval_admin, roles, clerk
):
    client.force_login(approval_admin)
    response = save_new_workflow(client, assigned_group=roles["Clerks"].pk)

    step = AccountsReceivableWorkflow.objects.get(name="Two approvers").steps.get()
    assert warnings_of(response) == [str(STEP_WITHOUT_DECIDER % {"step": step.name})]


@pytest.mark.django_db
def test_a_step_for_approvers_saves_without_warning(
    client, approval_admin, roles, approver
):
    client.force_login(approval_admin)
    response = save_new_workflow(client, assigned_group=roles["Approvers"].pk)
    assert warnings_of(response) == []


@pytest.mark.django_db
def test_activating_a_workflow_whose_step_nobody_may_decide_warns_and_activates(
    client, approval_admin, roles, clerk
):
    workflow = make_workflow(approval_admin, {"users": [clerk]})
    copy = services.workflow_copy(
        workflow=workflow, actor=approval_admin, as_new_version=True
    )
    client.force_login(approval_admin)
    response = client.post(
        reverse(
            "admin:customers_accountsreceivableworkflow_operation",
            args=[copy.pk, "activate"],
        )
    )

    assert response.status_code == 302
    assert selectors.active_workflow_for(Customer) == copy
    step = copy.steps.get()
    assert warnings_of(response) == [str(STEP_WITHOUT_DECIDER % {"step": step.name})]


@pytest.mark.django_db
def test_activating_a_workflow_someone_may_decide_gives_no_warning(
    client, approval_admin, roles, approver
):
    workflow = make_workflow(approval_admin, {"assigned_group": roles["Approvers"]})
    copy = services.workflow_copy(
        workflow=workflow, actor=approval_admin, as_new_version=True
    )
    client.force_login(approval_admin)
    response = client.post(
        reverse(
            "admin:customers_accountsreceivableworkflow_operation",
            args=[copy.pk, "activate"],
        )
    )
    assert selectors.active_workflow_for(Customer) == copy
    assert warnings_of(response) == []


@pytest.mark.django_db
def test_a_step_that_goes_to_the_account_manager_is_not_judged(
    approval_admin, roles, clerk
):
    """Who the account manager is depends on the record: nothing to warn about."""
    workflow = make_workflow(
        approval_admin,
        {"assigned_group": roles["Clerks"], "assignee_field": "account_manager"},
    )
    assert selectors.steps_without_decider(workflow) == []
