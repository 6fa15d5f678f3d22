from __future__ import annotations

import itertools

import pytest
from rest_framework.test import APIClient

from tests.reports.conftest import auditor  # noqa: F401 - the auditors' fixture
from workflow.services.tokens import api_token_create

_numbers = itertools.count(1)


def token_client(user, name: str | None = None, language: str = "en") -> APIClient:
    """An API client that calls as `user` with an API token of its own."""
    _token, key = api_token_create(
        user=user, name=name or f"{user.username}-system-{next(_numbers)}", actor=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT_LANGUAGE=language)
    return client


@pytest.fixture
def api_as():
    return token_client
