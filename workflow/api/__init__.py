"""The engine's part of the REST API, and what a governed app builds its endpoints on."""

from __future__ import annotations

from .base import ApiViewMixin, etag_of, expected_version
from .problems import UnprocessableEntity
from .serializers import ProposalSerializer

__all__ = [
    "ApiViewMixin",
    "ProposalSerializer",
    "UnprocessableEntity",
    "etag_of",
    "expected_version",
]
