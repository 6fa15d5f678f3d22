"""Reference values that change what customers owe go through the approval engine: the
days of terms of payment, the days and percentage of a cash discount. Their descriptions
stay free."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from customers import services as customer_services
from customers.models import CashDiscount, Customer, PaymentTerms
from tests.conftest import GOVERNED_FIELDS
from tests.customers.conftest import approvals_on_for, stored_days, stored_discount
from workflow import selectors, services
from workflow.enforcement import GovernedWriteRefused
from workflow.exceptions import NO_PERMISSION, OWN_PROPOSAL, PermissionRefused
from workflow.models import AuditAction, ProposalState, WorkItemState

DAYS_REFUSED = (
    "Days until due of terms of payment is under approval and cannot be written "
    "directly. Change it on the record's page, or by an import, so that it goes "
    "through approval."
)


def change_terms(terms, actor, **values):
    return customer_services.payment_terms_update(
        payment_terms_id=terms.pk, values=values, actor=actor
    )


def history(instance) -> list[tuple[str, str, str, object, object]]:
    """The record's audit trail, oldest first: action, who, field, old and new value."""
    return [
        (
            e.action,
            e.actor.username if e.actor else "",
            e.field_name,
            e.old_value,
            e.new_value,
        )
        for e in reversed(list(selectors.audit_entries_for(instance)))
    ]


@pytest.mark.django_db
def test_a_clerks_change_of_the_days_becomes_a_proposal_not_a_write(
    terms, clerk, terms_approvals_on, terms_workflow
):
    outcome = change_terms(terms, clerk, days=45)

    assert (outcome.saved_fields, outcome.proposed_fields) == ([], ["days"])
    assert outcome.proposal.state == ProposalState.DRAFT
    assert list(
        outcome.proposal.changes.values_list(
            "field_name", "original_value", "proposed_value"
        )
    ) == [("days", 30, 45)]
    assert stored_days(terms) == 30


@pytest.mark.django_db
def test_the_days_change_only_when_a_finance_manager_approves(
    terms, clerk, manager, terms_approvals_on, terms_workflow
):
    proposal = services.proposal_submit(
        proposal=change_terms(terms, clerk, days=45).proposal, actor=clerk
    )

    assert proposal.state == ProposalState.PENDING
    assert list(proposal.work_items.values_list("assignee__username", "state")) == [
        ("manager", WorkItemState.OPEN)
    ]
    assert stored_days(terms) == 30

    proposal = services.proposal_approve(
        proposal=proposal, actor=manager, comment="New policy from 1 January."
    )

    assert proposal.state == ProposalState.APPLIED
    assert stored_days(terms) == 45
    assert history(terms) == [
        (AuditAction.FIELD_PROPOSED, "clerk", "days", 30, 45),
        (AuditAction.SUBMITTED, "clerk", "", None, None),
        (AuditAction.STEP_STARTED, "", "", None, None),
        (AuditAction.APPROVED, "manager", "", None, None),
        (AuditAction.FIELD_CHANGED, "manager", "days", 30, 45),
        (AuditAction.APPLIED, "", "", None, None),
    ]


@pytest.mark.django_db
def test_a_rejected_change_leaves_the_days_as_they_were(
    terms, clerk, manager, terms_approvals_on, terms_workflow
):
    proposal = services.proposal_submit(
        proposal=change_terms(terms, clerk, days=90).proposal, actor=clerk
    )
    proposal = services.proposal_reject(
        proposal=proposal, actor=manager, comment="Ninety days is too long."
    )

    assert proposal.state == ProposalState.REJECTED
    assert stored_days(terms) == 30


