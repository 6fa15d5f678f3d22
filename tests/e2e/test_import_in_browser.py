"""A clerk imports a small CSV on the customer Import page: preview, confirm, result."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from workflow.models import ChangeProposal, ImportJob, ImportJobState, ProposalState

pytestmark = pytest.mark.django_db(transaction=True)

SMALL_FILE = (
    "account;name;customer_group;credit_limit;phone\n"
    "C00001;Contoso Retail BV;;25000;+31 20 555 0100\n"
    "C00002;Fabrikam NL;10;5000;\n"
)


@pytest.fixture
def setup(customer, clerk, approver, approvals_on, active_workflow, media):
    return customer


def test_clerk_previews_and_confirms_a_small_csv(
    page, login, admin_url, see_message, upload_import, setup
):
    customer = setup
    login("clerk")
    upload_import(SMALL_FILE, behaviour="Create change proposals")

    # The preview: what each row would do; nothing is written yet.
    expect(page.locator("#job-state")).to_have_text("Ready to import")
    expect(page.locator("#import-progress")).to_have_count(0)
    counts = page.locator("#import-counts")
    expect(counts).to_contain_text("What the file would do")
    for label, value in [
        ("Rows", "2"),
        ("New", "1"),
        ("Updated", "1"),
        ("Unchanged", "0"),
        ("With changes that become proposals", "1"),
        ("With errors", "0"),
    ]:
        expect(counts.locator("tr", has_text=label).first.locator("td")).to_have_text(
            value
        )
    updated = page.locator("#import-rows tr.row-updated")
    expect(updated.locator("td").nth(1)).to_have_text("C00001")
    expect(updated.locator("td").nth(3)).to_have_text("Name, Phone")
    expect(updated.locator("td").nth(4)).to_have_text("Credit limit")
    expect(page.locator("#import-rows tr.row-new")).to_contain_text("C00002")
    assert not Customer.objects.filter(account="C00002").exists()
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"

    page.get_by_role("button", name="Confirm import").click()
    see_message("The file was imported.")
    expect(page.locator("#job-state")).to_have_text("Imported")
    expect(page.locator("#import-counts caption")).to_have_text("Imported")
    expect(page.get_by_role("button", name="Confirm import")).to_have_count(0)
    expect(page.get_by_role("link", name="Import another file")).to_be_visible()

    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Contoso Retail BV", "+31 20 555 0100")
    # The credit limit is under approval: it waits as a submitted proposal.
    assert customer.credit_limit == Decimal("10000.00")
    proposal = ChangeProposal.objects.get(object_id=customer.pk)
    assert proposal.state == ProposalState.PENDING
    assert proposal.changes.get().proposed_value == "25000.00"
    created = Customer.objects.get(account="C00002")
    assert (created.name, created.credit_limit) == ("Fabrikam NL", Decimal("5000.00"))
    assert ImportJob.objects.get().state == ImportJobState.APPLIED


def test_a_file_with_an_error_shows_it_and_cannot_be_confirmed(
    page, login, upload_import, setup
):
    login("clerk")
    upload_import("account;name;credit_limit\nC00001;Renamed;1.234,56\n")

    expect(page.locator("#job-state")).to_have_text("The file has errors")
    error = page.locator("#import-errors tbody tr")
    expect(error).to_have_count(1)
    expect(error.locator("td").nth(0)).to_have_text("2")
    expect(error.locator("td").nth(1)).to_have_text("credit_limit")
    expect(error.locator("td").nth(2)).to_have_text("1.234,56")
    expect(page.get_by_role("button", name="Confirm import")).to_have_count(0)
    expect(page.get_by_role("link", name="Choose another file")).to_be_visible()
    assert Customer.objects.get(account="C00001").name == "Contoso Retail"
