"""The access review: each user with their groups, governed permissions, the steps they
can decide, last login and whether they are active; as a page and as CSV and XLSX."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import make_workflow
from tests.factories import CustomerFactory, UserFactory
from tests.reports.conftest import exported, report_url

STEP_1 = "Test workflow (v1) › 1. Step 1"


@pytest.fixture
def reviewed(roles, clerk, approver, approval_admin, active_workflow):
    approver.last_login = timezone.make_aware(datetime.datetime(2026, 3, 2, 9, 30))
    approver.save(update_fields=["last_login"])
    gone = UserFactory(username="gone", is_active=False)
    gone.groups.add(roles["Approvers"])
    return {"approver": approver, "gone": gone}


@pytest.mark.django_db
def test_the_page_shows_groups_permissions_steps_last_login_and_activity(
    as_auditor, reviewed
):
    response = as_auditor.get(report_url("access"))

    rows = {r.username: r for r in response.context["rows"]}
    approver = rows["approver"]
    assert approver.groups == ("Approvers",)
    assert approver.permissions == (
        "customers.view_cashdiscount",
        "customers.view_customer",
        "customers.view_paymentterms",
        "workflow.decide_workitem",
        "workflow.view_auditentry",
        "workflow.view_changeproposal",
    )
    assert approver.steps == (STEP_1,)
    assert approver.last_login == reviewed["approver"].last_login
    # Inactive users decide nothing, whatever their groups.
    assert (rows["gone"].is_active, rows["gone"].steps) == (False, ())
    assert rows["clerk"].steps == ()
    assert "workflow.submit_changeproposal" in rows["clerk"].permissions
    page = response.content.decode()
    assert STEP_1 in page
    assert "Never" in page


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_export_lists_every_user(as_auditor, reviewed, fmt):
    rows = {r["User name"]: r for r in exported(as_auditor, "access", fmt)}

    assert set(rows) == {"admin", "approver", "auditor", "clerk", "gone"}
    approver = rows["approver"]
    assert (
        approver["Active"],
        approver["Groups"],
        approver["Steps they can decide"],
        approver["Last login"],
    ) == ("Yes", "Approvers", STEP_1, "2026-03-02 09:30:00")
    assert "workflow.decide_workitem" in approver["Permission codes"].split("\n")
    assert (
        "Approval workflow | work item | Can approve or reject work items"
        in approver["Permissions"].split("\n")
    )
    assert (rows["gone"]["Active"], rows["gone"]["Steps they can decide"]) == ("No", "")


@pytest.mark.django_db
def test_named_users_and_users_a_record_names_get_their_steps(
    as_auditor, roles, approval_admin
):
    named = UserFactory(username="named")
    named.groups.add(roles["Approvers"])
    manager_of = UserFactory(username="accountmanager")
    manager_of.groups.add(roles["Approvers"])
    CustomerFactory(account_manager=manager_of)
    make_workflow(
        approval_admin, {"users": [named]}, {"assignee_field": "account_manager"}
    )

    rows = {r.username: r for r in as_auditor.get(report_url("access")).context["rows"]}

    assert rows["named"].steps == (STEP_1,)
    assert rows["accountmanager"].steps == (
        "Test workflow (v1) › 2. Step 2 (as Account manager of a record)",
    )


@pytest.mark.django_db
def test_a_superuser_holds_every_permission(as_auditor, db):
    UserFactory(username="root", is_superuser=True)

    response = as_auditor.get(report_url("access"))
    exported_rows = {r["User name"]: r for r in exported(as_auditor, "access", "csv")}

    rows = {r.username: r for r in response.context["rows"]}
    assert rows["root"].permissions == ()
    assert "All permissions (superuser)" in response.content.decode()
    assert (
        exported_rows["root"]["Permissions"],
        exported_rows["root"]["Permission codes"],
    ) == ("All permissions (superuser)", "")


@pytest.mark.django_db
def test_a_page_costs_the_same_queries_for_few_and_many_users(
    as_auditor, roles, active_workflow
):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert as_auditor.get(report_url("access")).status_code == 200
        return len(queries)

    page_queries()
    few = page_queries()
    for number in range(20):
        user = UserFactory(username=f"user{number:02d}")
        user.groups.add(roles["Approvers"] if number % 2 else roles["Clerks"])
    many = page_queries()

    assert few == many
