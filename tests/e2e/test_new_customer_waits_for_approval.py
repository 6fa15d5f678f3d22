"""Approval on create, clicked: a clerk creates a customer, which awaits approval;
the approver approves its creation from My work items, and the customer is active."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from tests.factories import CustomerGroupFactory
from workflow import services
from workflow.models import DataEntityBehavior

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def waits(approval_admin, active_workflow, clerk, approver):
    from tests.conftest import GOVERNED_FIELDS

    CustomerGroupFactory(code="10", description="Domestic customers")
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=DataEntityBehavior.PROPOSE,
        enabled_fields=GOVERNED_FIELDS,
        new_records_need_approval=True,
        actor=approval_admin,
    )


def test_a_new_customer_awaits_approval_until_the_approver_approves_it(
    page, login, admin_url, see_message, open_work_item, decide, waits
):
    login("clerk")
    page.goto(admin_url("customers/customer/add/"))
    page.fill("#id_account", "C09999")
    page.fill("#id_name", "Northwind New")
    page.select_option("#id_customer_group", label="10 – Domestic customers")
    page.fill("#id_credit_limit", "7500")
    page.click("input[name=_save]")
    see_message("this one is “Awaiting approval”")
    row = page.locator("#result_list tr", has_text="C09999")
    expect(row).to_contain_text("Awaiting approval")

    login("approver")
    open_work_item("C09999")
    expect(page.locator(".workflow-status").first).to_contain_text(
        "Record status: Awaiting approval"
    )
    decide("Approve", "Known to us")
    see_message("Approved. The changes were applied to the record.")
    assert Customer.objects.get(account="C09999").record_status == "active"

    login("clerk")
    page.goto(admin_url("customers/customer/"))
    row = page.locator("#result_list tr", has_text="C09999")
    expect(row).not_to_contain_text("Awaiting approval")
