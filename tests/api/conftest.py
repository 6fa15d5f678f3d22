from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from workflow.services.tokens import api_token_create


def token_client(user, name: str | None = None, language: str = "en") -> APIClient:
    """An API client that calls as `user` with an API token of its own."""
    _token, key = api_token_create(
        user=user, name=name or f"{user.username}-system", actor=None
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}", HTTP_ACCEPT_LANGUAGE=language)
    return client


@pytest.fixture
def api_as():
    return token_client
