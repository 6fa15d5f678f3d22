"""A form loaded before someone else's change never overwrites it and never drops what
the user typed: the fields nobody else changed are saved (or proposed), the fields both
changed come back side by side with the other person's value, for the user to choose."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from customers.models import Customer
from customers.services import customer_update
from tests.conftest import store_around_approval
from tests.customers.test_admin_walk import form_data
from tests.factories import PaymentTermsFactory
from workflow.admin.governed import STALE_FIELDS_KEPT
from workflow.exceptions import RECORD_VERSION_MISSING, STALE_RECORD, StaleRecord
from workflow.models import AuditEntry, ChangeProposal

STALE_MESSAGE = str(STALE_FIELDS_KEPT % {"model": "customer"})


def change_url(customer):
    return reverse("admin:customers_customer_change", args=[customer.pk])


@pytest.fixture
def opened(client, clerk, customer):
    """The clerk's form, loaded now; returns what the browser would post back."""
    client.force_login(clerk)
    return form_data(client.get(change_url(customer)))


@pytest.mark.django_db
def test_a_stale_form_saves_the_users_change_and_keeps_the_other_persons(
    client, clerk2, customer, opened
):
    customer_update(
        customer_id=customer.pk, values={"phone": "+31 1 (other clerk)"}, actor=clerk2
    )

    response = client.post(
        change_url(customer), {**opened, "name": "My edit"}, follow=True
    )

    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("My edit", "+31 1 (other clerk)")
    assert "Saved: Name." in response.text
    assert STALE_MESSAGE not in response.text


@pytest.mark.django_db
def test_fields_both_changed_are_shown_side_by_side_and_the_input_is_kept(
    client, clerk2, customer, opened
):
    customer_update(
        customer_id=customer.pk,
        values={"phone": "+31 1 (other clerk)", "city": "Utrecht"},
        actor=clerk2,
    )

    response = client.post(
        change_url(customer),
        {**opened, "phone": "+31 2 (mine)", "street": "Damrak 1"},
    )

    # Not a redirect: the same form, with everything the user typed.
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form["phone"].value() == "+31 2 (mine)"
    assert form["street"].value() == "Damrak 1"
    assert STALE_MESSAGE in response.text
    (clash,) = response.context["clashes"]
    assert (clash.field_name, clash.mine, clash.theirs, clash.by) == (
        "phone",
        "+31 2 (mine)",
        "+31 1 (other clerk)",
        "clerk2",
    )
    assert '<td class="theirs">+31 1 (other clerk)' in response.text
    # The field nobody else changed is saved; the clashing one waits for a choice.
    customer.refresh_from_db()
    assert (customer.street, customer.phone, customer.city) == (
        "Damrak 1",
        "+31 1 (other clerk)",
        "Utrecht",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("choice", "phone"), [("mine", "+31 2 (mine)"), ("theirs", "+31 1 (other clerk)")]
)
def test_the_user_chooses_whose_value_stays(
    client, clerk2, customer, opened, choice, phone
):
    customer_update(
        customer_id=customer.pk, values={"phone": "+31 1 (other clerk)"}, actor=clerk2
    )
    shown = client.post(change_url(customer), {**opened, "phone": "+31 2 (mine)"})

    again = {**form_data(shown), "_clash_phone": choice}
    response = client.post(change_url(customer), again)

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.phone == phone


@pytest.mark.django_db
def test_a_clash_on_a_field_under_approval_is_not_proposed_until_chosen(
    client, clerk, clerk2, customer, approvals_on, active_workflow, opened
):
    terms = PaymentTermsFactory(code="Net45")
    # Another path wrote the credit limit after the clerk opened the form.
    store_around_approval(customer, credit_limit=Decimal("15000.00"))

    response = client.post(
        change_url(customer),
        {**opened, "credit_limit": "25000", "payment_terms": terms.pk},
    )

    assert response.status_code == 200
    assert [c.field_name for c in response.context["clashes"]] == ["credit_limit"]
    proposal = ChangeProposal.objects.get()
    assert list(proposal.changes.values_list("field_name", flat=True)) == [
        "payment_terms"
    ]
    assert "Your changes have not been submitted." in response.text


@pytest.mark.django_db
def test_a_stale_save_without_the_loaded_values_is_refused_as_before(
    clerk, clerk2, customer
):
    """A script that sends only the version cannot tell whose change is whose."""
    version = customer.updated_at.isoformat()
    customer_update(customer_id=customer.pk, values={"phone": "+31 1"}, actor=clerk2)
    with pytest.raises(StaleRecord) as refused:
        customer_update(
            customer_id=customer.pk,
            values={"name": "My edit"},
            actor=clerk,
            expected_version=version,
        )
    assert refused.value.message == STALE_RECORD % {"model": "customer"}
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"


@pytest.mark.django_db
def test_tampered_loaded_values_count_as_none(client, clerk2, customer, opened):
    customer_update(customer_id=customer.pk, values={"phone": "+31 1"}, actor=clerk2)
    forged = {**opened, "_record_loaded": opened["_record_loaded"][:-2] + "xx"}

    response = client.post(
        change_url(customer), {**forged, "name": "Mine"}, follow=True
    )

    assert "Someone changed this customer after you opened it" in response.text
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Contoso Retail", "+31 1")


@pytest.mark.django_db
def test_a_fresh_form_saves(client, clerk, customer):
    url = change_url(customer)
    client.force_login(clerk)
    page = client.get(url)
    version = re.search(
        r'name="_record_version" value="([^"]+)"', page.content.decode()
    ).group(1)
    client.post(url, {**form_data(page), "name": "My edit", "_record_version": version})
    customer.refresh_from_db()
    assert customer.name == "My edit"


@pytest.mark.django_db
def test_a_change_without_the_record_version_is_refused_and_writes_nothing(
    client, clerk, customer, approvals_on
):
    url = change_url(customer)
    client.force_login(clerk)
    data = form_data(client.get(url))
    del data["_record_version"]

    response = client.post(
        url, {**data, "name": "My edit", "credit_limit": "25000"}, follow=True
    )

    assert str(RECORD_VERSION_MISSING % {"model": "customer"}) in response.text
    customer.refresh_from_db()
    assert (customer.name, customer.credit_limit) == (
        "Contoso Retail",
        Decimal("10000.00"),
    )
    assert not ChangeProposal.objects.exists()
    assert not AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer)
    ).exists()


@pytest.mark.django_db
def test_a_form_sent_back_with_errors_keeps_what_it_was_loaded_with(
    client, clerk, clerk2, customer
):
    url = change_url(customer)
    client.force_login(clerk)
    data = form_data(client.get(url))
    customer_update(
        customer_id=customer.pk, values={"phone": "+31 1 (other clerk)"}, actor=clerk2
    )

    with_errors = client.post(url, {**data, "name": ""})
    assert with_errors.status_code == 200
    resent = form_data(with_errors)
    assert resent["_record_version"] == data["_record_version"]
    assert resent["_record_loaded"] == data["_record_loaded"]
    client.post(url, {**resent, "name": "My edit"})

    # The other clerk's phone is kept although the form still showed the old one.
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("My edit", "+31 1 (other clerk)")
