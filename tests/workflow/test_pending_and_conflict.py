"""One open proposal per customer; edits while pending; conflicts found at apply time."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from customers.models import Customer
from customers.services import customer_update
from tests.conftest import store_around_approval
from workflow import services
from workflow.models import AuditAction, AuditEntry, ChangeProposal, ProposalState


def submit_credit_limit(customer, clerk, value="25000"):
    proposal = customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal(value)}, actor=clerk
    ).proposal
    return services.proposal_submit(proposal=proposal, actor=clerk)


@pytest.mark.django_db
def test_edits_of_enabled_fields_are_refused_while_pending_but_others_save(
    customer, clerk, approver, approvals_on, active_workflow
):
    submit_credit_limit(customer, clerk)
    outcome = customer_update(
        customer_id=customer.pk,
        values={"credit_limit": Decimal("99999"), "name": "Still saved"},
        actor=clerk,
    )

    customer.refresh_from_db()
    assert customer.name == "Still saved"
    assert customer.credit_limit == Decimal("10000.00")
    assert outcome.saved_fields == ["name"]
    assert outcome.refused["credit_limit"] == (
        "Credit limit was not saved: this customer has changes pending approval. "
        "You can change it again once they are approved or rejected."
    )
    assert ChangeProposal.objects.count() == 1


@pytest.mark.django_db
def test_database_allows_only_one_open_proposal_per_customer(
    customer, clerk, approvals_on
):
    first = customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("1")}, actor=clerk
    ).proposal
    with pytest.raises(IntegrityError), transaction.atomic():
        ChangeProposal.objects.create(
            content_type=first.content_type,
            object_id=customer.pk,
            object_repr="dup",
            created_by=clerk,
        )


@pytest.mark.django_db
def test_value_changed_by_another_path_puts_the_proposal_in_conflict(
    customer, clerk, approver, approvals_on, active_workflow, approval_admin
):
    proposal = submit_credit_limit(customer, clerk)
    # Another path: an administrator turns approvals off and edits the value directly.
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=False,
        data_entity_behavior="propose",
        enabled_fields=["credit_limit"],
        actor=approval_admin,
    )
    customer_update(
        customer_id=customer.pk,
        values={"credit_limit": Decimal("500")},
        actor=clerk,
    )

    proposal = services.proposal_approve(proposal=proposal, actor=approver)

    customer.refresh_from_db()
    assert proposal.state == ProposalState.CONFLICT
    assert customer.credit_limit == Decimal("500")
    conflict = AuditEntry.objects.get(proposal=proposal, action=AuditAction.CONFLICT)
    assert conflict.field_name == "credit_limit"
    assert "nothing was written" in conflict.comment
    assert not AuditEntry.objects.filter(
        proposal=proposal, action=AuditAction.FIELD_CHANGED
    ).exists()


@pytest.mark.django_db
def test_after_a_conflict_the_customer_can_get_a_new_proposal(
    customer, clerk, approver, approvals_on, active_workflow, approval_admin
):
    proposal = submit_credit_limit(customer, clerk)
    store_around_approval(customer, credit_limit=Decimal("1"))
    assert (
        services.proposal_approve(proposal=proposal, actor=approver).state
        == ProposalState.CONFLICT
    )

    again = customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("2")}, actor=clerk
    )
    assert again.proposal.state == ProposalState.DRAFT
    assert again.proposal.pk != proposal.pk


@pytest.mark.django_db
def test_discard_one_field_and_discard_all(customer, clerk, approvals_on):
    proposal = customer_update(
        customer_id=customer.pk,
        values={"credit_limit": Decimal("1"), "bank_account": "DE89370400440532013000"},
        actor=clerk,
    ).proposal

    services.proposal_discard_field(
        proposal=proposal, field_name="credit_limit", actor=clerk
    )
    assert list(proposal.changes.values_list("field_name", flat=True)) == [
        "bank_account"
    ]

    services.proposal_discard(proposal=proposal, actor=clerk)
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.DISCARDED
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("10000.00")
    assert AuditEntry.objects.filter(
        proposal=proposal, action=AuditAction.PROPOSAL_DISCARDED
    ).exists()


@pytest.mark.django_db
def test_a_submitted_proposal_cannot_be_discarded(
    customer, clerk, approver, approvals_on, active_workflow
):
    from workflow.exceptions import AlreadyDecided

    proposal = submit_credit_limit(customer, clerk)
    with pytest.raises(AlreadyDecided):
        services.proposal_discard(proposal=proposal, actor=clerk)


@pytest.mark.django_db
def test_state_cannot_be_assigned_directly(customer, clerk, approvals_on):
    from django_fsm import TransitionNotAllowed

    proposal = customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("1")}, actor=clerk
    ).proposal
    with pytest.raises(AttributeError):
        proposal.state = ProposalState.APPLIED
    with pytest.raises(TransitionNotAllowed):
        proposal.apply()
