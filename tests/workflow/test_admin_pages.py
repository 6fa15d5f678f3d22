"""Every admin page answers its role, refuses the others, and writes through services."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import AccountsReceivableWorkflow, Customer
from workflow import selectors
from workflow.models import AuditAction, AuditEntry

PARAMETERS = "admin:customers_accountsreceivableparameters_changelist"
WORKFLOWS_ADD = "admin:customers_accountsreceivableworkflow_add"


@pytest.mark.django_db
def test_parameters_page_shows_the_d365_labels_to_an_admin(
    client, approval_admin, approvals_on
):
    client.force_login(approval_admin)
    page = client.get(reverse(PARAMETERS), follow=True)

    html = page.content.decode()
    assert page.status_code == 200
    for label in (
        "Accounts receivable parameters",
        "Customer approval",
        "Enable customer approvals",
        "Data entity behavior",
        "Allow changes without approval",
        "Reject changes",
        "Create change proposals",
        "Enable",
        "Bank account (IBAN)",
    ):
        assert label in html, label


@pytest.mark.django_db
def test_saving_parameters_changes_them_and_is_audited(
    client, approval_admin, approvals_on
):
    client.force_login(approval_admin)
    url = client.get(reverse(PARAMETERS)).url
    response = client.post(
        url,
        {
            "approvals_enabled": "on",
            "data_entity_behavior": "reject",
            "enabled_fields": ["credit_limit", "name"],
        },
    )

    assert response.status_code == 302
    assert selectors.enabled_fields_for(Customer) == {"credit_limit", "name"}
    audited = AuditEntry.objects.filter(
        action=AuditAction.SETTINGS_CHANGED, actor=approval_admin
    )
    assert set(audited.values_list("field_name", flat=True)) >= {
        "data_entity_behavior",
        "enabled_fields",
    }
    assert (
        "Create change proposals"
        in audited.filter(field_name="data_entity_behavior").latest("id").old_display
    )


@pytest.mark.django_db
def test_clerk_and_approver_cannot_open_the_parameters(client, clerk, approver):
    for user in (clerk, approver):
        client.force_login(user)
        assert client.get(reverse(PARAMETERS), follow=True).status_code == 403


@pytest.mark.django_db
def test_new_workflow_starts_with_the_type_choice(client, approval_admin):
    client.force_login(approval_admin)
    page = client.get(reverse(WORKFLOWS_ADD))
    assert "Proposed customer change workflow" in page.content.decode()
    form = client.get(reverse(WORKFLOWS_ADD) + "?type=customers.customer")
    html = form.content.decode()
    assert "Workflow approval for proposed customer change" in html


def workflow_post(**step):
    data = {
        "name": "Two approvers",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "1",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-sequence": "1",
        "steps-0-name": "Workflow approval for proposed customer change",
        "steps-0-completion_policy": "single",
        "steps-0-time_limit_unit": "hours",
        "auto_approval_rules-TOTAL_FORMS": "0",
        "auto_approval_rules-INITIAL_FORMS": "0",
        "auto_approval_rules-MIN_NUM_FORMS": "0",
        "auto_approval_rules-MAX_NUM_FORMS": "1000",
    }
    data.update({f"steps-0-{k}": v for k, v in step.items()})
    return data


@pytest.mark.django_db
def test_a_step_without_assignee_is_explained(client, approval_admin):
    client.force_login(approval_admin)
    page = client.post(
        reverse(WORKFLOWS_ADD) + "?type=customers.customer", workflow_post()
    )
    assert (
        "Assign this step to a group, to at least one user, or to a user field of the record."
        in page.content.decode()
    )
    assert not AccountsReceivableWorkflow.objects.exists()


@pytest.mark.django_db
def test_create_and_activate_a_workflow(client, approval_admin, roles, active_workflow):
    client.force_login(approval_admin)
    response = client.post(
        reverse(WORKFLOWS_ADD) + "?type=customers.customer",
        workflow_post(assigned_group=roles["Approvers"].pk),
    )
    assert response.status_code == 302
    created = AccountsReceivableWorkflow.objects.get(name="Two approvers")
    assert created.steps.get().assigned_group == roles["Approvers"]
    assert not created.is_active

    client.post(
        reverse(
            "admin:customers_accountsreceivableworkflow_operation",
            args=[created.pk, "activate"],
        )
    )
    assert selectors.active_workflow_for(Customer) == created
    active_workflow.refresh_from_db()
    assert not active_workflow.is_active


@pytest.mark.django_db
def test_each_role_reaches_its_pages(client, clerk, approver, approval_admin, customer):
    pages = {
        clerk: [
            "admin:index",
            "admin:customers_customer_changelist",
            "admin:workflow_workitem_changelist",
        ],
        approver: [
            "admin:index",
            "admin:customers_customer_changelist",
            "admin:workflow_workitem_changelist",
        ],
        approval_admin: [
            "admin:index",
            "admin:customers_accountsreceivableworkflow_changelist",
            "admin:workflow_auditentry_changelist",
            "admin:workflow_changeproposal_changelist",
            "admin:customers_customergroup_changelist",
        ],
    }
    for user, names in pages.items():
        client.force_login(user)
        for name in names:
            assert client.get(reverse(name)).status_code == 200, (user, name)
        detail = client.get(
            reverse("admin:customers_customer_history", args=[customer.pk])
        )
        assert detail.status_code == 200


@pytest.mark.django_db
def test_audit_entries_cannot_be_edited_or_deleted_in_the_admin(
    client, approval_admin, approvals_on
):
    client.force_login(approval_admin)
    entry = AuditEntry.objects.first()
    change = client.get(reverse("admin:workflow_auditentry_change", args=[entry.pk]))
    assert 'name="_save"' not in change.content.decode()
    assert (
        client.post(
            reverse("admin:workflow_auditentry_delete", args=[entry.pk])
        ).status_code
        == 403
    )


@pytest.mark.django_db
def test_a_workflow_in_use_is_read_only_and_changes_through_a_new_version(
    client, approval_admin, roles, active_workflow
):
    client.force_login(approval_admin)
    url = reverse(
        "admin:customers_accountsreceivableworkflow_change", args=[active_workflow.pk]
    )
    page = client.get(url).content.decode()
    assert "so it is read-only" in page
    assert 'name="_save"' not in page
    data = workflow_post(assigned_group=roles["Approvers"].pk)
    assert client.post(url, data).status_code == 403

    response = client.post(
        reverse(
            "admin:customers_accountsreceivableworkflow_operation",
            args=[active_workflow.pk, "new-version"],
        )
    )
    new_version = AccountsReceivableWorkflow.objects.get(
        series=active_workflow.series, version=2
    )
    assert response["Location"].endswith(f"/{new_version.pk}/change/")
    assert new_version.steps.get().assigned_group == roles["Approvers"]
    assert not new_version.is_active
    assert 'name="_save"' in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_workflow_list_offers_new(client, approval_admin):
    client.force_login(approval_admin)
    page = client.get(reverse("admin:customers_accountsreceivableworkflow_changelist"))
    assert ">New</a>" in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            {"completion_policy": "percentage", "approval_percentage": "150"},
            "The approval percentage must be from 1 to 100.",
        ),
        (
            {"completion_policy": "percentage"},
            "Give the percentage of approvers needed, from 1 to 100.",
        ),
        ({"condition_kind": "changes"}, "Choose the field this condition is about."),
        (
            {"condition_kind": "above", "condition_field": "credit_limit"},
            "Give the number this condition compares with.",
        ),
        (
            {"escalation_action": "approve"},
            "Give a time limit, or choose to do nothing when it passes.",
        ),
        (
            {"escalation_action": "reassign", "time_limit_value": "4"},
            "Choose the user or group to escalate to.",
        ),
    ],
)
def test_step_mistakes_are_explained_on_the_page(
    client, approval_admin, roles, step, message
):
    client.force_login(approval_admin)
    data = workflow_post(assigned_group=roles["Approvers"].pk, **step)
    page = client.post(reverse(WORKFLOWS_ADD) + "?type=customers.customer", data)
    assert message in page.content.decode()
    assert not AccountsReceivableWorkflow.objects.filter(name="Two approvers").exists()


@pytest.mark.django_db
def test_a_workflow_with_conditions_and_rules_is_saved_from_the_page(
    client, approval_admin, roles
):
    client.force_login(approval_admin)
    data = workflow_post(
        assigned_group=roles["Approvers"].pk,
        condition_kind="increases_pct",
        condition_field="credit_limit",
        condition_value="50",
        time_limit_value="2",
        time_limit_unit="days",
        escalation_action="reassign",
        escalate_to_group=roles["Finance managers"].pk,
    )
    data.update(
        {
            "auto_approval_rules-TOTAL_FORMS": "1",
            "auto_approval_rules-0-field_name": "credit_limit",
            "auto_approval_rules-0-kind": "decreases",
        }
    )
    response = client.post(reverse(WORKFLOWS_ADD) + "?type=customers.customer", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    workflow = AccountsReceivableWorkflow.objects.get(name="Two approvers")
    step = workflow.steps.get()
    assert (step.condition_kind, step.condition_field, step.condition_value) == (
        "increases_pct",
        "credit_limit",
        50,
    )
    assert workflow.auto_approval_rules.get().kind == "decreases"
    page = client.get(response["Location"]).content.decode()
    assert "Credit limit: the value increases by more than (%) 50" in page


@pytest.mark.django_db
def test_after_a_rejection_the_customer_page_says_who_rejected_and_why(
    client, customer, clerk, approver, approver2, approvals_on, active_workflow
):
    from decimal import Decimal

    from tests.conftest import submit
    from workflow import services

    proposal = submit(customer, clerk, credit_limit=Decimal("99000"))
    services.proposal_reject(
        proposal=proposal, actor=approver, comment="Net 60 only for key accounts"
    )
    client.force_login(clerk)
    page = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))

    status = page.content.decode()
    assert "Status: Rejected" in status
    assert "approver rejected the last proposed changes on" in status
    assert "“Net 60 only for key accounts”" in status
    assert "The record was left unchanged." in status


@pytest.mark.django_db
def test_a_queue_longer_than_the_cap_reads_more_than_and_is_not_counted_whole(
    client, clerk, approver, approver2, approvals_on, active_workflow, monkeypatch
):
    from decimal import Decimal

    from tests.conftest import submit
    from tests.factories import CustomerFactory

    monkeypatch.setattr(selectors, "WORK_ITEM_COUNT_CAP", 3)
    for _ in range(5):
        submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))
    client.force_login(approver)

    home = client.get(reverse("admin:index")).content.decode()
    assert "More than 3 changes waiting for your approval" in home
    items = client.get(reverse("admin:workflow_workitem_changelist")).content.decode()
    assert "more than 3 work items" in items
    assert "Select all of them (more than 3)" in items
    # All five are listed all the same: only the count stops at the cap.
    assert items.count('name="_selected_action"') == 5

    monkeypatch.setattr(selectors, "WORK_ITEM_COUNT_CAP", 10)
    home = client.get(reverse("admin:index")).content.decode()
    assert "5 changes waiting for your approval" in home
    items = client.get(reverse("admin:workflow_workitem_changelist")).content.decode()
    assert "5 my work items" in items and "more than" not in items


@pytest.mark.django_db
def test_the_queue_on_the_home_page_is_counted_without_sorting_it(
    client, clerk, approver, approvals_on, active_workflow
):
    """Sorting the items only to count them up to the cap made the home page slower as
    the queue grew past the cap (53 ms at 100,000 items, 31 ms at 10,000)."""
    from decimal import Decimal

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.conftest import submit
    from tests.factories import CustomerFactory

    submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))
    client.force_login(approver)
    with CaptureQueriesContext(connection) as captured:
        home = client.get(reverse("admin:index")).content.decode()

    assert "1 change waiting for your approval" in home
    counts = [
        q["sql"]
        for q in captured
        if q["sql"].startswith("SELECT COUNT(*)") and "workflow_workitem" in q["sql"]
    ]
    assert counts
    assert not [sql for sql in counts if "ORDER BY" in sql]
