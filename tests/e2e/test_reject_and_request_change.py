"""An approver rejects, or sends a proposal back; the clerk sees it and resubmits.

The clerk's proposal is made and submitted through the services (the browser walk of
that is test_clerk_to_approver_walk); everything after it is clicked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.conftest import submit
from workflow.models import ProposalState

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def submitted(customer, clerk, approver, approvals_on, active_workflow):
    """The clerk asked for a credit limit of 25000 (it is 10000)."""
    return submit(customer, clerk, credit_limit=Decimal("25000"))


def test_approver_rejects_with_a_comment_and_the_clerk_sees_why(
    page,
    login,
    customer_url,
    see_message,
    open_work_item,
    customer,
    submitted,
):
    login("approver")
    open_work_item(customer.account)
    page.get_by_role("link", name="Reject", exact=True).click()
    expect(page.locator("#content h1")).to_have_text("Reject proposed changes")
    expect(page.locator("label[for=id_comment]")).to_have_text("Comment (required)")
    decision_url = page.url
    # A rejection needs a reason: the browser keeps the form until there is one.
    page.get_by_role("button", name="Reject", exact=True).click()
    expect(page.locator("#id_comment:invalid")).to_have_count(1)
    assert page.url == decision_url
    page.fill("#id_comment", "Credit check failed")
    page.get_by_role("button", name="Reject", exact=True).click()
    see_message("Rejected. The record was left unchanged.")
    expect(page.locator("#content h1")).to_have_text("My work items")

    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("10000.00")
    submitted.refresh_from_db()
    assert submitted.state == ProposalState.REJECTED

    # The clerk: the customer is unchanged, not locked by an open proposal, and its
    # page says who rejected the changes and why...
    login("clerk")
    page.goto(customer_url(customer))
    expect(page.locator("#id_credit_limit")).to_have_value("10000.00")
    expect(page.locator(".workflow-status")).to_contain_text("Status: Rejected")
    expect(page.locator(".workflow-status")).to_contain_text(
        "approver rejected the last proposed changes"
    )
    expect(page.locator(".workflow-status")).to_contain_text("“Credit check failed”")
    expect(page.locator(".workflow-menu")).to_have_count(0)
    # ...and the History says who rejected it and why.
    page.click("a.historylink")
    proposal_row = page.locator("#proposal-list tbody tr")
    expect(proposal_row).to_have_count(1)
    expect(proposal_row).to_contain_text("Rejected")
    expect(proposal_row).to_contain_text("Credit limit")
    rejected = page.locator("#history tr.action-rejected")
    expect(rejected).to_contain_text("approver")
    expect(rejected).to_contain_text("Credit check failed")
    expect(page.locator("#history tr.action-field_changed")).to_have_count(0)
    # The proposal's Workflow history has the decided work item with the comment.
    proposal_row.get_by_role("link", name=str(submitted.pk), exact=True).click()
    expect(page.locator("#content h1")).to_have_text("Workflow history")
    expect(page.locator("#content-main > p").first).to_contain_text("Rejected")
    expect(page.locator("#work-items tbody")).to_contain_text("Credit check failed")


def test_rejection_mail_tells_the_clerk_why(
    page, login, see_message, open_work_item, decide, mailoutbox, customer, submitted
):
    login("approver")
    open_work_item(customer.account)
    decide("Reject", "Credit check failed")
    see_message("Rejected. The record was left unchanged.")
    to_clerk = [m for m in mailoutbox if m.to == ["clerk@example.com"]]
    assert [m.subject.split(":")[0] for m in to_clerk] == ["Rejected"]
    assert "Credit check failed" in to_clerk[0].body


def test_approver_requests_a_change_the_clerk_resubmits_and_it_is_approved(
    page,
    login,
    customer_url,
    see_message,
    open_work_item,
    decide,
    customer,
    submitted,
):
    login("approver")
    open_work_item(customer.account)
    decide("Request change", "At most 20000 without a guarantee")
    see_message("Sent back to the submitter for changes.")
    expect(page.locator("#result_list")).to_have_count(0)
    submitted.refresh_from_db()
    assert submitted.state == ProposalState.CHANGES_REQUESTED

    # The clerk sees why on the customer's page and changes the proposed value.
    login("clerk")
    page.goto(customer_url(customer))
    status = page.locator(".workflow-status")
    expect(status).to_contain_text("Status: Changes requested")
    expect(status).to_contain_text(
        "approver sent the changes back: “At most 20000 without a guarantee”."
    )
    expect(status).to_contain_text("Workflow › Resubmit")
    expect(page.locator("#id_credit_limit")).to_have_value("10000.00")
    page.fill("#id_credit_limit", "19000")
    page.click("input[name=_save]")
    see_message("Your changes have not been submitted.")
    expect(page.locator("#content h1")).to_have_text("Proposed changes")
    credit_row = page.locator("tr[data-field=credit_limit]")
    expect(credit_row.locator("td").nth(0)).to_have_text("10000.00")
    expect(credit_row.locator("td").nth(1)).to_have_text("19000.00")
    page.get_by_role("link", name="Resubmit", exact=True).click()
    expect(page.locator("#content h1")).to_have_text("Submit the proposed changes")
    page.fill("#id_justification", "Lowered to what sales can guarantee.")
    page.get_by_role("button", name="Resubmit", exact=True).click()
    see_message("Changes pending approval.")
    expect(page.locator(".workflow-status")).to_contain_text(
        "Status: Changes pending approval"
    )
    submitted.refresh_from_db()
    assert submitted.state == ProposalState.PENDING
    assert submitted.submission_round == 2
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("10000.00")

    # The approver gets the new round and approves it.
    login("approver")
    expect(page.locator("#my-work-items")).to_contain_text(
        "1 change waiting for your approval"
    )
    open_work_item(customer.account)
    expect(page.locator("tr[data-field=credit_limit]")).to_contain_text("19000.00")
    decide("Approve")
    see_message("Approved. The changes were applied to the record.")

    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("19000.00")
    submitted.refresh_from_db()
    assert submitted.state == ProposalState.APPLIED
    page.goto(customer_url(customer, "history"))
    history = page.locator("#history")
    expect(history.locator("tr.action-change_requested")).to_contain_text(
        "At most 20000 without a guarantee"
    )
    expect(history.locator("tr.action-resubmitted")).to_contain_text("clerk")
    expect(
        history.locator("tr.action-field_changed", has_text="Credit limit")
    ).to_contain_text("19000.00")
