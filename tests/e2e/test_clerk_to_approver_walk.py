"""The seed page's walk in a real browser: a clerk proposes, discards one field and
submits; an approver finds it in My work items and approves; the clerk sees the new
values and the approval in the customer's History."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from workflow.models import ChangeProposal, ProposalState

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(customer, clerk, approver, approver2, approvals_on, active_workflow):
    return customer


def test_clerk_proposes_discards_submits_and_approver_approves(
    page, login, customer_url, see_message, open_work_item, decide, workflow_menu, setup
):
    customer = setup

    # The clerk edits a field under approval and one that is not.
    login("clerk")
    page.goto(customer_url(customer))
    expect(page.locator(".field-credit_limit .needs-approval")).to_have_text(
        "Changes to this field need approval."
    )
    expect(page.locator(".field-name .needs-approval")).to_have_count(0)
    page.fill("#id_name", "Contoso Retail BV")
    page.fill("#id_credit_limit", "25000")
    page.fill("#id_bank_account", "DE89 3704 0044 0532 0130 00")
    page.click("input[name=_save]")

    # The name is saved at once; the governed fields land on Proposed changes.
    see_message("Saved: Name.")
    see_message("Your changes have not been submitted.")
    expect(page.locator("#content h1")).to_have_text("Proposed changes")
    expect(page.locator(".workflow-status")).to_contain_text("Changes not submitted")
    rows = page.locator("table.proposed-changes tbody tr")
    expect(rows).to_have_count(2)
    credit_row = page.locator("tr[data-field=credit_limit]")
    expect(credit_row.locator("td").nth(0)).to_have_text("10000.00")
    expect(credit_row.locator("td").nth(1)).to_have_text("25000.00")
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail BV"
    assert customer.credit_limit == Decimal("10000.00")

    page.get_by_role("button", name="Discard Bank account (IBAN)").click()
    see_message("The proposed change was discarded.")
    expect(rows).to_have_count(1)
    expect(page.locator("tr[data-field=bank_account]")).to_have_count(0)
    page.get_by_role("link", name="OK", exact=True).click()

    workflow_menu("Submit")
    expect(page.locator("#content h1")).to_have_text("Submit the proposed changes")
    page.fill("#id_justification", "Orders doubled since spring.")
    page.get_by_role("button", name="Submit", exact=True).click()
    see_message("Changes pending approval.")
    expect(page.locator(".workflow-status")).to_contain_text(
        "Status: Changes pending approval"
    )
    proposal = ChangeProposal.objects.get()
    assert proposal.state == ProposalState.PENDING
    assert list(proposal.changes.values_list("field_name", flat=True)) == [
        "credit_limit"
    ]

    # The approver finds it in My work items and approves.
    login("approver")
    expect(page.locator("#my-work-items")).to_contain_text(
        "1 change waiting for your approval"
    )
    page.click("#my-work-items a.section")
    item = page.locator("#result_list tbody tr")
    expect(item).to_have_count(1)
    expect(item.locator("td.field-record")).to_contain_text(customer.account)
    expect(item.locator("td.field-fields_changed")).to_have_text(
        "Credit limit 10000.00 → 25000.00"
    )
    expect(item.locator("td.field-justification")).to_have_text(
        "Orders doubled since spring."
    )
    expect(item.locator("td.field-submitted_by")).to_have_text("clerk")
    open_work_item(customer.account)
    expect(page.locator(".workflow-status")).to_contain_text(
        "This proposal is waiting for your approval."
    )
    expect(page.locator("tr[data-field=credit_limit]")).to_contain_text("25000.00")
    decide("Approve", "Agreed with sales")
    see_message("Approved. The changes were applied to the record.")
    expect(page.locator("#content h1")).to_have_text("My work items")
    expect(page.locator("#result_list")).to_have_count(0)

    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("25000.00")
    assert customer.name == "Contoso Retail BV"
    assert customer.bank_account == "NL91ABNA0417164300"
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.APPLIED

    # The clerk sees the new values, and the approval in the History.
    login("clerk")
    page.goto(customer_url(customer))
    expect(page.locator("#id_credit_limit")).to_have_value("25000.00")
    expect(page.locator("#id_name")).to_have_value("Contoso Retail BV")
    expect(page.locator("#id_bank_account")).to_have_value("NL91ABNA0417164300")
    expect(page.locator(".workflow-status")).to_have_count(0)
    page.click("a.historylink")
    expect(page.locator("#content h1")).to_have_text("History")
    proposals = page.locator("#proposal-list tbody tr")
    expect(proposals).to_have_count(1)
    expect(proposals).to_contain_text("Applied")
    expect(proposals).to_contain_text("Credit limit")
    history = page.locator("#history")
    approved = history.locator("tr.action-approved")
    expect(approved).to_contain_text("approver")
    expect(approved).to_contain_text("Agreed with sales")
    expect(history.locator("tr.action-submitted")).to_contain_text(
        "Justification: Orders doubled since spring."
    )
    expect(history.locator("tr.action-applied")).to_have_count(1)
    written = history.locator("tr.action-field_changed", has_text="Credit limit")
    expect(written).to_contain_text("approver")
    expect(written).to_contain_text("10000.00")
    expect(written).to_contain_text("25000.00")
    expect(written).to_contain_text(f"Applied from proposal {proposal.pk}.")
    name_row = history.locator("tr.action-field_changed", has_text="Name")
    expect(name_row).to_contain_text("clerk")
    expect(name_row).to_contain_text("Contoso Retail BV")
    expect(history.locator("tr.action-field_discarded")).to_contain_text("Bank account")
