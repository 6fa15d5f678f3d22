"""The call-back on the approval page: the verifier picks a number on file before the
change, names the person reached and the outcome; a hand-made POST cannot slip in
another number."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.bank.conftest import NEW_IBAN, ON_FILE
from tests.conftest import submit
from workflow.models import CallbackVerification, ProposalState

pytestmark = pytest.mark.django_db
NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}
NEW_PHONE = "+31 6 1234 5678"


def approve_url(customer):
    return reverse("admin:customers_customer_workflow", args=[customer.pk, "approve"])


@pytest.fixture
def with_new_phone(customer, clerk, bank_controls):
    return submit(customer, clerk, bank_account=NEW_IBAN, phone=NEW_PHONE)


def test_the_page_offers_only_the_numbers_on_file_before_the_change(
    client, customer, verifier, with_new_phone
):
    client.force_login(verifier)
    page = client.get(approve_url(customer)).content.decode()
    assert "Call-back verification" in page
    assert f'<option value="{ON_FILE}">' in page
    assert f'<option value="{NEW_PHONE}">' not in page
    assert "Record the call-back" in page
    # The proposal changes the phone together with the bank account: a warning.
    assert "Bank-detail warnings" in page
    assert "The same proposal also changes Phone" in page


@pytest.mark.parametrize("phone", [NEW_PHONE, "+31 30 123 4567"])
def test_a_hand_made_post_with_another_number_is_refused_in_plain_words(
    client, customer, verifier, with_new_phone, phone
):
    client.force_login(verifier)
    response = client.post(
        approve_url(customer),
        {"phone": phone, "person": "Jan", "outcome": "confirmed", "comment": ""},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Call back only a number the record had before this change" in page
    # What the verifier typed is kept.
    assert 'value="Jan"' in page
    with_new_phone.refresh_from_db()
    assert with_new_phone.state == ProposalState.PENDING
    assert not CallbackVerification.objects.exists()


def test_the_refusal_is_in_dutch_for_a_dutch_verifier(
    client, customer, verifier, with_new_phone
):
    client.force_login(verifier)
    page = client.post(
        approve_url(customer),
        {"phone": NEW_PHONE, "person": "Jan", "outcome": "confirmed"},
        **NL,
    ).content.decode()
    assert (
        "Bel alleen terug op een nummer dat de record vóór deze wijziging had" in page
    )
    assert "Terugbelverificatie" in page


def test_missing_fields_are_refused(client, customer, verifier, with_new_phone):
    client.force_login(verifier)
    page = client.post(
        approve_url(customer), {"phone": ON_FILE, "person": "", "outcome": "confirmed"}
    ).content.decode()
    assert "Write the name of the person you reached." in page


def test_a_confirmed_call_back_applies_the_change(
    client, customer, verifier, with_new_phone
):
    client.force_login(verifier)
    response = client.post(
        approve_url(customer),
        {"phone": ON_FILE, "person": "Jan de Vries", "outcome": "confirmed"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.bank_account == NEW_IBAN
    history = client.get(
        reverse("admin:workflow_changeproposal_change", args=[with_new_phone.pk])
    ).content.decode()
    assert "Call-backs" in history
    assert f"Call-back to {ON_FILE}, reached Jan de Vries: confirmed." in history


def test_the_submitter_gets_no_call_back_form(
    client, customer, clerk, roles, bank_controls
):
    clerk.groups.add(roles["Finance managers"])
    submit(customer, clerk, bank_account=NEW_IBAN)
    client.force_login(clerk)
    page = client.post(
        approve_url(customer),
        {"phone": ON_FILE, "person": "Me", "outcome": "confirmed"},
    ).content.decode()
    assert "you proposed or submitted them" in page
    assert not CallbackVerification.objects.exists()
