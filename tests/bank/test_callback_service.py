"""A call-back verification step: the verifier records the number called (one on file
before the change), the person reached and the outcome."""

from __future__ import annotations

import pytest
from django.utils import translation

from tests.bank.conftest import NEW_IBAN, ON_FILE
from tests.conftest import submit
from workflow import services
from workflow.exceptions import NotSubmittable, PermissionRefused
from workflow.models import (
    AuditAction,
    AuditEntry,
    BankAccountStatus,
    CallbackVerification,
    ProposalState,
)

pytestmark = pytest.mark.django_db


def test_a_confirmed_call_back_applies_the_change_and_keeps_the_evidence(
    customer, clerk, verifier, bank_controls
):
    proposal = submit(customer, clerk, bank_account=NEW_IBAN)
    services.proposal_callback(
        proposal=proposal,
        actor=verifier,
        phone="020 555 0102",
        person="Jan de Vries, controller",
        outcome="confirmed",
        comment="Known voice.",
    )
    proposal.refresh_from_db()
    customer.refresh_from_db()
    assert proposal.state == ProposalState.APPLIED
    assert customer.bank_account == NEW_IBAN
    call = CallbackVerification.objects.get(proposal=proposal)
    assert (call.phone_called, call.person_reached, call.verifier) == (
        "020 555 0102",
        "Jan de Vries, controller",
        verifier,
    )
    approved = AuditEntry.objects.get(proposal=proposal, action=AuditAction.APPROVED)
    assert approved.comment == (
        "Call-back to 020 555 0102, reached Jan de Vries, controller: confirmed. "
        "Known voice."
    )
    assert approved.comment_translations["nl"] == (
        "Teruggebeld naar 020 555 0102, Jan de Vries, controller bereikt: bevestigd. "
        "Known voice."
    )
    status = BankAccountStatus.objects.get(object_id=customer.pk)
    assert status.verified and status.verified_by == verifier
    assert str(status).startswith("Verified on ")


def test_a_failed_call_back_rejects_and_leaves_the_account(
    customer, clerk, verifier, bank_controls
):
    old = customer.bank_account
    proposal = submit(customer, clerk, bank_account=NEW_IBAN)
    services.proposal_callback(
        proposal=proposal,
        actor=verifier,
        phone=ON_FILE,
        person="Reception",
        outcome="failed",
    )
    proposal.refresh_from_db()
    customer.refresh_from_db()
    assert proposal.state == ProposalState.REJECTED
    assert customer.bank_account == old
    rejected = AuditEntry.objects.get(proposal=proposal, action=AuditAction.REJECTED)
    assert rejected.comment == f"Call-back to {ON_FILE}, reached Reception: failed."
    assert not BankAccountStatus.objects.exists()


@pytest.mark.parametrize("phone", ["+31 6 1234 5678", "+44 20 7946 0000", ""])
def test_only_a_number_on_file_before_the_change_may_be_called(
    customer, clerk, verifier, bank_controls, phone
):
    # The proposal brings its own phone number: calling it would reach the fraudster.
    proposal = submit(customer, clerk, bank_account=NEW_IBAN, phone="+31 6 1234 5678")
    with pytest.raises(NotSubmittable) as refused:
        services.proposal_callback(
            proposal=proposal,
            actor=verifier,
            phone=phone,
            person="Someone",
            outcome="confirmed",
        )
    assert "Call back only a number the record had before this change" in str(
        refused.value
    ) or "Choose the phone number you called." in str(refused.value)
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PENDING
    assert not CallbackVerification.objects.exists()


def test_the_original_number_of_a_changed_phone_may_be_called(
    customer, clerk, verifier, bank_controls
):
    proposal = submit(customer, clerk, bank_account=NEW_IBAN, phone="+31 6 1234 5678")
    services.proposal_callback(
        proposal=proposal,
        actor=verifier,
        phone=ON_FILE,
        person="Jan",
        outcome="confirmed",
    )
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.APPLIED


@pytest.mark.parametrize(
    ("person", "outcome", "message"),
    [
        ("", "confirmed", "Write the name of the person you reached."),
        ("Jan", "", "Say whether the person you reached confirmed the change or not."),
    ],
)
def test_the_person_and_the_outcome_are_required(
    customer, clerk, verifier, bank_controls, person, outcome, message
):
    proposal = submit(customer, clerk, bank_account=NEW_IBAN)
    with pytest.raises(NotSubmittable, match=message):
        services.proposal_callback(
            proposal=proposal,
            actor=verifier,
            phone=ON_FILE,
            person=person,
            outcome=outcome,
        )


