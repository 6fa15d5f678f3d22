"""In a real browser at 1366 px: My work items shows old → new without hiding a column;
Approve the selected changes confirms first; the approve page warns of a Conflict; a
stale form keeps what the clerk typed; Recall asks first and returns a draft."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from customers.services import customer_update
from tests.conftest import store_around_approval
from tests.factories import CustomerFactory, PaymentTermsFactory
from workflow import services
from workflow.models import ChangeProposal, ProposalState, WorkflowStep

pytestmark = pytest.mark.django_db(transaction=True)

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def waiting(clerk, approver, approver2, approvals_on, active_workflow):
    """Three customers with changes waiting for the approvers, each with a reason, at
    a step named and timed as the demo's."""
    WorkflowStep.objects.update(
        name="Workflow approval for proposed customer change",
        time_limit_value=2,
        time_limit_unit="days",
    )
    customers = [
        CustomerFactory(account=f"C0001{n}", name=name)
        for n, name in enumerate(["Adatum", "Fabrikam Nederland", "Northwind"])
    ]
    terms = PaymentTermsFactory(code="Net60", description="Net 60 days")
    for customer, limit in zip(customers, ("12500", "30000", "45000"), strict=True):
        proposal = customer_update(
            customer_id=customer.pk,
            values={
                "credit_limit": Decimal(limit),
                "bank_account": "NL20INGB0001234567",
                "payment_terms": terms,
            },
            actor=clerk,
        ).proposal
        services.proposal_submit(
            proposal=proposal,
            actor=clerk,
            justification="Orders doubled since the merger; sales asked for a "
            "higher limit and the new house bank.",
        )
    return customers


def no_horizontal_scroll(page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth,"
        " document.querySelector('.results').scrollWidth,"
        " document.querySelector('.results').clientWidth]"
    )
    page_width, window_width, table_width, table_room = widths
    assert page_width <= window_width, widths
    assert table_width <= table_room, widths


@pytest.mark.parametrize("language", ["en", "nl"])
def test_work_items_show_old_and_new_and_fit_a_laptop(
    page, login, admin_url, waiting, language
):
    page.set_viewport_size(LAPTOP)
    login("approver")
    page.goto(admin_url("workflow/workitem/"))
    page.select_option("#language-choice", language)
    page.click("#language-switch button")
    expect(page.locator("#content h1")).to_have_text(
        {"en": "My work items", "nl": "Mijn werkitems"}[language]
    )
    for column in ("record", "step", "submitted_by", "age", "due"):
        expect(page.locator(f"#result_list td.field-{column}").first).to_be_visible()
    no_horizontal_scroll(page)
    if language != "en":
        return

    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)
    first = rows.nth(0)
    expect(first.locator("li[data-field=credit_limit]")).to_have_text(
        "Credit limit 10000.00 → 12500.00"
    )
    expect(first.locator("li[data-field=bank_account]")).to_contain_text(
        "→ NL20INGB0001234567"
    )
    expect(first.locator("td.field-justification")).to_contain_text(
        "Orders doubled since the merger"
    )
    expect(first.locator("td.field-due")).not_to_have_text("–")


def test_bulk_approve_confirms_first_and_warns_of_a_conflict(
    page, login, admin_url, see_message, waiting
):
    store_around_approval(waiting[1], credit_limit=Decimal("20000.00"))
    page.set_viewport_size(LAPTOP)
    login("approver")
    page.goto(admin_url("workflow/workitem/"))
    page.locator("#action-toggle").check()
    page.select_option("select[name=action]", "approve_selected")
    page.click("button[name=index]")

    expect(page.locator("#content h1")).to_have_text("Approve the selected changes?")
    items = page.locator("#bulk-approval tbody.bulk-item")
    expect(items).to_have_count(3)
    expect(page.locator(".conflict-warning")).to_contain_text(
        "1 of them would end in Conflict"
    )
    conflicted = page.locator("#bulk-approval tbody.conflict")
    expect(conflicted).to_contain_text("Fabrikam Nederland")
    expect(
        conflicted.locator("tr[data-field=credit_limit] td.current")
    ).to_contain_text("20000.00")
    assert not ChangeProposal.objects.exclude(state=ProposalState.PENDING).exists()

    page.fill("#id_comment", "Checked with the bank")
    page.get_by_role("button", name="Confirm", exact=True).click()
    see_message("Approved 3; 2 of them were applied to their records.")
    see_message("1 ended in Conflict")


