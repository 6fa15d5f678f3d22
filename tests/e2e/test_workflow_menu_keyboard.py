"""The Workflow menu on a record's page closes with Escape, as menus do, and when the
user clicks elsewhere on the page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.conftest import propose

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def draft(customer, clerk, approvals_on, active_workflow):
    return propose(customer, clerk, credit_limit=Decimal("25000"))


def test_escape_closes_the_workflow_menu_and_keeps_the_focus_on_it(
    page, login, customer_url, customer, draft
):
    login("clerk")
    page.goto(customer_url(customer))
    menu = page.locator(".workflow-menu details")
    submit = page.locator(".workflow-menu-items").get_by_role("link", name="Submit")

    page.click(".workflow-menu summary")
    expect(submit).to_be_visible()
    submit.focus()
    page.keyboard.press("Escape")

    expect(submit).to_be_hidden()
    expect(menu).not_to_have_attribute("open", "")
    # The keyboard user is back on the menu's button, not at the top of the page.
    expect(page.locator(".workflow-menu summary")).to_be_focused()
    page.keyboard.press("Enter")
    expect(submit).to_be_visible()


def test_a_click_elsewhere_closes_the_workflow_menu(
    page, login, customer_url, customer, draft
):
    login("clerk")
    page.goto(customer_url(customer))
    submit = page.locator(".workflow-menu-items").get_by_role("link", name="Submit")
    page.click(".workflow-menu summary")
    expect(submit).to_be_visible()

    page.click("#content h1")

    expect(submit).to_be_hidden()
