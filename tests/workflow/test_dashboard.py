"""The approvals dashboard on the admin index: the numbers an approver reads there."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_workflow, member, propose, store_around_approval, submit
from tests.factories import CustomerFactory
from workflow import selectors_dashboard, services
from workflow.models import ProposalState, TimeUnit

AMSTERDAM = timezone.get_current_timezone()
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=AMSTERDAM)


class _Tables(HTMLParser):
    """Row label -> cell text of every table with an id, and the SVG titles."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, str]] = {}
        self.titles: list[str] = []
        self._table: str | None = None
        self._cells: list[str] = []
        self._text: list[str] | None = None
        self._dd_id: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and attributes.get("id"):
            self._table = attributes["id"]
            self.tables[self._table] = {}
        elif tag == "tr":
            self._cells = []
        elif tag in ("th", "td", "title", "dd"):
            self._text = []
            self._dd_id = attributes.get("id")

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._text is not None:
            self._cells.append(" ".join("".join(self._text).split()))
            self._text = None
        elif tag == "title" and self._text is not None:
            self.titles.append("".join(self._text).strip())
            self._text = None
        elif tag == "dd" and self._text is not None:
            if self._dd_id:
                self.tables.setdefault("figures", {})[self._dd_id] = " ".join(
                    "".join(self._text).split()
                )
            self._text = None
        elif tag == "tr" and self._table and len(self._cells) == 2:
            label, value = self._cells
            self.tables[self._table][label] = value
        elif tag == "table":
            self._table = None


def dashboard_of(client, user) -> _Tables:
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    parsed = _Tables()
    parsed.html = response.content.decode()
    parsed.feed(parsed.html)
    return parsed


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def approve(proposal, approver):
    return services.proposal_approve(proposal=proposal, actor=approver)


@pytest.fixture
def history(clerk, approver, approvals_on, active_workflow):
    """Proposals in known states and ages, as of NOW (15 March 2026, noon)."""
    with at(NOW - timedelta(hours=2)):
        submit(CustomerFactory(), clerk, credit_limit=Decimal("11000"))
    with at(NOW - timedelta(days=3)):
        submit(CustomerFactory(), clerk, credit_limit=Decimal("12000"))
    with at(NOW - timedelta(days=10)):
        propose(CustomerFactory(), clerk, payment_terms=None)
    with at(NOW - timedelta(days=40)):
        sent_back = submit(CustomerFactory(), clerk, credit_limit=Decimal("13000"))
    with at(NOW - timedelta(days=39)):
        services.proposal_request_change(
            proposal=sent_back, actor=approver, comment="Which customer asked?"
        )

    # Applied: after 1 hour, 2 days and 3 hours; the last one just after midnight
    # local time, which is still the day before in UTC.
    with at(datetime(2026, 3, 10, 9, 0, tzinfo=AMSTERDAM)):
        first = submit(CustomerFactory(), clerk, credit_limit=Decimal("14000"))
    with at(datetime(2026, 3, 10, 10, 0, tzinfo=AMSTERDAM)):
        approve(first, approver)
    with at(datetime(2026, 3, 12, 11, 0, tzinfo=AMSTERDAM)):
        second = submit(CustomerFactory(), clerk, bank_account="DE89370400440532013000")
    with at(datetime(2026, 3, 14, 11, 0, tzinfo=AMSTERDAM)):
        approve(second, approver)
    with at(datetime(2026, 3, 13, 21, 30, tzinfo=AMSTERDAM)):
        third = submit(CustomerFactory(), clerk, payment_terms=None)
    with at(datetime(2026, 3, 14, 0, 30, tzinfo=AMSTERDAM)):
        approve(third, approver)

    # Applied long ago: neither on the chart nor in the median.
    with at(NOW - timedelta(days=50)):
        old = submit(CustomerFactory(), clerk, credit_limit=Decimal("15000"))
    with at(NOW - timedelta(days=45)):
        approve(old, approver)

    # A conflict: the record changed under the proposal before it was approved.
    with at(NOW - timedelta(days=4)):
        moved = CustomerFactory()
        conflict = submit(moved, clerk, credit_limit=Decimal("16000"))
        store_around_approval(moved, credit_limit=Decimal("1"))
        approve(conflict, approver)
    conflict.refresh_from_db()
    assert conflict.state == ProposalState.CONFLICT


@pytest.mark.django_db
def test_open_proposals_by_status_and_age(client, approver, history):
    with at(NOW):
        page = dashboard_of(client, approver)
    assert page.tables["figures"]["dashboard-open"] == "4"
    assert page.tables["dashboard-states"] == {
        "Status": "Proposals",
        "Changes pending approval": "2",
        "Changes requested": "1",
        "Changes not submitted": "1",
        "Conflict, last 30 days": "1",
    }
    assert page.tables["dashboard-ages"] == {
        "Age": "Proposals",
        "Less than 1 day": "1",
        "1 to 7 days": "1",
        "7 to 30 days": "1",
        "More than 30 days": "1",
    }
    assert "Changes pending approval: 2" in page.titles


