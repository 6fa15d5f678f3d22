"""A clerk's edit: fields that need approval become a draft proposal, the rest save at once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from customers.services import customer_update
from tests.factories import PaymentTermsFactory
from workflow.models import AuditAction, AuditEntry, ChangeProposal, ProposalState


def edit(customer, actor, **values):
    return customer_update(customer_id=customer.pk, values=values, actor=actor)


@pytest.mark.django_db
def test_enabled_field_becomes_proposal_and_other_field_saves(
    customer, clerk, approvals_on
):
    outcome = edit(
        customer, clerk, name="Contoso Retail BV", credit_limit=Decimal("25000")
    )

    customer.refresh_from_db()
    assert customer.name == "Contoso Retail BV"
    assert customer.credit_limit == Decimal("10000.00")
    assert outcome.saved_fields == ["name"]
    assert outcome.proposed_fields == ["credit_limit"]
    proposal = outcome.proposal
    assert proposal.state == ProposalState.DRAFT
    change = proposal.changes.get()
    assert (change.field_name, change.original_value, change.proposed_value) == (
        "credit_limit",
        "10000.00",
        "25000.00",
    )
    assert change.proposed_by == clerk


@pytest.mark.django_db
def test_changing_the_same_field_again_replaces_the_proposed_value(
    customer, clerk, approvals_on
):
    edit(customer, clerk, credit_limit=Decimal("25000"))
    outcome = edit(customer, clerk, credit_limit=Decimal("30000"))

    change = outcome.proposal.changes.get()
    assert change.original_value == "10000.00"
    assert change.proposed_value == "30000.00"
    assert ChangeProposal.objects.count() == 1


@pytest.mark.django_db
def test_setting_a_field_back_to_its_original_removes_it(customer, clerk, approvals_on):
    edit(
        customer,
        clerk,
        credit_limit=Decimal("25000"),
        bank_account="DE89370400440532013000",
    )
    outcome = edit(customer, clerk, credit_limit=Decimal("10000"))

    assert outcome.withdrawn_fields == ["credit_limit"]
    assert list(outcome.proposal.changes.values_list("field_name", flat=True)) == [
        "bank_account"
    ]


@pytest.mark.django_db
def test_draft_left_without_changes_is_discarded(customer, clerk, approvals_on):
    first = edit(customer, clerk, credit_limit=Decimal("25000"))
    edit(customer, clerk, credit_limit=Decimal("10000.00"))

    first.proposal.refresh_from_db()
    assert first.proposal.state == ProposalState.DISCARDED


@pytest.mark.django_db
def test_foreign_key_field_is_proposed_by_code(customer, clerk, approvals_on):
    net60 = PaymentTermsFactory(code="Net60")
    outcome = edit(customer, clerk, payment_terms=net60)

    customer.refresh_from_db()
    assert customer.payment_terms.code == "Net30"
    assert outcome.proposal.changes.get().proposed_value == net60.pk


@pytest.mark.django_db
def test_with_approvals_disabled_every_field_saves(customer, clerk):
    outcome = edit(
        customer,
        clerk,
        credit_limit=Decimal("25000"),
        bank_account="DE89370400440532013000",
    )

    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("25000")
    assert customer.bank_account == "DE89370400440532013000"
    assert outcome.proposal is None
    assert not ChangeProposal.objects.exists()


@pytest.mark.django_db
def test_direct_changes_leave_an_audit_row_per_field(customer, clerk, approvals_on):
    edit(customer, clerk, name="Renamed", credit_limit=Decimal("1"))

    rows = AuditEntry.objects.filter(object_id=customer.pk).exclude(
        action=AuditAction.CREATED
    )
    by_action = {(r.action, r.field_name): r for r in rows}
    changed = by_action[(AuditAction.FIELD_CHANGED, "name")]
    assert (
        changed.old_display,
        changed.new_display,
        changed.actor,
        changed.source,
    ) == (
        "Contoso Retail",
        "Renamed",
        clerk,
        "browser",
    )
    proposed = by_action[(AuditAction.FIELD_PROPOSED, "credit_limit")]
    assert proposed.proposal is not None


@pytest.mark.django_db
def test_invalid_proposed_value_is_refused_before_anything_is_stored(
    customer, clerk, approvals_on
):
    with pytest.raises(ValidationError) as raised:
        edit(customer, clerk, name="Saved?", bank_account="NL00ABNA0000000000")

    assert "bank_account" in raised.value.message_dict
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"
    assert not ChangeProposal.objects.exists()


@pytest.mark.django_db
def test_iban_is_stored_in_its_compact_form(customer, clerk, approvals_on):
    outcome = edit(customer, clerk, bank_account="de89 3704 0044 0532 0130 00")

    assert outcome.proposal.changes.get().proposed_value == "DE89370400440532013000"


@pytest.mark.django_db
def test_an_emptied_draft_is_discarded_with_an_audit_row(customer, clerk, approvals_on):
    first = edit(customer, clerk, credit_limit=Decimal("25000"))
    edit(customer, clerk, credit_limit=Decimal("10000.00"))
    assert AuditEntry.objects.filter(
        proposal=first.proposal, action=AuditAction.PROPOSAL_DISCARDED
    ).exists()


@pytest.mark.django_db
def test_the_proposal_names_the_record_as_renamed_in_the_same_or_a_later_save(
    customer, clerk, approvals_on
):
    """My work items and the mails show the record's current name, not the old one."""
    outcome = edit(
        customer, clerk, name="Contoso Retail BV", credit_limit=Decimal("25000")
    )
    assert outcome.proposal.object_repr == f"{customer.account} Contoso Retail BV"

    edit(customer, clerk, name="Contoso Benelux")
    outcome.proposal.refresh_from_db()
    assert outcome.proposal.object_repr == f"{customer.account} Contoso Benelux"
