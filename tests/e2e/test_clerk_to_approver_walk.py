"""The seed page's walk in a real browser: a clerk proposes and submits, an approver approves."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(customer, clerk, approver, approver2, approvals_on, active_workflow):
    return customer


def test_clerk_proposes_discards_submits_and_approver_approves(
    page, live_server, login, setup
):
    customer = setup
    change_url = f"{live_server.url}/admin/customers/customer/{customer.pk}/change/"

    login("clerk")
    page.goto(change_url)
    page.fill("#id_name", "Contoso Retail BV")
    page.fill("#id_credit_limit", "25000")
    page.fill("#id_bank_account", "DE89 3704 0044 0532 0130 00")
    page.click("input[name=_save]")

    expect(page.locator(".messagelist")).to_contain_text(
        "Your changes have not been submitted."
    )
    rows = page.locator("table.proposed-changes tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("tr[data-field=credit_limit]")).to_contain_text("10000.00")
    expect(page.locator("tr[data-field=credit_limit]")).to_contain_text("25000.00")
    page.locator("tr[data-field=bank_account] button", has_text="Discard").click()
    expect(rows).to_have_count(1)
    page.click("text=OK")

    page.click("summary:has-text('Workflow')")
    page.click("button:has-text('Submit')")
    expect(page.locator(".workflow-status")).to_contain_text("Changes pending approval")

    login("approver")
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#my-work-items")).to_contain_text(
        "1 change waiting for your approval"
    )
    page.click("#my-work-items a.section")
    page.click(f"text={customer.account} {customer.name}")
    page.click("a:has-text('Approve')")
    page.fill("#id_comment", "Agreed with sales")
    page.click("button:has-text('Approve')")
    expect(page.locator(".messagelist")).to_contain_text("The changes were applied")

    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("25000.00")
    assert customer.name == "Contoso Retail BV"
    assert customer.bank_account == "NL91ABNA0417164300"

    login("clerk")
    page.goto(change_url)
    expect(page.locator("#id_credit_limit")).to_have_value("25000.00")
    page.click("a.historylink")
    expect(page.locator("#history")).to_contain_text("Agreed with sales")
    expect(page.locator("#history")).to_contain_text("Applied")
