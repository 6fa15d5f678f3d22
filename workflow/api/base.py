"""What every view of the API shares: its audit origin, and the record's version."""

from __future__ import annotations

import hashlib

from django.db import models
from rest_framework import exceptions

from .. import registry
from ..audit import audit_api_token
from ..models import ApiToken


class ApiViewMixin:
    """Writes made by a request with an API token name the token in the audit trail."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._audit_origin = None
        if isinstance(request.auth, ApiToken):
            self._audit_origin = audit_api_token(request.auth.name)
            self._audit_origin.__enter__()

    def finalize_response(self, request, response, *args, **kwargs):
        origin = getattr(self, "_audit_origin", None)
        if origin is not None:
            origin.__exit__(None, None, None)
            self._audit_origin = None
        return super().finalize_response(  # type: ignore[misc]
            request, response, *args, **kwargs
        )


def etag_of(instance: models.Model) -> str:
    """A strong ETag of the record's version (changes with every write of it)."""
    version = registry.record_version(instance)
    digest = hashlib.sha256(f"{instance.pk}:{version}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def expected_version(request, instance: models.Model) -> str | None:
    """The version the caller's If-Match names: None when it sent none. An If-Match
    that is not the record's ETag now is refused at once with 412 (the service
    checks once more under its lock, so a write in between is refused as well)."""
    from .problems import PreconditionFailed

    header = request.headers.get("If-Match")
    if not header:
        return None
    tags = [t.strip() for t in header.split(",")]
    if "*" in tags:
        return None
    if etag_of(instance) not in tags and f"W/{etag_of(instance)}" not in tags:
        raise PreconditionFailed()
    return registry.record_version(instance)


def not_found() -> exceptions.NotFound:
    return exceptions.NotFound()
