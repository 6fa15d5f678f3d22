"""A Dutch browser gets the Dutch interface, and the user can switch to English."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dutch_page(browser, live_server):
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    yield page
    context.close()


def test_a_dutch_clerk_proposes_in_dutch_and_switches_to_english(
    dutch_page, live_server, customer, clerk, approver, approvals_on, active_workflow
):
    page = dutch_page
    page.goto(f"{live_server.url}/admin/login/")
    expect(page.locator("label[for=id_username]")).to_contain_text("Gebruikersnaam")
    page.fill("#id_username", "clerk")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    expect(page.locator("#my-work-items")).to_contain_text("Mijn werkitems")

    page.goto(f"{live_server.url}/admin/customers/customer/{customer.pk}/change/")
    page.fill("#id_credit_limit", "25000")
    page.click("input[name=_save]")
    expect(page.locator("#content h1")).to_have_text("Voorgestelde wijzigingen")
    expect(page.locator(".messagelist")).to_contain_text(
        "Uw wijzigingen zijn niet ingediend."
    )
    # Amounts are written the Dutch way.
    expect(page.locator("tr[data-field=credit_limit]")).to_contain_text("25000,00")

    page.select_option("#language-choice", "en")
    page.click("#language-switch button")
    expect(page.locator("#content h1")).to_have_text("Proposed changes")
    expect(page.locator("tr[data-field=credit_limit]")).to_contain_text("25000.00")
    # The choice holds on the next page, whatever the browser asks for.
    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#my-work-items")).to_contain_text("My work items")
