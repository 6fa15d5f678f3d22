"""Approval on create in the pages, in English and Dutch: the clerk's new customer
awaits approval, the list shows and filters its status, the approver decides it as
any proposal, and a customer that is not active is refused as an invoice account."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import Customer
from customers.services import customer_create
from tests.customers.test_admin_walk import (
    change_url,
    form_data,
    proposed_url,
    workflow_url,
)
from tests.factories import CustomerFactory
from tests.pages import page_text
from workflow import services

NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}


def add_customer(client, group, **extra):
    return client.post(
        reverse("admin:customers_customer_add"),
        {
            "account": "C09999",
            "name": "New Customer",
            "customer_group": group.pk,
            "currency": "EUR",
            "credit_limit": "5000",
            "country": "NL",
            "bank_account": "NL91ABNA0417164300",
            **extra,
        },
        follow=True,
        **extra.pop("headers", {}),
    )


@pytest.mark.django_db
def test_the_parameter_is_on_the_parameters_page_and_its_change_audited(
    client, approval_admin, approvals_on
):
    client.force_login(approval_admin)
    url = reverse(
        "admin:customers_accountsreceivableparameters_change", args=["current"]
    )
    page = client.get(url)
    assert "New records wait for approval" in page_text(page)
    data = {
        "approvals_enabled": "on",
        "data_entity_behavior": "propose",
        "enabled_fields": ["credit_limit", "bank_account", "payment_terms"],
        "new_records_need_approval": "on",
    }
    client.post(url, data)

    from workflow.selectors import approval_settings_for

    assert approval_settings_for(Customer).new_records_need_approval
    dutch = page_text(client.get(url, **NL))
    assert "Nieuwe records wachten op goedkeuring Nee Ja" in dutch


@pytest.mark.django_db
def test_a_clerks_new_customer_awaits_approval_and_the_approver_activates_it(
    client, clerk, approver, creation_needs_approval, group
):
    client.force_login(clerk)
    response = add_customer(client, group)
    text = page_text(response)
    assert "New records wait for approval: this one is “Awaiting approval”" in text
    assert "It was submitted for approval." in text
    customer = Customer.objects.get(account="C09999")
    assert customer.record_status == "awaiting"

    listing = page_text(client.get(reverse("admin:customers_customer_changelist")))
    assert "C09999 New Customer Awaiting approval" in listing
    only_waiting = page_text(
        client.get(
            reverse("admin:customers_customer_changelist") + "?approval_status=awaiting"
        )
    )
    assert "C09999" in only_waiting
    none = page_text(
        client.get(
            reverse("admin:customers_customer_changelist") + "?approval_status=none"
        )
    )
    assert "C09999" not in none
    page = page_text(client.get(change_url(customer)))
    assert "Record status: Awaiting approval" in page

    client.force_login(approver)
    review = page_text(client.get(proposed_url(customer)))
    assert "Credit limit (blank) 5000.00 5000.00" in review
    # Nothing moved: the values are those it was created with.
    assert "Changed since it was proposed" not in review
    client.post(workflow_url(customer, "approve"), {"comment": "Known to us"})
    customer.refresh_from_db()
    assert customer.record_status == "active"
    listing = page_text(client.get(reverse("admin:customers_customer_changelist")))
    assert "C09999 New Customer Awaiting approval" not in listing
    assert "C09999 New Customer" in listing
    history = page_text(
        client.get(reverse("admin:customers_customer_history", args=[customer.pk]))
    )
    assert "Creation approved: active" in history


@pytest.mark.django_db
def test_the_dutch_pages_say_the_customer_awaits_approval(
    client, clerk, approver, creation_needs_approval, group
):
    client.force_login(clerk)
    text = page_text(add_customer(client, group, headers=NL))
    assert "Nieuwe records wachten op goedkeuring" in text
    customer = Customer.objects.get(account="C09999")
    listing = page_text(
        client.get(reverse("admin:customers_customer_changelist"), **NL)
    )
    assert "Wacht op goedkeuring" in listing
    page = page_text(client.get(change_url(customer), **NL))
    assert "Recordstatus: Wacht op goedkeuring" in page


@pytest.mark.django_db
def test_a_rejected_customer_says_what_to_do_next_in_both_languages(
    client, clerk, approver, creation_needs_approval, new_values
):
    customer = customer_create(values=new_values, actor=clerk)
    from workflow.selectors import open_proposal_for

    services.proposal_reject(
        proposal=open_proposal_for(customer), actor=approver, comment="Unknown"
    )
    client.force_login(clerk)
    text = page_text(client.get(change_url(customer)))
    assert "Record status: Rejected" in text
    assert "Edit it and submit it again (Workflow › Submit), or delete it." in text
    listing = page_text(client.get(reverse("admin:customers_customer_changelist")))
    assert "Rejected: not active" in listing
    dutch = page_text(client.get(change_url(customer), **NL))
    assert "Wijzig het en dien het opnieuw in (Workflow › Indienen)" in dutch


@pytest.mark.django_db
def test_a_customer_awaiting_approval_is_refused_as_invoice_account_on_the_form(
    client, clerk, approver, creation_needs_approval, customer
):
    waiting = CustomerFactory(
        account="W00001", name="Waiting", record_status="awaiting"
    )
    client.force_login(clerk)
    data = form_data(client.get(change_url(customer)))
    data["invoice_account"] = waiting.pk
    response = client.post(change_url(customer), data)

    assert response.status_code == 200
    text = page_text(response)
    assert (
        "W00001 Waiting cannot be used as invoice account: its status is "
        "“Awaiting approval”." in text
    )
    customer.refresh_from_db()
    assert customer.invoice_account is None

    data["invoice_account"] = waiting.pk
    dutch = page_text(client.post(change_url(customer), data, **NL))
    assert (
        "W00001 Waiting kan niet worden gebruikt als factuurrekening: de status is "
        "„Wacht op goedkeuring”." in dutch
    )


@pytest.mark.django_db
def test_the_services_refuse_an_invoice_account_that_is_not_active(
    clerk, approver, creation_needs_approval, customer, new_values
):
    from django.core.exceptions import ValidationError

    from customers.services import customer_update

    rejected = CustomerFactory(account="R00001", name="Gone", record_status="rejected")
    with pytest.raises(ValidationError) as refused:
        customer_update(
            customer_id=customer.pk,
            values={"invoice_account": rejected},
            actor=clerk,
        )
    assert refused.value.message_dict["invoice_account"] == [
        "R00001 Gone cannot be used as invoice account: its status is “Rejected”. "
        "A record is used only once its creation is approved."
    ]
    with pytest.raises(ValidationError):
        customer_create(values={**new_values, "invoice_account": rejected}, actor=clerk)
