"""My work items shows each changed field as old → new (as a person reads the values:
references by code, amounts in the reader's language), the justification, age and due
date, with the same queries for a page of one item as for a page of many."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import PaymentTerms
from tests.conftest import propose, submit
from tests.factories import CustomerFactory, PaymentTermsFactory
from workflow import services
from workflow.models import WorkItem

WORK_ITEMS = reverse("admin:workflow_workitem_changelist")


def change_lines(response) -> dict[str, list[tuple[str, str, str]]]:
    """Each listed item's changes as (label, old, new), by record."""
    return {
        item.proposal.object_repr: [
            (line.label, line.original, line.proposed) for line in item.change_lines
        ]
        for item in response.context["cl"].result_list
    }


@pytest.fixture
def net60(db):
    PaymentTermsFactory(code="Net30")
    return PaymentTermsFactory(code="Net60", description="60 days")


@pytest.mark.django_db
def test_each_item_shows_old_and_new_values_as_a_person_reads_them(
    client, customer, clerk, approver, approvals_on, active_workflow, net60
):
    customer.payment_terms = PaymentTerms.objects.get(code="Net30")
    customer.save()
    proposal = propose(
        customer, clerk, credit_limit=Decimal("12500"), payment_terms=net60
    )
    services.proposal_submit(
        proposal=proposal, actor=clerk, justification="Bigger orders."
    )
    client.force_login(approver)

    response = client.get(WORK_ITEMS)

    assert change_lines(response) == {
        str(customer): [
            ("Credit limit", "10000.00", "12500.00"),
            ("Terms of payment", "Net30 – Net 30 days", "Net60 – 60 days"),
        ]
    }
    html = response.text
    assert '<span class="change-old">10000.00</span> → ' in html
    assert '<span class="change-new">12500.00</span>' in html
    assert '<td class="field-justification"><span title="Bigger orders.">' in html
    assert '<td class="field-submitted_by">clerk</td>' in html
    assert '<td class="field-age">0' in html


@pytest.mark.django_db
def test_amounts_read_in_dutch_for_a_dutch_reader(
    client, customer, clerk, approver, approvals_on, active_workflow
):
    submit(customer, clerk, credit_limit=Decimal("12500.50"))
    client.force_login(approver)

    response = client.get(WORK_ITEMS, headers={"accept-language": "nl"})

    assert change_lines(response) == {
        str(customer): [("Kredietlimiet", "10000,00", "12500,50")]
    }


@pytest.mark.django_db
def test_the_due_date_and_overdue_items_show(
    client, customer, clerk, approver, approvals_on, active_workflow
):
    submit(customer, clerk, credit_limit=Decimal("12500"))
    WorkItem.objects.update(due_at=timezone.now() - timedelta(hours=1))
    client.force_login(approver)

    response = client.get(WORK_ITEMS)

    assert '<strong class="overdue">' in response.text
    assert "(overdue)" in response.text


@pytest.mark.django_db
def test_a_page_of_many_items_costs_the_queries_of_a_page_of_one(
    client, clerk, approver, approvals_on, active_workflow, net60
):
    def add_item() -> None:
        submit(
            CustomerFactory(),
            clerk,
            credit_limit=Decimal("12500"),
            payment_terms=net60,
            bank_account="DE89370400440532013000",
        )

    client.force_login(approver)
    add_item()
    client.get(WORK_ITEMS)  # the session and content types are read once
    with CaptureQueriesContext(connection) as one:
        assert len(change_lines(client.get(WORK_ITEMS))) == 1
    for _n in range(6):
        add_item()
    with CaptureQueriesContext(connection) as seven:
        assert len(change_lines(client.get(WORK_ITEMS))) == 7

    assert len(seven) == len(one)
