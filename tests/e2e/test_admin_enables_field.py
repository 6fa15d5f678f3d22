"""An approval administrator ticks a field on the Accounts receivable parameters page;
from then on a clerk's change to that field is a proposal, not a direct change."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from workflow import selectors
from workflow.models import ChangeProposal, ProposalState

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(customer, clerk, approver, approvals_on, active_workflow):
    return customer


def test_admin_enables_approval_for_phone_and_the_clerks_next_edit_is_a_proposal(
    page, login, admin_url, customer_url, see_message, setup
):
    customer = setup

    # Before: the phone is not under approval, so the clerk's edit is saved.
    login("clerk")
    page.goto(customer_url(customer))
    expect(page.locator(".field-phone .needs-approval")).to_have_count(0)
    page.fill("#id_phone", "+31 20 555 0100")
    page.click("input[name=_save]")
    see_message("Saved: Phone.")
    customer.refresh_from_db()
    assert customer.phone == "+31 20 555 0100"

    # The administrator finds the parameters page from the home page.
    login("admin")
    page.get_by_role("link", name="Accounts receivable parameters").click()
    expect(page.locator("#content h1")).to_have_text("Accounts receivable parameters")
    expect(page.locator(".approval-parameters h2")).to_have_text("Customer approval")
    expect(page.get_by_label("Enable customer approvals")).to_be_checked()
    fields = page.locator("table.field-table")
    expect(fields.get_by_label("Credit limit", exact=True)).to_be_checked()
    phone = fields.get_by_label("Phone", exact=True)
    expect(phone).not_to_be_checked()
    phone.check()
    page.click("input[name=_save]")

    see_message("The parameters were saved.")
    expect(page.locator("table.field-table").get_by_label("Phone")).to_be_checked()
    # The page's own history: who changed which setting, from what to what.
    changed = page.locator(
        "#content-main > table tbody tr", has_text="Fields that need approval"
    ).first
    expect(changed.locator("td").nth(1)).to_have_text("admin")
    expect(changed.locator("td").nth(3)).not_to_contain_text("Phone")
    expect(changed.locator("td").nth(4)).to_contain_text("Phone")
    assert "phone" in selectors.enabled_fields_for(Customer)

    # After: the clerk's form marks the phone, and the next edit is a proposal.
    login("clerk")
    page.goto(customer_url(customer))
    expect(page.locator(".field-phone .needs-approval")).to_have_text(
        "Changes to this field need approval."
    )
    page.fill("#id_phone", "+31 20 555 0199")
    page.click("input[name=_save]")
    see_message("Your changes have not been submitted.")
    expect(page.locator("#content h1")).to_have_text("Proposed changes")
    phone_row = page.locator("tr[data-field=phone]")
    expect(phone_row.locator("td").nth(0)).to_have_text("+31 20 555 0100")
    expect(phone_row.locator("td").nth(1)).to_have_text("+31 20 555 0199")

    customer.refresh_from_db()
    assert customer.phone == "+31 20 555 0100"
    proposal = ChangeProposal.objects.get(object_id=customer.pk)
    assert proposal.state == ProposalState.DRAFT
    change = proposal.changes.get()
    assert (change.field_name, change.proposed_value) == ("phone", "+31 20 555 0199")