def test_the_refusal_is_in_dutch_for_a_dutch_verifier(
    customer, clerk, verifier, bank_controls
):
    proposal = submit(customer, clerk, bank_account=NEW_IBAN)
    with translation.override("nl"), pytest.raises(NotSubmittable) as refused:
        services.proposal_callback(
            proposal=proposal,
            actor=verifier,
            phone="+31 6 9999 9999",
            person="Jan",
            outcome="confirmed",
        )
    assert "Bel alleen terug" in str(refused.value)


def test_the_submitter_cannot_do_the_call_back(
    customer, clerk, verifier, bank_controls, roles
):
    # The clerk is a finance manager too, so a work item of the step reaches them.
    clerk.groups.add(roles["Finance managers"])
    proposal = submit(customer, clerk, bank_account=NEW_IBAN)
    with pytest.raises(PermissionRefused, match="you proposed or submitted them"):
        services.proposal_callback(
            proposal=proposal,
            actor=clerk,
            phone=ON_FILE,
            person="Jan",
            outcome="confirmed",
        )
    assert not CallbackVerification.objects.exists()


def test_a_call_back_step_is_not_approved_without_its_call(
    customer, clerk, verifier, bank_controls
):
    proposal = submit(customer, clerk, bank_account=NEW_IBAN)
    with pytest.raises(NotSubmittable, match="call-back verification"):
        services.proposal_approve(proposal=proposal, actor=verifier)
    outcome = services.proposals_approve_bulk(
        proposal_ids=[proposal.pk], actor=verifier
    )
    assert "call-back verification" in str(outcome.refused[proposal.pk])


def test_a_change_applied_without_a_call_back_is_unverified(
    customer, clerk, verifier, approver, bank_controls, approval_admin, roles
):
    from tests.conftest import make_workflow

    proposal = submit(customer, clerk, bank_account=NEW_IBAN)
    services.proposal_callback(
        proposal=proposal,
        actor=verifier,
        phone=ON_FILE,
        person="Jan",
        outcome="confirmed",
    )
    assert BankAccountStatus.objects.get().verified
    make_workflow(approval_admin, {"assigned_group": roles["Approvers"]})
    second = submit(customer, clerk, bank_account="NL02ABNA0123456789")
    services.proposal_approve(proposal=second, actor=approver)
    status = BankAccountStatus.objects.get()
    assert not status.verified and str(status) == "Unverified"


def test_a_call_back_step_is_never_approved_by_the_system(approval_admin, roles):
    from django.core.exceptions import ValidationError

    from tests.conftest import make_workflow
    from workflow.models import EscalationAction, StepKindChoices

    with pytest.raises(ValidationError, match="Nobody calls back"):
        make_workflow(
            approval_admin,
            {
                "assigned_group": roles["Finance managers"],
                "kind": StepKindChoices.CALLBACK,
                "time_limit_value": 2,
                "escalation_action": EscalationAction.APPROVE,
            },
        )


def test_a_phone_changed_without_approval_after_the_proposal_is_not_on_file(
    client, customer, clerk, verifier, bank_controls, approval_admin
):
    """The clerk proposes the bank account, then changes the phone directly (it is not
    under approval): the call-back still rings the number from before, and the
    verifier is warned."""
    from django.urls import reverse

    from customers.models import Customer
    from customers.services import customer_update
    from workflow.models import DataEntityBehavior

    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=DataEntityBehavior.PROPOSE,
        enabled_fields=["bank_account"],
        actor=approval_admin,
    )
    proposal = submit(customer, clerk, bank_account=NEW_IBAN)
    customer_update(
        customer_id=customer.pk, values={"phone": "+31 6 1234 5678"}, actor=clerk
    )
    with pytest.raises(NotSubmittable, match="Call back only a number"):
        services.proposal_callback(
            proposal=proposal,
            actor=verifier,
            phone="+31 6 1234 5678",
            person="Jan",
            outcome="confirmed",
        )
    client.force_login(verifier)
    page = client.get(
        reverse("admin:customers_customer_workflow", args=[customer.pk, "approve"])
    ).content.decode()
    assert f'<option value="{ON_FILE}">' in page
    assert '<option value="+31 6 1234 5678">' not in page
    assert "Phone changed shortly before this proposal (within 90 days)" in page
    services.proposal_callback(
        proposal=proposal,
        actor=verifier,
        phone=ON_FILE,
        person="Jan",
        outcome="confirmed",
    )
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.APPLIED
