"""Customers through the API: list and filters, read with its ETag, create, and updates
that follow the data entity behaviour of the parameters."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from customers.models import Customer
from tests.api.conftest import token_client
from tests.factories import CustomerFactory, CustomerGroupFactory
from workflow import services
from workflow.models import (
    AuditAction,
    AuditEntry,
    ChangeProposal,
    DataEntityBehavior,
    ProposalState,
    Source,
)

from ..conftest import GOVERNED_FIELDS


def url(customer=None) -> str:
    return f"/api/v1/customers/{customer.pk}/" if customer else "/api/v1/customers/"


def behaviour(admin, value: str) -> None:
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=value,
        enabled_fields=GOVERNED_FIELDS,
        actor=admin,
    )


@pytest.mark.django_db
def test_the_list_pages_by_cursor_and_filters(clerk):
    wholesale = CustomerGroupFactory(code="20")
    for number in range(1, 6):
        CustomerFactory(account=f"C{number:05d}", name=f"Customer {number}")
    CustomerFactory(account="W00001", name="Wholesaler", customer_group=wholesale)
    api = token_client(clerk)

    first = api.get(url(), {"page_size": 4}).json()
    second = api.get(first["next"]).json()

    assert [c["account"] for c in first["results"]] == [
        "C00001",
        "C00002",
        "C00003",
        "C00004",
    ]
    assert [c["account"] for c in second["results"]] == ["C00005", "W00001"]
    assert "count" not in first  # no count: a million rows cost no more
    assert [
        c["account"] for c in api.get(url(), {"group": "20"}).json()["results"]
    ] == ["W00001"]
    assert [
        c["account"] for c in api.get(url(), {"account": "c00003"}).json()["results"]
    ] == ["C00003"]


@pytest.mark.django_db
def test_filters_by_approval_status_and_changed_since(
    clerk, approver, approvals_on, active_workflow
):
    pending = CustomerFactory(account="C00001")
    CustomerFactory(account="C00002")
    api = token_client(clerk)
    api.patch(url(pending), {"credit_limit": "5000"}, format="json")

    by_status = api.get(url(), {"status": "pending"}).json()["results"]
    later = (timezone.now() + datetime.timedelta(hours=1)).isoformat()

    assert [c["account"] for c in by_status] == ["C00001"]
    assert by_status[0]["approval_status"] == "pending"
    assert api.get(url(), {"changed_since": later}).json()["results"] == []
    assert len(api.get(url(), {"changed_since": "2000-01-01"}).json()["results"]) == 2
    refused = api.get(url(), {"changed_since": "yesterday"})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "changed_since"


@pytest.mark.django_db
def test_create_writes_the_customer_with_source_api_and_the_token(clerk):
    CustomerGroupFactory(code="10")
    api = token_client(clerk, "Web shop")

    response = api.post(
        url(),
        {"account": "C00100", "name": "New Shop", "customer_group": "10"},
        format="json",
    )

    assert response.status_code == 201
    customer = Customer.objects.get(account="C00100")
    assert response["Location"].endswith(url(customer))
    assert response["ETag"]
    entry = AuditEntry.objects.get(
        action=AuditAction.CREATED, object_id=customer.pk, object_repr=str(customer)
    )
    assert entry.source == Source.API
    assert entry.actor_name == "clerk"
    assert entry.comment_translations["api_token"] == "Web shop"


@pytest.mark.django_db
def test_allow_writes_governed_fields(clerk, approval_admin, customer):
    behaviour(approval_admin, DataEntityBehavior.ALLOW)
    api = token_client(clerk)

    response = api.patch(url(customer), {"credit_limit": "25000"}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["written"] == ["credit_limit"]
    assert body["proposed"] == []
    assert body["proposal"] is None
    customer.refresh_from_db()
    assert str(customer.credit_limit) == "25000.00"


@pytest.mark.django_db
def test_reject_refuses_the_whole_change_naming_the_field(
    clerk, approval_admin, customer
):
    behaviour(approval_admin, DataEntityBehavior.REJECT)
    api = token_client(clerk)

    response = api.patch(
        url(customer), {"name": "Renamed", "credit_limit": "25000"}, format="json"
    )

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["field"] == "credit_limit"
    assert error["value"] == "25000"
    assert "Credit limit" in error["message"]
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"  # nothing written
    assert not ChangeProposal.objects.exists()


@pytest.mark.django_db
def test_propose_writes_the_rest_and_submits_on_the_callers_behalf(
    clerk, approver, approvals_on, active_workflow, customer
):
    api = token_client(clerk, "CRM")

    response = api.patch(
        url(customer),
        {"name": "Renamed", "credit_limit": "25000", "_justification": "Bigger orders"},
        format="json",
    )

    assert response.status_code == 202
    body = response.json()
    assert body["written"] == ["name"]
    assert body["proposed"] == ["credit_limit"]
    assert body["proposal"]["state"] == ProposalState.PENDING
    assert body["proposal"]["justification"] == "Bigger orders"
    assert body["proposal"]["changes"][0]["old"] == "10000.00"
    assert body["proposal"]["changes"][0]["new"] == "25000.00"
    assert response["Location"] == body["proposal_url"]
    assert body["customer"]["name"] == "Renamed"
    assert body["customer"]["credit_limit"] == "10000.00"
    proposal = ChangeProposal.objects.get()
    assert proposal.source == Source.API
    assert proposal.submitted_by == clerk


@pytest.mark.django_db
def test_propose_refuses_a_customer_with_open_changes(
    clerk, approver, approvals_on, active_workflow, customer
):
    api = token_client(clerk)
    api.patch(url(customer), {"credit_limit": "25000"}, format="json")

    again = api.patch(
        url(customer), {"name": "Renamed", "credit_limit": "30000"}, format="json"
    )

    assert again.status_code == 422
    assert "pending approval" in again.json()["errors"][0]["message"]
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"


@pytest.mark.django_db
def test_propose_without_an_active_workflow_writes_nothing(
    clerk, approvals_on, customer
):
    response = token_client(clerk).patch(
        url(customer), {"name": "Renamed", "credit_limit": "25000"}, format="json"
    )

    assert response.status_code == 409
    assert "no workflow is active" in response.json()["detail"]
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"
    assert not ChangeProposal.objects.exists()


@pytest.mark.django_db
def test_a_stale_etag_is_refused_with_412(clerk, customer):
    api = token_client(clerk)
    etag = api.get(url(customer))["ETag"]
    fresh = api.patch(
        url(customer), {"city": "Delft"}, format="json", HTTP_IF_MATCH=etag
    )

    stale = api.patch(
        url(customer), {"city": "Leiden"}, format="json", HTTP_IF_MATCH=etag
    )

    assert fresh.status_code == 200
    assert fresh["ETag"] != etag
    assert stale.status_code == 412
    assert stale.json()["status"] == 412
    customer.refresh_from_db()
    assert customer.city == "Delft"
    newer = api.patch(
        url(customer), {"city": "Leiden"}, format="json", HTTP_IF_MATCH=fresh["ETag"]
    )
    assert newer.status_code == 200


@pytest.mark.django_db
def test_put_replaces_every_field(clerk, customer):
    api = token_client(clerk)
    current = api.get(url(customer)).json()
    current.update(name="Put Name", city="Gouda")

    response = api.put(url(customer), current, format="json")

    assert response.status_code == 200
    assert sorted(response.json()["written"]) == ["city", "name"]


@pytest.mark.parametrize(
    "language, detail, message",
    [
        (
            "en",
            "Some values are not valid; nothing was written.",
            "Enter a valid email address.",
        ),
        (
            "nl",
            "Sommige waarden zijn niet geldig; er is niets opgeslagen.",
            "Voer een geldig e-mailadres in.",
        ),
    ],
)
@pytest.mark.django_db
def test_bad_values_are_named_in_the_callers_language(
    clerk, customer, language, detail, message
):
    api = token_client(clerk, language=language)

    response = api.patch(url(customer), {"email": "not-an-address"}, format="json")

    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == detail
    assert body["errors"] == [
        {"field": "email", "value": "not-an-address", "message": message}
    ]


@pytest.mark.django_db
def test_an_approver_may_read_but_not_change_customers(approver, customer):
    api = token_client(approver)

    assert api.get(url(customer)).status_code == 200
    refused = api.patch(url(customer), {"city": "Delft"}, format="json")

    assert refused.status_code == 403
    assert refused.json()["title"] == "Not allowed"
    customer.refresh_from_db()
    assert customer.city == ""


@pytest.mark.django_db
def test_a_person_uses_their_session_with_the_csrf_token(clerk, customer):
    from rest_framework.test import APIClient

    api = APIClient(enforce_csrf_checks=True)
    api.force_login(clerk)

    assert api.get(url(customer)).status_code == 200
    refused = api.patch(url(customer), {"city": "Delft"}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]


@pytest.mark.django_db
def test_without_credentials_the_answer_is_401(customer):
    from rest_framework.test import APIClient

    response = APIClient().get(url(customer))

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_refused_in_words(clerk, customer):
    api = token_client(clerk)

    broken = api.generic(
        "PATCH",
        url(customer),
        "{not json",
        content_type="application/json",
    )
    as_text = api.generic(
        "PATCH", url(customer), "city=Delft", content_type="text/plain"
    )

    assert broken.status_code == 400
    assert broken.json()["title"] == "Bad request"
    assert as_text.status_code == 415
    assert as_text["Content-Type"] == "application/problem+json"