@pytest.mark.django_db
def test_approvals_per_local_day_over_the_last_30_days(client, approver, history):
    with at(NOW):
        page = dashboard_of(client, approver)
    days = page.tables["dashboard-days"]
    assert len(days) == 1 + 30
    assert days["Feb. 14, 2026"] == "0"
    assert "Feb. 13, 2026" not in days
    assert days["March 10, 2026"] == "1"
    assert days["March 13, 2026"] == "0"
    assert days["March 14, 2026"] == "2"
    assert days["March 15, 2026"] == "0"
    assert page.tables["figures"]["dashboard-applied"] == "3"
    assert "March 14, 2026: 2" in page.titles


@pytest.mark.django_db
def test_median_time_from_submit_to_apply(client, approver, history):
    with at(NOW):
        page = dashboard_of(client, approver)
    # 1 hour, 3 hours and 2 days: the middle one.
    assert page.tables["figures"]["dashboard-median"] == "3 hours"


@pytest.mark.django_db
def test_median_of_an_even_number_is_the_mean_of_the_middle_two(
    clerk, approver, approvals_on, active_workflow
):
    start = NOW - timedelta(days=5)
    for hours in (1, 2, 4, 30):
        with at(start):
            proposal = submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))
        with at(start + timedelta(hours=hours)):
            approve(proposal, approver)
    median = selectors_dashboard.median_time_to_apply(now=NOW)
    assert median == timedelta(hours=3)


@pytest.mark.django_db
def test_no_median_without_applied_proposals(client, approver, approvals_on):
    page = dashboard_of(client, approver)
    assert page.tables["figures"]["dashboard-median"] == "None applied"
    assert page.tables["figures"]["dashboard-applied"] == "0"


@pytest.mark.django_db
def test_overdue_work_items(
    client, clerk, approver, approver2, roles, approval_admin, approvals_on
):
    make_workflow(
        approval_admin,
        {
            "assigned_group": roles["Approvers"],
            "time_limit_value": 2,
            "time_limit_unit": TimeUnit.DAYS,
        },
    )
    with at(NOW - timedelta(days=3)):
        submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))
    with at(NOW - timedelta(days=1)):
        submit(CustomerFactory(), clerk, credit_limit=Decimal("2"))
    with at(NOW):
        page = dashboard_of(client, approver)
    # Both approvers of the group hold a work item of the late proposal.
    assert page.tables["figures"]["dashboard-overdue"] == "2 on 1 proposal"


@pytest.mark.django_db
def test_top_changed_fields_by_their_labels(client, approver, history):
    with at(NOW):
        page = dashboard_of(client, approver)
    fields = page.tables["dashboard-fields"]
    assert list(fields.items()) == [
        ("Field", "Changes"),
        ("Credit limit", "4"),
        ("Terms of payment", "2"),
        ("Bank account (IBAN)", "1"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", ["Approvers", "Finance managers", "Approval administrators"]
)
def test_reviewing_roles_see_the_dashboard(client, roles, role):
    user = member("reviewer", roles[role])
    client.force_login(user)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'id="approvals-dashboard"' in html
    assert "workflow/dashboard.css" in html


@pytest.mark.django_db
def test_a_clerk_sees_no_dashboard(client, clerk):
    client.force_login(clerk)
    html = client.get(reverse("admin:index")).content.decode()
    assert "My work items" in html
    assert 'id="approvals-dashboard"' not in html
    assert "Approvals dashboard" not in html


def index_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return len([q for q in captured if "SAVEPOINT" not in q["sql"]])


@pytest.mark.django_db
def test_the_index_costs_the_same_with_1_and_50_proposals(
    client, clerk, approver, approvals_on, active_workflow
):
    client.force_login(approver)
    approve(submit(CustomerFactory(), clerk, credit_limit=Decimal("1")), approver)
    # The first page of a session may write once (the user's language, say).
    client.get(reverse("admin:index"))
    one = index_queries(client)
    for index in range(49):
        if index % 3:
            proposal = submit(CustomerFactory(), clerk, credit_limit=Decimal("2"))
            if index % 3 == 1:
                approve(proposal, approver)
        else:
            propose(CustomerFactory(), clerk, payment_terms=None)
    fifty = index_queries(client)
    assert fifty == one


@pytest.mark.django_db
def test_the_dashboard_reads_in_five_queries(
    django_assert_num_queries, clerk, approver, history
):
    with at(NOW), django_assert_num_queries(5):
        selectors_dashboard.approvals_dashboard()


@pytest.mark.django_db
def test_the_dashboard_is_counted_again_after_its_minute_and_per_language(
    client, clerk, approver, approvals_on, active_workflow, settings
):
    """With many proposals the counts cost time: the home page reuses them for a
    minute (DASHBOARD_CACHE_SECONDS), and says of when they are."""
    from django.core.cache import cache

    settings.DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))
    with at(NOW):
        first = dashboard_of(client, approver)
        submit(CustomerFactory(), clerk, credit_limit=Decimal("2"))
        again = dashboard_of(client, approver)
        dutch = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="nl")
    assert first.tables["figures"]["dashboard-open"] == "1"
    assert again.tables["figures"]["dashboard-open"] == "1"
    assert "Figures as of 12:00" in again.html
    assert "Wijzigingen in afwachting van goedkeuring" in dutch.content.decode()

    cache.clear()
    later = dashboard_of(client, approver)
    assert later.tables["figures"]["dashboard-open"] == "2"
    cache.clear()