@pytest.mark.django_db
def test_the_description_saves_at_once_beside_the_proposed_days(
    terms, clerk, terms_approvals_on, terms_workflow
):
    outcome = change_terms(terms, clerk, days=45, description="Net 45 days")

    assert (outcome.saved_fields, outcome.proposed_fields) == (
        ["description"],
        ["days"],
    )
    assert PaymentTerms.objects.values_list("description", "days").get(pk=terms.pk) == (
        "Net 45 days",
        30,
    )
    assert history(terms) == [
        (
            AuditAction.FIELD_CHANGED,
            "clerk",
            "description",
            "Net 30 days",
            "Net 45 days",
        ),
        (AuditAction.FIELD_PROPOSED, "clerk", "days", 30, 45),
    ]


@pytest.mark.django_db
def test_the_days_save_at_once_when_they_are_not_under_approval(
    terms, clerk, approval_admin
):
    approvals_on_for(PaymentTerms, [], approval_admin)

    outcome = change_terms(terms, clerk, days=45)

    assert (outcome.saved_fields, outcome.proposed_fields) == (["days"], [])
    assert outcome.proposal is None
    assert stored_days(terms) == 45
    assert history(terms) == [(AuditAction.FIELD_CHANGED, "clerk", "days", 30, 45)]


@pytest.mark.django_db
def test_the_customer_parameters_do_not_govern_the_terms_nor_the_other_way_round(
    customer, terms, clerk, approvals_on, approval_admin
):
    """Two governed models, each with its own parameters: the customers' "payment
    terms" field under approval does not put the days of the terms under approval."""
    assert selectors.enabled_fields_for(Customer) == set(GOVERNED_FIELDS)
    assert selectors.enabled_fields_for(PaymentTerms) == frozenset()
    assert change_terms(terms, clerk, days=14).saved_fields == ["days"]

    approvals_on_for(PaymentTerms, ["days"], approval_admin)
    approvals_on_for(Customer, [], approval_admin)

    assert change_terms(terms, clerk, days=21).proposed_fields == ["days"]
    assert stored_days(terms) == 14
    outcome = customer_services.customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("1")}, actor=clerk
    )
    assert outcome.saved_fields == ["credit_limit"]


@pytest.mark.django_db
def test_the_proposer_cannot_approve_a_change_of_terms(
    terms, clerk, manager, roles, terms_approvals_on, terms_workflow
):
    clerk.groups.add(roles["Finance managers"])
    proposal = services.proposal_submit(
        proposal=change_terms(terms, clerk, days=60).proposal, actor=clerk
    )

    assert list(proposal.work_items.values_list("assignee__username", flat=True)) == [
        "manager"
    ]
    with pytest.raises(PermissionRefused) as refused:
        services.proposal_approve(proposal=proposal, actor=clerk)
    assert refused.value.message == str(OWN_PROPOSAL)
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PENDING
    assert stored_days(terms) == 30


@pytest.mark.django_db
def test_an_approval_administrator_cannot_submit_a_change_of_the_days(
    terms, approval_admin, terms_approvals_on, terms_workflow
):
    """Whoever sets the approval parameters puts no change of terms through: their edit
    of the days stays a draft they may not submit."""
    draft = change_terms(terms, approval_admin, days=5).proposal

    with pytest.raises(PermissionRefused) as refused:
        services.proposal_submit(proposal=draft, actor=approval_admin)
    assert refused.value.message == str(NO_PERMISSION)
    draft.refresh_from_db()
    assert draft.state == ProposalState.DRAFT
    assert stored_days(terms) == 30


@pytest.mark.django_db
def test_an_approver_without_the_change_permission_cannot_change_terms(
    terms, approver, terms_approvals_on
):
    with pytest.raises(PermissionRefused) as refused:
        change_terms(terms, approver, description="Mine")
    assert refused.value.message == str(NO_PERMISSION)
    assert PaymentTerms.objects.get(pk=terms.pk).description == "Net 30 days"


