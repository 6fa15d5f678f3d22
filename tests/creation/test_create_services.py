"""A new customer waits for approval when its parameters say so: the creation is a
proposal (every value entered, old values empty) that the usual workflow decides."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from customers.models import Customer
from customers.services import customer_create, customer_update
from tests.conftest import submit
from tests.factories import CustomerFactory
from workflow import services
from workflow.exceptions import WorkflowError
from workflow.models import AuditAction, AuditEntry, ProposalState, WorkItem


def creation_proposal(customer):
    return services_proposals(customer)[0]


def services_proposals(customer):
    from workflow.models import ChangeProposal

    return list(
        ChangeProposal.objects.filter(object_id=customer.pk, creates_record=True)
    )


def decide(proposal, approver, *, approve=True, comment="Checked"):
    if approve:
        return services.proposal_approve(
            proposal=proposal, actor=approver, comment=comment
        )
    return services.proposal_reject(proposal=proposal, actor=approver, comment=comment)


@pytest.mark.django_db
def test_parameter_off_creates_an_active_customer(clerk, approvals_on, new_values):
    customer = customer_create(values=new_values, actor=clerk)

    assert customer.record_status == "active"
    assert services_proposals(customer) == []


@pytest.mark.django_db
def test_a_clerks_new_customer_awaits_approval_with_a_submitted_creation_proposal(
    clerk, approver, creation_needs_approval, new_values
):
    customer = customer_create(values=new_values, actor=clerk)
    customer.refresh_from_db()

    assert customer.record_status == "awaiting"
    proposal = creation_proposal(customer)
    assert proposal.state == ProposalState.PENDING
    assert proposal.created_by == clerk and proposal.submitted_by == clerk
    changes = {c.field_name: c for c in proposal.changes.all()}
    assert changes["credit_limit"].original_value is None
    assert changes["credit_limit"].proposed_value == "5000.00"
    assert changes["name"].proposed_value == "Fabrikam New"
    assert changes["bank_account"].proposed_value == "NL91ABNA0417164300"
    # Empty values are not proposed.
    assert "email" not in changes
    assert WorkItem.objects.filter(proposal=proposal, assignee=approver).exists()


@pytest.mark.django_db
def test_approval_makes_the_customer_active_and_audits_every_value_from_empty(
    clerk, approver, creation_needs_approval, new_values
):
    customer = customer_create(values=new_values, actor=clerk)
    proposal = decide(creation_proposal(customer), approver)
    customer.refresh_from_db()

    assert proposal.state == ProposalState.APPLIED
    assert customer.record_status == "active"
    assert customer.credit_limit == Decimal("5000.00")
    written = AuditEntry.objects.filter(
        proposal=proposal, action=AuditAction.FIELD_CHANGED, field_name="credit_limit"
    ).get()
    assert written.old_value is None and written.new_value == "5000.00"
    actions = list(
        AuditEntry.objects.filter(content_type__model="customer", object_id=customer.pk)
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[0] == AuditAction.CREATED
    assert AuditAction.SUBMITTED in actions and AuditAction.APPROVED in actions
    assert actions[-1] == AuditAction.RECORD_ACTIVATED


@pytest.mark.django_db
def test_rejection_leaves_the_customer_rejected_and_edit_resubmit_activates_it(
    clerk, approver, creation_needs_approval, new_values
):
    customer = customer_create(values=new_values, actor=clerk)
    decide(creation_proposal(customer), approver, approve=False, comment="No KYC")
    customer.refresh_from_db()
    assert customer.record_status == "rejected"
    entry = AuditEntry.objects.filter(
        content_type__model="customer",
        object_id=customer.pk,
        action=AuditAction.RECORD_REJECTED,
    ).get()
    assert "Edit it and submit it again, or delete it" in entry.comment

    # Edited: a new creation proposal, holding all its values, to submit again.
    draft = customer_update(
        customer_id=customer.pk,
        values={"credit_limit": Decimal("2500")},
        actor=clerk,
    ).proposal
    assert draft.creates_record and draft.state == ProposalState.DRAFT
    changes = {c.field_name: c.proposed_value for c in draft.changes.all()}
    assert changes["credit_limit"] == "2500.00"
    assert changes["name"] == "Fabrikam New"
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("5000.00")
    services.proposal_submit(proposal=draft, actor=clerk)
    customer.refresh_from_db()
    assert customer.record_status == "awaiting"

    decide(draft, approver)
    customer.refresh_from_db()
    assert customer.record_status == "active"
    assert customer.credit_limit == Decimal("2500.00")


@pytest.mark.django_db
def test_a_rejected_customer_may_be_deleted(
    clerk, approver, creation_needs_approval, new_values
):
    customer = customer_create(values=new_values, actor=clerk)
    decide(creation_proposal(customer), approver, approve=False)
    customer.refresh_from_db()
    # The demo's clerks may not delete customers; whoever may deletes a rejected one.
    clerk.user_permissions.add(Permission.objects.get(codename="delete_customer"))
    clerk = type(clerk).objects.get(pk=clerk.pk)
    services.governed_record_delete(instance=customer, actor=clerk)

    assert not Customer.objects.filter(pk=customer.pk).exists()


@pytest.mark.django_db
def test_the_creator_cannot_approve_their_own_creation(
    clerk, approver, approver2, creation_needs_approval, new_values
):
    # An approver who may also create customers creates one: the step goes to the
    # other approver only, and their own approval is refused.
    approver.groups.add(*clerk.groups.all())
    approver = type(approver).objects.get(pk=approver.pk)
    customer = customer_create(values=new_values, actor=approver)
    proposal = creation_proposal(customer)
    assert proposal.state == ProposalState.PENDING
    assert [i.assignee for i in WorkItem.objects.filter(proposal=proposal)] == [
        approver2
    ]

    with pytest.raises(WorkflowError, match="because you proposed or submitted them"):
        decide(proposal, approver)
    customer.refresh_from_db()
    assert customer.record_status == "awaiting"
    decide(proposal, approver2)
    customer.refresh_from_db()
    assert customer.record_status == "active"


@pytest.mark.django_db
def test_fields_of_a_customer_awaiting_approval_cannot_be_changed_around_it(
    clerk, approver, creation_needs_approval, new_values
):
    customer = customer_create(values=new_values, actor=clerk)
    outcome = customer_update(
        customer_id=customer.pk, values={"name": "Another name"}, actor=clerk
    )

    assert "name" in outcome.refused
    customer.refresh_from_db()
    assert customer.name == "Fabrikam New"


@pytest.mark.django_db
def test_the_status_is_written_by_the_engine_only(creation_needs_approval):
    customer = CustomerFactory(record_status="awaiting")
    customer.record_status = "active"

    with pytest.raises(WorkflowError, match="Record status"):
        customer.save()
    with pytest.raises(WorkflowError, match="Record status"):
        Customer.objects.filter(pk=customer.pk).update(record_status="active")


@pytest.mark.django_db
def test_changes_of_an_active_customer_are_unchanged(
    clerk, approver, creation_needs_approval, customer
):
    proposal = submit(customer, clerk, credit_limit=Decimal("99"))

    assert not proposal.creates_record
    decide(proposal, approver)
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("99") and customer.record_status == "active"


@pytest.mark.django_db
def test_a_creation_the_workflow_cannot_take_stays_a_draft_that_takes_the_edits(
    clerk, creation_needs_approval, new_values
):
    # Nobody may approve the workflow's step yet: the creation cannot be submitted.
    customer = customer_create(values=new_values, actor=clerk)
    proposal = creation_proposal(customer)
    assert proposal.state == ProposalState.DRAFT
    customer.refresh_from_db()
    assert customer.record_status == "awaiting"

    outcome = customer_update(
        customer_id=customer.pk, values={"name": "Fabrikam Renamed"}, actor=clerk
    )
    assert outcome.proposal == proposal and outcome.proposed_fields == ["name"]
    customer.refresh_from_db()
    assert customer.name == "Fabrikam New"
