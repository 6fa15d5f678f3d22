"""Whoever added a field to someone else's draft took part in it and never decides it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.models import Customer
from tests.conftest import propose
from workflow import services
from workflow.exceptions import OWN_PROPOSAL, PermissionRefused
from workflow.models import ProposalState

BANK_ACCOUNT = "DE89370400440532013000"


@pytest.fixture
def co_proposed(
    customer, clerk, clerk2, approver, roles, approvals_on, active_workflow
):
    """clerk proposes a credit limit; clerk2, also an approver, adds a bank account to
    the same draft; clerk submits it."""
    clerk2.groups.add(roles["Approvers"])
    draft = propose(customer, clerk, credit_limit=Decimal("25000"))
    assert propose(customer, clerk2, bank_account=BANK_ACCOUNT).pk == draft.pk
    return services.proposal_submit(proposal=draft, actor=clerk)


def decide(action, proposal, actor):
    if action == "approve":
        return services.proposal_approve(proposal=proposal, actor=actor)
    if action == "reject":
        return services.proposal_reject(proposal=proposal, actor=actor, comment="No.")
    return services.proposal_request_change(
        proposal=proposal, actor=actor, comment="Which bank?"
    )


def assert_untouched(proposal, customer):
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PENDING
    customer = Customer.objects.get(pk=customer.pk)
    assert (customer.credit_limit, customer.bank_account) == (
        Decimal("10000.00"),
        "NL91ABNA0417164300",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["approve", "reject", "request_change"])
def test_a_co_proposer_may_not_decide(co_proposed, customer, clerk2, action):
    with pytest.raises(PermissionRefused) as refused:
        decide(action, co_proposed, clerk2)

    assert refused.value.message == str(OWN_PROPOSAL)
    assert_untouched(co_proposed, customer)


@pytest.mark.django_db
def test_a_co_proposer_gets_no_work_item_and_another_approver_decides(
    co_proposed, customer, approver
):
    assert list(
        co_proposed.work_items.values_list("assignee__username", flat=True)
    ) == ["approver"]

    proposal = services.proposal_approve(proposal=co_proposed, actor=approver)

    assert proposal.state == ProposalState.APPLIED
    customer.refresh_from_db()
    assert (customer.credit_limit, customer.bank_account) == (
        Decimal("25000.00"),
        BANK_ACCOUNT,
    )


@pytest.mark.django_db
def test_a_co_proposer_is_refused_by_bulk_approve(co_proposed, customer, clerk2):
    outcome = services.proposals_approve_bulk(
        proposal_ids=[co_proposed.pk], actor=clerk2
    )

    assert outcome.refused == {co_proposed.pk: str(OWN_PROPOSAL)}
    assert (outcome.approved, outcome.applied) == ([], [])
    assert_untouched(co_proposed, customer)