@pytest.mark.django_db
def test_the_days_and_percentage_of_a_cash_discount_need_approval(
    discount, clerk, manager, discount_approvals_on, discount_workflow
):
    outcome = customer_services.cash_discount_update(
        cash_discount_id=discount.pk,
        values={
            "days": 14,
            "percentage": Decimal("3"),
            "description": "3% within 14 days",
        },
        actor=clerk,
    )

    assert outcome.saved_fields == ["description"]
    assert sorted(outcome.proposed_fields) == ["days", "percentage"]
    assert stored_discount(discount) == (10, Decimal("2.00"))

    proposal = services.proposal_submit(proposal=outcome.proposal, actor=clerk)
    services.proposal_approve(proposal=proposal, actor=manager)

    assert stored_discount(discount) == (14, Decimal("3.00"))
    assert CashDiscount.objects.get(pk=discount.pk).description == "3% within 14 days"


@pytest.mark.django_db
def test_new_terms_need_no_approval(clerk, approval_admin, terms_approvals_on):
    created = customer_services.payment_terms_create(
        values={"code": "Net90", "description": "Net 90 days", "days": 90},
        actor=approval_admin,
    )

    assert stored_days(created) == 90
    assert history(created) == [(AuditAction.CREATED, "admin", "", None, None)]
    with pytest.raises(PermissionRefused):
        customer_services.payment_terms_create(
            values={"code": "Net120", "days": 120}, actor=clerk
        )
    assert not PaymentTerms.objects.filter(code="Net120").exists()


# --- writes around the engine ---------------------------------------------------------


@pytest.mark.django_db
def test_a_queryset_update_of_the_days_is_refused_while_under_approval(
    terms, terms_approvals_on
):
    queryset = PaymentTerms.objects.filter(pk=terms.pk)

    with pytest.raises(GovernedWriteRefused) as refused:
        queryset.update(days=60)
    assert refused.value.message == DAYS_REFUSED
    assert stored_days(terms) == 30
    assert queryset.update(description="Thirty days net") == 1
    assert PaymentTerms.objects.get(pk=terms.pk).description == "Thirty days net"


@pytest.mark.django_db
def test_a_save_of_the_days_is_refused_while_under_approval(terms, terms_approvals_on):
    terms.days = 60
    with pytest.raises(GovernedWriteRefused):
        terms.save()
    assert stored_days(terms) == 30


@pytest.mark.django_db
def test_a_queryset_update_of_the_days_passes_when_they_are_not_under_approval(terms):
    assert PaymentTerms.objects.filter(pk=terms.pk).update(days=60) == 1
    assert stored_days(terms) == 60


@pytest.mark.django_db
def test_a_queryset_update_of_a_cash_discount_percentage_is_refused(
    discount, discount_approvals_on
):
    with pytest.raises(GovernedWriteRefused):
        CashDiscount.objects.filter(pk=discount.pk).update(percentage=Decimal("9"))
    assert stored_discount(discount) == (10, Decimal("2.00"))


def sql_update_days(terms, days: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_paymentterms SET days = %s WHERE id = %s",
            [days, terms.pk],
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_plain_sql_cannot_change_the_days_under_approval(terms, terms_approvals_on):
    with pytest.raises(DatabaseError) as refused:
        with transaction.atomic():
            sql_update_days(terms, 60)
    assert "customers_paymentterms.days is under approval" in str(refused.value)
    assert stored_days(terms) == 30
    with connection.cursor() as cursor:  # the description is free
        cursor.execute(
            "UPDATE customers_paymentterms SET description = 'Net thirty' WHERE id = %s",
            [terms.pk],
        )
    assert PaymentTerms.objects.get(pk=terms.pk).description == "Net thirty"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_plain_sql_may_change_the_days_when_they_are_not_under_approval(
    terms, terms_approvals_on, approval_admin
):
    approvals_on_for(PaymentTerms, [], approval_admin)

    sql_update_days(terms, 60)

    assert stored_days(terms) == 60


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_approval_of_the_days_writes_through_the_trigger(
    terms, clerk, manager, terms_approvals_on, terms_workflow
):
    proposal = services.proposal_submit(
        proposal=change_terms(terms, clerk, days=45).proposal, actor=clerk
    )
    services.proposal_approve(proposal=proposal, actor=manager)

    assert stored_days(terms) == 45