def test_the_approve_page_warns_when_the_value_moved(
    page, login, customer_url, waiting
):
    store_around_approval(waiting[0], credit_limit=Decimal("11000.00"))
    login("approver")
    page.goto(customer_url(waiting[0], "workflow/approve"))

    row = page.locator("tr[data-field=credit_limit]")
    expect(row.locator("td").nth(0)).to_have_text("10000.00")
    expect(row.locator("td").nth(1)).to_have_text("12500.00")
    expect(row.locator("td.current")).to_contain_text("11000.00")
    warning = page.locator(".conflict-warning")
    expect(warning).to_contain_text("Approved now, this proposal would end in Conflict")
    warning.get_by_role("link", name="See the History").click()
    expect(page.locator("#content h1")).to_have_text("History")


def test_an_item_approved_meanwhile_says_by_whom_and_keeps_the_comment(
    page, login, customer_url, waiting, approver
):
    login("approver2")
    page.goto(customer_url(waiting[2], "workflow/reject"))
    page.fill("#id_comment", "Not without a credit check")
    proposal = ChangeProposal.objects.get(object_id=waiting[2].pk)
    services.proposal_approve(proposal=proposal, actor=approver)

    page.get_by_role("button", name="Reject", exact=True).click()

    expect(page.locator(".decided-meanwhile")).to_contain_text(
        "Approved by approver at"
    )
    expect(page.locator("#id_comment")).to_have_value("Not without a credit check")


def test_a_stale_form_keeps_the_input_and_shows_the_clash(
    page, login, customer_url, customer, clerk, clerk2, approvals_on
):
    login("clerk")
    page.goto(customer_url(customer))
    page.fill("#id_phone", "+31 20 555 0100")
    page.fill("#id_street", "Damrak 1")
    customer_update(
        customer_id=customer.pk, values={"phone": "+31 10 555 0199"}, actor=clerk2
    )
    page.click("input[name=_save]")

    clash = page.locator("table.clashes tr[data-field=phone]")
    expect(clash.locator("td.mine")).to_have_text("+31 20 555 0100")
    expect(clash.locator("td.theirs")).to_contain_text("+31 10 555 0199")
    expect(clash.locator("td.theirs")).to_contain_text("clerk2 at")
    expect(page.locator("#id_phone")).to_have_value("+31 20 555 0100")
    customer.refresh_from_db()
    assert (customer.street, customer.phone) == ("Damrak 1", "+31 10 555 0199")

    clash.get_by_label("Theirs").check()
    page.click("input[name=_save]")
    customer.refresh_from_db()
    assert customer.phone == "+31 10 555 0199"


def test_recall_asks_first_and_returns_a_draft(
    page, login, customer_url, see_message, workflow_menu, waiting
):
    login("clerk")
    page.goto(customer_url(waiting[0]))
    workflow_menu("Recall")
    expect(page.locator("#content h1")).to_have_text("Recall the proposed changes")
    expect(page.locator("#content-main")).to_contain_text(
        "The approvers who have them now are told by e-mail: approver, approver2."
    )
    assert ChangeProposal.objects.get(object_id=waiting[0].pk).state == "pending"

    page.get_by_role("button", name="Recall", exact=True).click()
    see_message("Recalled. The changes are a draft again")
    expect(page.locator(".workflow-status")).to_contain_text("Changes not submitted")
    assert ChangeProposal.objects.get(object_id=waiting[0].pk).state == "draft"
