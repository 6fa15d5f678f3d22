"""Login throttling, CSRF, framing, CSP, sessions: what an attacker meets at the door."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import submit

LOGIN = "/admin/login/"


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    from axes.utils import reset

    reset()
    yield
    reset()


def attempt(client, password, **headers):
    return client.post(LOGIN, {"username": "clerk", "password": password}, **headers)


@pytest.mark.django_db
def test_wrong_passwords_lock_the_user_name(client, clerk, axes_on):
    for _ in range(3):
        attempt(client, "wrong")
    response = attempt(client, "pw")
    assert response.status_code == 429
    assert "Sign-in with this user name is paused" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_forged_forwarded_for_header_does_not_reset_the_count(client, clerk, axes_on):
    for number in range(3):
        attempt(client, "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{number}")
    response = attempt(client, "pw", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429


@pytest.mark.django_db
def test_the_session_key_changes_at_login(client, clerk, axes_on):
    client.get(LOGIN)
    client.cookies["sessionid"] = "x"
    before = client.session.session_key
    attempt(client, "pw")
    assert client.session.session_key != before
    assert client.session["_auth_user_id"] == str(clerk.pk)


@pytest.mark.django_db
def test_state_changes_need_a_csrf_token(
    customer, clerk, approver, approvals_on, active_workflow
):
    submit(customer, clerk, credit_limit=Decimal("1"))
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(approver)
    url = reverse("admin:customers_customer_workflow", args=[customer.pk, "approve"])
    assert browser.post(url, {"comment": "ok"}).status_code == 403
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("10000.00")


@pytest.mark.django_db
def test_approve_by_get_only_shows_the_page(
    client, customer, clerk, approver, approvals_on, active_workflow
):
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    client.force_login(approver)
    assert (
        client.get(
            reverse("admin:customers_customer_workflow", args=[customer.pk, "approve"])
        ).status_code
        == 200
    )
    proposal.refresh_from_db()
    assert proposal.state == "pending"


@pytest.mark.django_db
def test_pages_refuse_framing_and_carry_a_content_security_policy(client, clerk):
    client.force_login(clerk)
    response = client.get(reverse("admin:index"))
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy


@pytest.mark.django_db
def test_sessions_expire_after_an_idle_hour(settings):
    assert settings.SESSION_COOKIE_AGE == 3600
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
