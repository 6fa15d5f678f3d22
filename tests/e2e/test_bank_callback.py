"""Bank-detail controls in a real browser: a bank-account change walked through its
call-back verification by a clerk and a verifier, and the duplicate-IBAN warning an
approver reads before deciding."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.conftest import make_workflow, member, store_around_approval, submit
from tests.factories import CustomerFactory
from workflow import services
from workflow.models import (
    CallbackVerification,
    DataEntityBehavior,
    ProposalState,
    StepKindChoices,
)

pytestmark = pytest.mark.django_db(transaction=True)

ON_FILE = "+31 20 555 0102"
NEW_IBAN = "DE89370400440532013000"


@pytest.fixture
def verifier(roles):
    return member("verifier", roles["Finance managers"])


def bank_under_approval(actor, customer):
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=DataEntityBehavior.PROPOSE,
        enabled_fields=["credit_limit", "bank_account", "email", "phone"],
        actor=actor,
    )
    store_around_approval(customer, phone=ON_FILE)


@pytest.fixture
def callback_workflow(approval_admin, roles, customer, clerk, verifier):
    bank_under_approval(approval_admin, customer)
    return make_workflow(
        approval_admin,
        {"assigned_group": roles["Finance managers"], "kind": StepKindChoices.CALLBACK},
    )


def test_a_bank_account_change_is_verified_by_a_call_back(
    page,
    login,
    customer_url,
    admin_url,
    see_message,
    open_work_item,
    workflow_menu,
    customer,
    callback_workflow,
):
    # The clerk changes the bank account and submits it.
    login("clerk")
    page.goto(customer_url(customer))
    page.fill("#id_bank_account", "DE89 3704 0044 0532 0130 00")
    page.click("input[name=_save]")
    see_message("Your changes have not been submitted.")
    page.get_by_role("link", name="OK", exact=True).click()
    workflow_menu("Submit")
    page.get_by_role("button", name="Submit", exact=True).click()
    see_message("Changes pending approval.")

    # The verifier opens the work item: the IBAN's country is not the customer's.
    login("verifier")
    open_work_item(customer.account)
    expect(page.locator(".bank-warnings")).to_contain_text(
        "The IBAN is from DE, but the record's country is NL."
    )
    page.get_by_role("link", name="Approve", exact=True).click()
    expect(page.locator("#content h1")).to_have_text("Call-back verification")
    # Only the number on file before the change is offered.
    expect(page.locator("#id_phone option")).to_have_count(2)
    page.select_option("#id_phone", ON_FILE)
    page.fill("#id_person", "Jan de Vries, controller")
    page.get_by_label("Confirmed: the person confirmed the new bank account").check()
    page.fill("#id_comment", "Confirmed the new account number digit by digit.")
    page.get_by_role("button", name="Record the call-back", exact=True).click()
    see_message("The changes were applied to the record.")

    customer.refresh_from_db()
    assert customer.bank_account == NEW_IBAN
    call = CallbackVerification.objects.get()
    assert (call.phone_called, call.person_reached, call.outcome) == (
        ON_FILE,
        "Jan de Vries, controller",
        "confirmed",
    )

    # The customer list says who verified the account.
    page.goto(admin_url("customers/customer/?bank_verified=yes"))
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(customer.account)
    expect(row.locator(".bank-verified")).to_contain_text("by verifier")


def test_the_approver_sees_the_duplicate_iban_warning(
    page, login, open_work_item, customer, clerk, approver, approval_admin, roles
):
    bank_under_approval(approval_admin, customer)
    make_workflow(approval_admin, {"assigned_group": roles["Approvers"]})
    CustomerFactory(account="C00099", name="Fabrikam", bank_account=NEW_IBAN)
    proposal = submit(customer, clerk, bank_account=NEW_IBAN)

    login("approver")
    open_work_item(customer.account)
    warnings = page.locator(".bank-warnings")
    expect(warnings).to_contain_text("Bank-detail warnings")
    expect(warnings).to_contain_text("This IBAN is already the bank account of C00099.")
    page.get_by_role("link", name="Approve", exact=True).click()
    expect(page.locator(".bank-warnings")).to_contain_text(
        "This IBAN is already the bank account of C00099."
    )
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PENDING
