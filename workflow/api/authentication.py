"""Who calls the API: a system with its token, or a person with their session."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.authentication import SessionScheme as _SessionScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from ..models import ApiToken
from ..services.tokens import api_key_digest, api_token_used

TOKEN_INVALID = _("The API token is not valid, or it was revoked.")
USER_INACTIVE = _("The user of this API token is inactive.")


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` (or `Bearer <key>`): the request acts as the
    token's user, and `request.auth` is the token (its name goes into the audit)."""

    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(TOKEN_INVALID)
        try:
            key = header[1].decode()
        except UnicodeError as error:
            raise exceptions.AuthenticationFailed(TOKEN_INVALID) from error
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_digest=api_key_digest(key), revoked_at__isnull=True)
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed(TOKEN_INVALID)
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(USER_INACTIVE)
        api_token_used(token=token)
        # Seen by the middleware: a token's request keeps no session.
        request._request.api_token = token
        return token.user, token

    def authenticate_header(self, request) -> str:
        return "Token"


class SessionAuthentication(authentication.SessionAuthentication):
    """A person signed in to the pages; writes need the CSRF token as on the pages."""


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the schema documents the token: `Authorization: Token <key>`."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _(
                "An API token made by an administrator, as `Token <key>`."
            ),
        }


class SessionScheme(_SessionScheme):
    target_class = SessionAuthentication
