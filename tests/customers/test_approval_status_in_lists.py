"""The customer list (and every governed model's list) shows each record's approval
status as a coloured badge with its words, and filters by it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers import services as customer_services
from tests.conftest import propose, store_around_approval, submit
from tests.factories import CustomerFactory
from workflow import services
from workflow.models import ProposalState

CUSTOMERS = reverse("admin:customers_customer_changelist")
BADGE = re.compile(
    r'<th class="field-account"><a href="[^"]*">([^<]+)</a></th>.*?'
    r'<td class="field-approval_status">(.*?)</td>',
    re.S,
)
NONE_BADGE = (
    '<span class="record-status record-status-none" title="No proposed changes">'
    '<span aria-hidden="true">–</span>'
    '<span class="visually-hidden">No proposed changes</span></span>'
)


def badges(response) -> dict[str, str]:
    """Account → the status cell's HTML, for each row of the list."""
    page = response.content.decode()
    return dict(BADGE.findall(page))


def listed(response) -> list[str]:
    return sorted(badges(response))


def conflict_for(customer, clerk, approver):
    """A proposal approved after its field was changed around it: Conflict."""
    proposal = submit(customer, clerk, credit_limit=Decimal("25000"))
    store_around_approval(customer, credit_limit=Decimal("1"))
    proposal = services.proposal_approve(proposal=proposal, actor=approver)
    assert proposal.state == ProposalState.CONFLICT
    return proposal


@pytest.fixture
def one_of_each(clerk, approver, approvals_on, active_workflow):
    """C1 untouched, C2 a draft, C3 pending, C4 sent back, C5 in conflict, C6 applied."""
    customers = {
        n: CustomerFactory(account=f"C{n}", name=f"Customer {n}") for n in range(1, 7)
    }
    propose(customers[2], clerk, credit_limit=Decimal("20000"))
    submit(customers[3], clerk, credit_limit=Decimal("20000"))
    services.proposal_request_change(
        proposal=submit(customers[4], clerk, credit_limit=Decimal("20000")),
        actor=approver,
        comment="Which credit check?",
    )
    conflict_for(customers[5], clerk, approver)
    services.proposal_approve(
        proposal=submit(customers[6], clerk, credit_limit=Decimal("20000")),
        actor=approver,
    )
    return customers


@pytest.mark.django_db
def test_each_customer_shows_its_status_as_a_badge_with_words(
    client, clerk, one_of_each
):
    client.force_login(clerk)

    response = client.get(CUSTOMERS)

    assert badges(response) == {
        "C1": NONE_BADGE,
        "C2": '<span class="record-status record-status-draft">'
        "Changes not submitted</span>",
        "C3": '<span class="record-status record-status-pending">'
        "Changes pending approval</span>",
        "C4": '<span class="record-status record-status-changes_requested">'
        "Changes requested</span>",
        "C5": '<span class="record-status record-status-conflict">Conflict</span>',
        "C6": NONE_BADGE,
    }
    # The badges' colours come with the page.
    assert "workflow/workflow.css" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "accounts"),
    [
        ("none", ["C1", "C6"]),
        ("draft", ["C2"]),
        ("pending", ["C3"]),
        ("changes_requested", ["C4"]),
        ("conflict", ["C5"]),
    ],
)
def test_the_list_filters_by_status(client, clerk, one_of_each, status, accounts):
    client.force_login(clerk)

    response = client.get(CUSTOMERS, {"approval_status": status})

    assert listed(response) == accounts


@pytest.mark.django_db
def test_an_unknown_status_in_the_address_filters_nothing(client, clerk, one_of_each):
    client.force_login(clerk)

    response = client.get(CUSTOMERS, {"approval_status": "approved"})

    assert listed(response) == ["C1", "C2", "C3", "C4", "C5", "C6"]


@pytest.mark.django_db
def test_a_conflict_stops_being_the_status_once_something_newer_is_proposed(
    client, clerk, approver, approvals_on, active_workflow
):
    customer = CustomerFactory(account="C1")
    conflict_for(customer, clerk, approver)
    client.force_login(clerk)

    draft = propose(customer, clerk, credit_limit=Decimal("30000"))
    assert listed(client.get(CUSTOMERS, {"approval_status": "draft"})) == ["C1"]
    assert listed(client.get(CUSTOMERS, {"approval_status": "conflict"})) == []

    # Discarded, the newer proposal leaves no conflict standing: nothing is proposed.
    services.proposal_discard(proposal=draft, actor=clerk)
    assert listed(client.get(CUSTOMERS, {"approval_status": "conflict"})) == []
    assert listed(client.get(CUSTOMERS, {"approval_status": "none"})) == ["C1"]
    assert badges(client.get(CUSTOMERS)) == {"C1": NONE_BADGE}


@pytest.mark.django_db
def test_the_filter_offers_the_five_statuses_in_dutch(client, clerk, one_of_each):
    client.force_login(clerk)

    page = client.get(CUSTOMERS, HTTP_ACCEPT_LANGUAGE="nl").content.decode()

    for words in (
        "Op goedkeuringsstatus",
        "Geen voorgestelde wijzigingen",
        "Wijzigingen niet ingediend",
        "Wijzigingen in afwachting van goedkeuring",
        "Wijzigingen aangevraagd",
        "Conflict",
    ):
        assert words in page
    assert (
        '<span class="record-status record-status-pending">'
        "Wijzigingen in afwachting van goedkeuring</span>"
    ) in page


@pytest.mark.django_db
def test_the_status_costs_no_query_per_row(
    client, clerk, approver, approvals_on, active_workflow
):
    def queries(params):
        client.get(CUSTOMERS, params)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CUSTOMERS, params).status_code == 200
        return len(captured)

    client.force_login(clerk)
    submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))
    few = [queries({}), queries({"approval_status": "pending"})]
    for _ in range(30):
        submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))
    assert [queries({}), queries({"approval_status": "pending"})] == few


@pytest.mark.django_db
def test_terms_of_payment_have_the_status_column_and_filter_too(
    client, clerk, terms, terms_approvals_on, terms_workflow
):
    customer_services.payment_terms_update(
        payment_terms_id=terms.pk, values={"days": 45}, actor=clerk
    )
    client.force_login(clerk)
    url = reverse("admin:customers_paymentterms_changelist")

    page = client.get(url, {"approval_status": "draft"}).content.decode()

    assert "Net30" in page
    assert (
        '<td class="field-approval_status"><span class="record-status '
        'record-status-draft">Changes not submitted</span></td>'
    ) in page
    assert "Net30" not in client.get(url, {"approval_status": "none"}).content.decode()
