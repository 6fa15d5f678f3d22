"""The walk of the seed page, through the admin pages, as a clerk and then an approver."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer
from workflow.models import ProposalState
from workflow.selectors import proposals_for


def change_url(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


def proposed_url(customer):
    return reverse("admin:customers_customer_proposed_changes", args=[customer.pk])


def workflow_url(customer, action):
    return reverse("admin:customers_customer_workflow", args=[customer.pk, action])


def form_data(response) -> dict[str, object]:
    """The values the change form shows, as the browser would post them back (with the
    record's version and values the form was loaded with)."""
    form = response.context["adminform"].form
    data = {}
    if response.context.get("record_version"):
        data["_record_version"] = response.context["record_version"]
    if response.context.get("record_loaded"):
        data["_record_loaded"] = response.context["record_loaded"]
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
            continue
        data[name] = value
    return data


def save_customer(client, customer, **changes):
    page = client.get(change_url(customer))
    data = form_data(page)
    data.update(changes)
    return client.post(change_url(customer), data)


@pytest.fixture
def walk_setup(customer, clerk, approver, approver2, approvals_on, active_workflow):
    return customer


@pytest.mark.django_db
def test_clerk_edit_lands_on_proposed_changes_with_the_message(
    client, walk_setup, clerk
):
    customer = walk_setup
    client.force_login(clerk)
    response = save_customer(
        client, customer, name="Contoso Retail BV", credit_limit="25000"
    )

    assert response.status_code == 302
    assert response["Location"] == proposed_url(customer)
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Your changes have not been submitted." in html
    for label in (
        "Field",
        "Original value",
        "Proposed value",
        "Discard",
        "Discard all changes",
        "OK",
    ):
        assert label in html
    # English amounts, original then proposed.
    assert "<td>10000.00</td>" in html
    assert "<td>25000.00</td>" in html
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail BV"
    assert customer.credit_limit == Decimal("10000.00")


@pytest.mark.django_db
def test_change_page_shows_proposed_changes_and_workflow_menus(
    client, walk_setup, clerk
):
    customer = walk_setup
    client.force_login(clerk)
    before = client.get(change_url(customer)).content.decode()
    assert "Proposed changes" not in before
    save_customer(client, customer, credit_limit="25000")

    html = client.get(change_url(customer)).content.decode()
    assert proposed_url(customer) in html
    assert ">Workflow<" in html
    assert workflow_url(customer, "submit") in html


@pytest.mark.django_db
def test_full_walk_clerk_submits_approver_approves(client, walk_setup, clerk, approver):
    customer = walk_setup
    client.force_login(clerk)
    save_customer(
        client,
        customer,
        credit_limit="25000",
        bank_account="DE89 3704 0044 0532 0130 00",
    )
    response = client.post(workflow_url(customer, "submit"))
    assert response.status_code == 302
    html = client.get(change_url(customer)).content.decode()
    assert "Changes pending approval" in html

    client.force_login(approver)
    index = client.get(reverse("admin:index")).content.decode()
    assert "My work items" in index
    assert "1 change waiting for your approval" in index
    queue = client.get(reverse("admin:workflow_workitem_changelist")).content.decode()
    assert "Contoso Retail" in queue
    assert "Credit limit" in queue
    review = client.get(proposed_url(customer)).content.decode()
    assert workflow_url(customer, "approve") in review
    assert client.get(workflow_url(customer, "approve")).status_code == 200
    response = client.post(
        workflow_url(customer, "approve"), {"comment": "Checked with the bank"}
    )
    assert response.status_code == 302

    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("25000")
    assert customer.bank_account == "DE89370400440532013000"
    history = client.get(
        reverse("admin:customers_customer_history", args=[customer.pk])
    )
    text = history.content.decode()
    for expected in (
        "Checked with the bank",
        "Applied",
        "Approved",
        "Submitted for approval",
        "clerk",
        "approver",
    ):
        assert expected in text


@pytest.mark.django_db
def test_reject_without_comment_is_refused_then_with_comment_leaves_customer(
    client, walk_setup, clerk, approver
):
    customer = walk_setup
    client.force_login(clerk)
    save_customer(client, customer, credit_limit="25000")
    client.post(workflow_url(customer, "submit"))

    client.force_login(approver)
    response = client.post(
        workflow_url(customer, "reject"), {"comment": ""}, follow=True
    )
    assert (
        "Write a comment that explains why you reject the changes."
        in response.content.decode()
    )
    client.post(workflow_url(customer, "reject"), {"comment": "Too high"})

    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("10000.00")
    assert proposals_for(customer)[0].state == ProposalState.REJECTED


@pytest.mark.django_db
def test_submitter_sees_why_they_cannot_approve_and_a_post_is_refused(
    client, walk_setup, clerk, roles
):
    customer = walk_setup
    clerk.groups.add(roles["Approvers"])
    client.force_login(clerk)
    save_customer(client, customer, credit_limit="25000")
    client.post(workflow_url(customer, "submit"))

    page = client.get(change_url(customer)).content.decode()
    assert "because you proposed or submitted them" in page
    response = client.post(
        workflow_url(customer, "approve"), {"comment": "me"}, follow=True
    )
    assert "because you proposed or submitted them" in response.content.decode()
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("10000.00")


@pytest.mark.django_db
def test_pending_edit_is_refused_with_a_message_and_other_fields_save(
    client, walk_setup, clerk
):
    customer = walk_setup
    client.force_login(clerk)
    save_customer(client, customer, credit_limit="25000")
    client.post(workflow_url(customer, "submit"))

    response = save_customer(client, customer, credit_limit="30000", name="New name")
    page = client.get(response["Location"]).content.decode()
    assert "Credit limit was not saved" in page
    customer.refresh_from_db()
    assert customer.name == "New name"


@pytest.mark.django_db
def test_discard_buttons_on_the_proposed_changes_page(client, walk_setup, clerk):
    customer = walk_setup
    client.force_login(clerk)
    save_customer(
        client, customer, credit_limit="25000", bank_account="DE89370400440532013000"
    )

    client.post(proposed_url(customer), {"action": "discard", "field": "credit_limit"})
    html = client.get(proposed_url(customer)).content.decode()
    assert 'data-field="credit_limit"' not in html
    assert 'data-field="bank_account"' in html
    # Discard all asks first, also when posted from an old page.
    asked = client.post(proposed_url(customer), {"action": "discard_all"})
    assert asked["Location"] == workflow_url(customer, "discard")
    assert 'data-field="bank_account"' in client.get(proposed_url(customer)).text
    response = client.post(workflow_url(customer, "discard"))
    assert response["Location"] == change_url(customer)
    assert "Proposed changes" not in client.get(change_url(customer)).content.decode()


@pytest.mark.django_db
def test_submit_is_a_page_first_and_only_its_post_submits(client, walk_setup, clerk):
    customer = walk_setup
    client.force_login(clerk)
    save_customer(client, customer, credit_limit="25000")
    page = client.get(workflow_url(customer, "submit"))
    assert page.status_code == 200
    assert 'name="justification"' in page.text
    assert proposals_for(customer)[0].state == ProposalState.DRAFT
    client.post(workflow_url(customer, "submit"), {"justification": "Bigger orders"})
    assert proposals_for(customer)[0].state == ProposalState.PENDING


@pytest.mark.django_db
def test_clerk_can_create_a_customer_without_approval(
    client, clerk, approvals_on, customer
):
    client.force_login(clerk)
    add = client.get(reverse("admin:customers_customer_add"))
    assert add.status_code == 200
    response = client.post(
        reverse("admin:customers_customer_add"),
        {
            "account": "C09999",
            "name": "New Customer",
            "customer_group": customer.customer_group_id,
            "currency": "EUR",
            "credit_limit": "5000",
            "country": "NL",
            "bank_account": "NL91ABNA0417164300",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Customer.objects.get(account="C09999")
    assert created.credit_limit == Decimal("5000")
