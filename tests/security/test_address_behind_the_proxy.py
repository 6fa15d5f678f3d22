"""Behind docker-compose's reverse proxy every request comes from the proxy's address:
sign-in pauses by address count the address the proxy forwarded, and only from a proxy
named in TRUSTED_PROXIES; a client's own X-Forwarded-For is never believed."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from tests.security.test_lockouts import (
    ADDRESS_PAUSED_EN,
    ELSEWHERE,
    OFFICE,
    axes_on,  # noqa: F401 - the fixture
    signed_in,
)
from workflow.client_address import client_address

PROXY = "172.28.0.2"
LOGIN = "/admin/login/"


def address(remote: str, forwarded: str | None = None) -> str | None:
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **headers))


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert address(PROXY, OFFICE) == PROXY


def test_from_a_trusted_proxy_the_address_it_saw_counts(settings):
    settings.TRUSTED_PROXIES = ["172.28.0.0/30"]
    assert address(PROXY, OFFICE) == OFFICE
    # A client wrote an address of its own before the one the proxy saw.
    assert address(PROXY, f"{ELSEWHERE}, {OFFICE}") == OFFICE
    # Through two of our proxies: the first address from the right that is not ours.
    assert address(PROXY, f"{OFFICE}, 172.28.0.1") == OFFICE


def test_from_anyone_else_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert address(ELSEWHERE, OFFICE) == ELSEWHERE


def test_a_header_that_is_no_address_leaves_the_proxys(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    assert address(PROXY, "unknown") == PROXY
    assert address(PROXY, "") == PROXY


def sign_in(client, username, password, *, forwarded):
    return client.post(
        LOGIN,
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


@pytest.mark.django_db
def test_guesses_from_one_office_behind_the_proxy_do_not_pause_another(
    client,
    clerk,
    settings,
    axes_on,  # noqa: F811
):
    settings.TRUSTED_PROXIES = [PROXY]
    for number in range(8):
        sign_in(client, f"guess{number}", "wrong", forwarded=ELSEWHERE)

    refused = sign_in(client, "clerk", "pw", forwarded=ELSEWHERE)
    assert refused.status_code == 429
    assert ADDRESS_PAUSED_EN in refused.text
    assert signed_in(sign_in(client, "clerk", "pw", forwarded=OFFICE))
