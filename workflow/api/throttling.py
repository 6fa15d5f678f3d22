"""Requests per token (a system) or per user (a person), counted in the shared cache."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from ..models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """Each token has its own budget (`API_THROTTLE_RATE`), so one busy system does not
    slow another; a person's session counts per user, anonymous calls per address."""

    scope = "api"

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
