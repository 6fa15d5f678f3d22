"""At 1366 × 768, the common laptop screen, the lists keep their important columns in
view beside the menu and the filters, without scrolling sideways, in both languages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import propose, submit
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db(transaction=True)

CUSTOMER_COLUMNS = ["account", "name", "approval_status", "credit_limit", "city"]
WORK_ITEM_COLUMNS = ["record", "step", "fields_changed", "submitted_by", "age", "due"]
PROPOSAL_COLUMNS = [
    "id",
    "record",
    "state",
    "created_by",
    "submitted_by",
    "submitted_on",
]

OUT_OF_VIEW = """(columns) => {
    const list = document.querySelector("#changelist-form .results").getBoundingClientRect();
    const right = Math.min(list.right, window.innerWidth);
    return columns.filter((name) => {
        const header = document.querySelector("#result_list thead th.column-" + name);
        if (!header) { return true; }
        const box = header.getBoundingClientRect();
        return box.width === 0 || box.left < list.left - 1 || box.right > right + 1;
    });
}"""


@pytest.fixture
def busy_lists(clerk, approver, approval_admin, approvals_on, active_workflow):
    """Long names, and proposals in each open state, some with two fields."""
    customers = [
        CustomerFactory(
            name=f"Contoso Retail Benelux Holding Group {n}", city="'s-Hertogenbosch"
        )
        for n in range(6)
    ]
    propose(customers[0], clerk, credit_limit=Decimal("12500"))
    for customer in customers[1:4]:
        submit(
            customer,
            clerk,
            credit_limit=Decimal("12500"),
            bank_account="DE89370400440532013000",
        )
    return customers


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize(
    ("user", "path", "columns"),
    [
        ("clerk", "customers/customer/", CUSTOMER_COLUMNS),
        ("approver", "workflow/workitem/", WORK_ITEM_COLUMNS),
        ("admin", "workflow/changeproposal/", PROPOSAL_COLUMNS),
    ],
    ids=["customers", "my-work-items", "change-proposals"],
)
def test_the_important_columns_are_in_view_at_1366_px(
    browser, live_server, busy_lists, language, user, path, columns
):
    context = browser.new_context(
        locale=language, viewport={"width": 1366, "height": 768}
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.goto(f"{live_server.url}/admin/{path}")
    # The menu on the left is open, as it is for anyone who has not closed it.
    assert page.locator("#nav-sidebar").is_visible()
    assert page.locator("#result_list tbody tr").count() >= 3

    assert page.evaluate(OUT_OF_VIEW, columns) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    context.close()
