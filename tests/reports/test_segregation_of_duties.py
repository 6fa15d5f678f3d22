"""The segregation-of-duties report: who may both propose and decide, decisions by
someone who took part in the proposal, and who changed users, groups, permissions,
parameters and workflows."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.management.commands.seed_demo import APPROVERS, CLERKS
from tests.conftest import member, submit
from tests.reports.conftest import exported, report_url
from workflow import services
from workflow.audit import audit_row, audit_rows_write
from workflow.models import AuditAction, Source
from workflow.services import access as access_services


@pytest.fixture
def clerk_and_approver(roles):
    user = member("both", roles[CLERKS])
    user.groups.add(roles[APPROVERS])
    return user


@pytest.mark.django_db
def test_a_user_who_may_propose_and_decide_is_listed_per_model(
    as_auditor, clerk, approver, clerk_and_approver
):
    response = as_auditor.get(report_url("duties"))

    assert [(p.username, p.model, p.groups) for p in response.context["proposers"]] == [
        ("both", "Customers", ("Approvers", "Clerks")),
        ("both", "Terms of payment", ("Approvers", "Clerks")),
        ("both", "Cash discounts", ("Approvers", "Clerks")),
    ]
    for fmt in ("csv", "xlsx"):
        assert [
            (r["Finding"], r["User"], r["Subject"], r["Details"])
            for r in exported(as_auditor, "duties", fmt)
        ][:1] == [
            ("May propose and decide", "both", "Customers", "Groups: Approvers, Clerks")
        ]


@pytest.mark.django_db
def test_an_inactive_user_is_not_listed(as_auditor, clerk_and_approver):
    clerk_and_approver.is_active = False
    clerk_and_approver.save(update_fields=["is_active"])

    response = as_auditor.get(report_url("duties"))

    assert response.context["proposers"] == []


def forge_took_part(proposal, user) -> None:
    """An audit row saying `user` proposed a value of `proposal`: the engine never lets
    such a person decide, so only a forged history shows a decision by one."""
    audit_rows_write(
        [
            audit_row(
                action=AuditAction.FIELD_PROPOSED,
                actor=user,
                source=Source.BROWSER,
                content_type_id=proposal.content_type_id,
                object_id=proposal.object_id,
                object_repr=proposal.object_repr,
                proposal_id=proposal.pk,
                field_name="credit_limit",
                field_label="Credit limit",
            )
        ]
    )


@pytest.mark.django_db
def test_a_decision_by_someone_who_took_part_is_listed(
    as_auditor, customer, clerk, approver, approver2, manager, approvals_on, two_steps
):
    proposal = submit(customer, clerk, credit_limit=Decimal("25000"))
    services.proposal_approve(proposal=proposal, actor=approver, comment="OK.")
    forge_took_part(proposal, approver)

    response = as_auditor.get(report_url("duties"))
    rows = exported(as_auditor, "duties", "csv")

    (decision,) = response.context["decisions"]
    assert (decision.username, decision.step, decision.decision, decision.reasons) == (
        "approver",
        "1. Step 1",
        "Approved",
        ("proposed or withdrew Credit limit",),
    )
    assert [
        (r["User"], r["Subject"], r["Details"])
        for r in rows
        if r["Finding"] == "Decided a proposal they took part in"
    ] == [
        (
            "approver",
            f"C00001 Contoso Retail, proposal {proposal.pk}",
            "Approved, 1. Step 1: proposed or withdrew Credit limit",
        )
    ]


@pytest.mark.django_db
def test_decisions_the_rules_allowed_are_not_listed(
    as_auditor, customer, clerk, approver, manager, approvals_on, two_steps
):
    proposal = submit(customer, clerk, credit_limit=Decimal("25000"))
    services.proposal_approve(proposal=proposal, actor=approver)
    services.proposal_approve(proposal=proposal, actor=manager)

    response = as_auditor.get(report_url("duties"))

    assert response.context["decisions"] == []
    assert "There should be none" in response.content.decode()


@pytest.mark.django_db
def test_changes_of_access_parameters_and_workflows_are_listed_with_who(
    as_auditor, approval_admin, approvals_on, active_workflow, roles
):
    newcomer = access_services.user_create(
        actor=approval_admin,
        username="newcomer",
        password=None,
        groups=[roles["Approval administrators"]],
    )
    access_services.user_update(
        actor=approval_admin, user_id=newcomer.pk, values={"first_name": "Nina"}
    )

    response = as_auditor.get(report_url("duties"))
    rows = exported(as_auditor, "duties", "xlsx")

    listed = [
        (e.actor_name, e.get_action_display(), e.model, e.reader_text["label"])
        for e in response.context["page"].rows
    ]
    assert listed == [
        ("admin", "Approval parameters changed", "Approval parameters", label)
        for label in (
            "Enable customer approvals",
            "Data entity behavior",
            "Fields that need approval",
        )
    ] + [
        ("admin", "Workflow changed", "Workflow", ""),
        ("admin", "Workflow changed", "Workflow", ""),
        ("admin", "Workflow activated", "Workflow", ""),
        ("admin", "Created", "User", ""),
        ("admin", "Password changed", "User", "Password"),
        ("admin", "Groups changed", "User", "Groups"),
        ("admin", "Field changed", "User", "First name"),
    ]
    administration = [
        (r["User"], r["Subject"], r["Details"])
        for r in rows
        if r["Finding"] == "Administration"
    ]
    assert len(administration) == len(listed)
    assert administration[-1] == (
        "admin",
        "newcomer",
        "Field changed – First name:  → Nina",
    )


@pytest.mark.django_db
def test_an_administration_change_outside_the_period_is_not_listed(
    as_auditor, approval_admin, active_workflow
):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = as_auditor.get(
        report_url("duties", first=tomorrow.isoformat(), last=tomorrow.isoformat())
    )

    assert response.context["page"].rows == []
