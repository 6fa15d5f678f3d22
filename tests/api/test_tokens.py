"""API tokens: made by an administrator who sees the key once, stored as a digest,
revoked at once; each token has its own request budget; the audit and the change log
name the token of every write."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.api.conftest import token_client
from tests.reports.conftest import exported
from workflow.models import ApiToken, AuditAction, AuditEntry


def with_key(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.mark.django_db
def test_an_administrator_makes_a_token_and_sees_its_key_once(
    client, approval_admin, clerk, customer
):
    client.force_login(approval_admin)

    page = client.post(
        "/admin/workflow/apitoken/add/", {"user": clerk.pk, "name": "CRM"}, follow=True
    )

    (message,) = [
        str(m) for m in get_messages(page.wsgi_request) if "copy it now" in str(m)
    ]
    key = message.split(" is ")[1].split(" ")[0]
    token = ApiToken.objects.get()
    assert (token.name, token.user, token.created_by) == ("CRM", clerk, approval_admin)
    assert key not in str(ApiToken.objects.values().get())  # only a digest is kept
    assert with_key(key).get(f"/api/v1/customers/{customer.pk}/").status_code == 200
    detail = client.get(f"/admin/workflow/apitoken/{token.pk}/change/").content.decode()
    assert key not in detail
    made = AuditEntry.objects.get(action=AuditAction.CREATED, object_repr="CRM")
    assert (made.actor_name, made.comment) == ("admin", "API token of clerk.")


@pytest.mark.django_db
def test_a_revoked_token_stops_working_at_once(client, approval_admin, clerk, customer):
    api = token_client(clerk, "CRM")
    assert api.get(f"/api/v1/customers/{customer.pk}/").status_code == 200
    client.force_login(approval_admin)

    client.post(
        "/admin/workflow/apitoken/",
        {
            "action": "revoke_selected",
            "_selected_action": [ApiToken.objects.get().pk],
        },
    )

    refused = api.get(f"/api/v1/customers/{customer.pk}/")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "The API token is not valid, or it was revoked."
    assert ApiToken.objects.get().revoked_at is not None
    revoked = AuditEntry.objects.get(action=AuditAction.FIELD_CHANGED)
    assert (revoked.actor_name, revoked.field_name) == ("admin", "revoked_at")


@pytest.mark.django_db
def test_a_clerk_cannot_make_tokens(client, clerk):
    client.force_login(clerk)

    response = client.post(
        "/admin/workflow/apitoken/add/", {"user": clerk.pk, "name": "Mine"}
    )

    assert response.status_code == 403
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_a_wrong_key_is_refused_in_the_callers_language(customer):
    client = with_key("not-a-key")

    refused = client.get(f"/api/v1/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="nl")

    assert refused.status_code == 401
    assert refused.json()["title"] == "Niet aangemeld"
    assert (
        refused.json()["detail"]
        == "Het API-token is niet geldig, of het is ingetrokken."
    )


@pytest.mark.django_db
def test_an_inactive_user_s_token_is_refused(clerk, customer):
    api = token_client(clerk)
    User.objects.filter(pk=clerk.pk).update(is_active=False)

    assert api.get(f"/api/v1/customers/{customer.pk}/").status_code == 401


@pytest.mark.django_db
def test_each_token_has_its_own_budget(clerk, customer, monkeypatch):
    from workflow.api.throttling import TokenRateThrottle

    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"api": "3/minute"})
    cache.clear()
    busy, quiet = token_client(clerk, "Busy"), token_client(clerk, "Quiet")
    address = f"/api/v1/customers/{customer.pk}/"

    statuses = [busy.get(address).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert quiet.get(address).status_code == 200
    throttled = busy.get(address)
    assert throttled.json()["title"] == "Too many requests"
    assert int(throttled["Retry-After"]) > 0
    cache.clear()


@pytest.mark.django_db
def test_the_change_log_shows_api_and_the_token(
    client,
    auditor,
    clerk,
    approver,
    customer,
    approvals_on,
    active_workflow,
):
    writer = token_client(clerk, "Web shop")
    writer.patch(
        f"/api/v1/customers/{customer.pk}/",
        {"city": "Delft", "credit_limit": "25000"},
        format="json",
    )
    proposal_id = writer.get("/api/v1/proposals/").json()["results"][0]["id"]
    token_client(approver, "Approvals app").post(
        f"/api/v1/proposals/{proposal_id}/approve/", {}, format="json"
    )
    client.force_login(auditor)

    rows = {row["Field"]: row for row in exported(client, "changes", "csv")}

    assert rows["City"]["Source"] == "API: API token “Web shop”"
    assert rows["Credit limit"]["Source"] == "API: API token “Web shop”"
    assert "approver" in str(rows["Credit limit"])
    assert Decimal(str(rows["Credit limit"]["New value"]).replace(",", "")) == Decimal(
        "25000"
    )


@pytest.mark.django_db
def test_a_token_request_keeps_no_session(clerk, customer):
    from django.contrib.sessions.models import Session

    response = token_client(clerk, language="nl").get(
        f"/api/v1/customers/{customer.pk}/"
    )

    assert response.status_code == 200
    assert "sessionid" not in response.cookies
    assert not Session.objects.exists()
