"""Step conditions: each kind, and a step whose condition is false is skipped and recorded."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.models import Customer
from tests.conftest import make_workflow, submit
from workflow import registry
from workflow.core.conditions import ConditionKind, condition_errors, condition_holds
from workflow.models import AuditAction, ProposalState

CREDIT_UP = {"credit_limit": ("10000.00", "16000.00")}


@pytest.mark.parametrize(
    ("kind", "field", "value", "changes", "expected"),
    [
        (ConditionKind.ALWAYS, "", None, {}, True),
        (
            ConditionKind.CHANGES,
            "bank_account",
            None,
            {"bank_account": ("A", "B")},
            True,
        ),
        (ConditionKind.CHANGES, "bank_account", None, CREDIT_UP, False),
        (ConditionKind.INCREASES, "credit_limit", None, CREDIT_UP, True),
        (
            ConditionKind.INCREASES,
            "credit_limit",
            None,
            {"credit_limit": ("5", "4")},
            False,
        ),
        (
            ConditionKind.DECREASES,
            "credit_limit",
            None,
            {"credit_limit": ("5", "4")},
            True,
        ),
        (ConditionKind.DECREASES, "credit_limit", None, CREDIT_UP, False),
        (
            ConditionKind.INCREASES_BY_MORE_THAN_PERCENT,
            "credit_limit",
            Decimal(50),
            CREDIT_UP,
            True,
        ),
        (
            ConditionKind.INCREASES_BY_MORE_THAN_PERCENT,
            "credit_limit",
            Decimal(60),
            CREDIT_UP,
            False,
        ),
        (
            ConditionKind.INCREASES_BY_MORE_THAN_PERCENT,
            "credit_limit",
            Decimal(50),
            {"credit_limit": ("0", "1")},
            True,
        ),
        (ConditionKind.ABOVE, "credit_limit", Decimal(15000), CREDIT_UP, True),
        (ConditionKind.ABOVE, "credit_limit", Decimal(20000), CREDIT_UP, False),
    ],
)
def test_condition_kinds(kind, field, value, changes, expected):
    assert condition_holds(kind, field, value, changes) is expected


@pytest.mark.django_db
def test_condition_mistakes_are_explained():
    governed = registry.get(Customer)
    assert condition_errors(ConditionKind.CHANGES, "", None, governed) == {
        "condition_field": "Choose the field this condition is about."
    }
    assert condition_errors(ConditionKind.ABOVE, "credit_limit", None, governed) == {
        "condition_value": "Give the number this condition compares with."
    }
    assert condition_errors(
        ConditionKind.INCREASES, "bank_account", None, governed
    ) == {
        "condition_kind": "Bank account (IBAN) is not a number, so it cannot increase or decrease."
    }


@pytest.fixture
def bank_needs_second_step(roles, approval_admin, approver, approver2):
    return make_workflow(
        approval_admin,
        {"users": [approver]},
        {
            "users": [approver2],
            "condition_kind": ConditionKind.CHANGES,
            "condition_field": "bank_account",
        },
    )


@pytest.mark.django_db
def test_step_with_false_condition_is_skipped_and_recorded(
    customer, clerk, approver, approvals_on, bank_needs_second_step
):
    from workflow import services

    proposal = submit(customer, clerk, credit_limit=Decimal("20000"))
    proposal = services.proposal_approve(proposal=proposal, actor=approver)

    assert proposal.state == ProposalState.APPLIED
    skipped = proposal.audit_entries.get(action=AuditAction.STEP_SKIPPED)
    assert "2. Step 2" in skipped.comment
    assert "Bank account (IBAN): the field changes" in skipped.comment


@pytest.mark.django_db
def test_step_with_true_condition_runs(
    customer, clerk, approver, approver2, approvals_on, bank_needs_second_step
):
    from workflow import services

    proposal = submit(customer, clerk, bank_account="DE89370400440532013000")
    proposal = services.proposal_approve(proposal=proposal, actor=approver)
    assert proposal.state == ProposalState.PENDING
    assert proposal.current_step.sequence == 2
    proposal = services.proposal_approve(proposal=proposal, actor=approver2)
    assert proposal.state == ProposalState.APPLIED


@pytest.mark.django_db
def test_first_step_skipped_when_its_condition_is_false(
    customer, clerk, approver, approver2, approvals_on, approval_admin
):
    make_workflow(
        approval_admin,
        {
            "users": [approver],
            "condition_kind": ConditionKind.ABOVE,
            "condition_field": "credit_limit",
            "condition_value": Decimal(100000),
        },
        {"users": [approver2]},
    )
    proposal = submit(customer, clerk, credit_limit=Decimal("20000"))
    assert proposal.current_step.sequence == 2
    assert list(proposal.work_items.values_list("assignee__username", flat=True)) == [
        "approver2"
    ]
