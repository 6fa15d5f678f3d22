"""Every refusal of the API in one shape: RFC 9457 problem details.

    {"type": "about:blank", "title": "…", "status": 422, "detail": "…",
     "errors": [{"field": "credit_limit", "value": "-5", "message": "…"}]}

Texts are in the caller's language (Accept-Language: en or nl). The refusals are the
engine's own: a service refuses, this module only says it in HTTP.
"""

from __future__ import annotations

from http import HTTPStatus

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response

from ..exceptions import (
    AlreadyDecided,
    NotSubmittable,
    PermissionRefused,
    StaleRecord,
    WorkflowError,
)
from ..importing.limits import FileRefused

PROBLEM_CONTENT_TYPE = "application/problem+json"
STALE_ETAG = gettext_lazy(
    "The record was changed since you read it (its ETag differs from If-Match): "
    "nothing was written. Read it again and send your change with the new ETag."
)
INVALID_INPUT = gettext_lazy("Some values are not valid; nothing was written.")


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = STALE_ETAG
    default_code = "stale"


class UnprocessableEntity(exceptions.APIException):
    """Values the engine refused, with the fields named; nothing was written."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = INVALID_INPUT
    default_code = "invalid"

    def __init__(self, errors: dict[str, list[str]], detail: str | None = None):
        super().__init__(detail or INVALID_INPUT)
        self.errors = errors


def _title(status_code: int) -> str:
    titles = {
        400: _("Bad request"),
        401: _("Not signed in"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Method not allowed"),
        409: _("Conflict"),
        412: _("Changed meanwhile"),
        415: _("Unsupported media type"),
        422: _("Invalid values"),
        429: _("Too many requests"),
    }
    return str(titles.get(status_code, HTTPStatus(status_code).phrase))


def _flatten(detail, prefix: str = "") -> list[tuple[str, str]]:
    """(field, message) pairs of a DRF or Django error detail, nested fields dotted."""
    if isinstance(detail, dict):
        pairs = []
        for key, value in detail.items():
            name = "" if key in (NON_FIELD_ERRORS, "non_field_errors") else str(key)
            pairs += _flatten(value, f"{prefix}.{name}" if prefix and name else name)
        return pairs
    if isinstance(detail, list):
        return [pair for item in detail for pair in _flatten(item, prefix)]
    return [(prefix, str(detail))]


def _value_of(data, field: str):
    if not field or not hasattr(data, "get"):
        return None
    value = data.get(field.split(".")[0])
    return (
        value
        if isinstance(value, (str, int, float, bool)) or value is None
        else str(value)
    )


def problem(
    status_code: int,
    detail: str,
    errors: list[dict[str, object]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, object] = {
        "type": "about:blank",
        "title": _title(status_code),
        "status": status_code,
        "detail": str(detail),
    }
    if errors:
        body["errors"] = errors
    return Response(
        body, status=status_code, content_type=PROBLEM_CONTENT_TYPE, headers=headers
    )


def _field_errors(pairs: list[tuple[str, str]], data) -> list[dict[str, object]]:
    return [
        {"field": field, "value": _value_of(data, field), "message": message}
        for field, message in pairs
    ]


def problem_exception_handler(exc, context) -> Response | None:
    """DRF's EXCEPTION_HANDLER: the engine's refusals and DRF's own, as problems."""
    request = context.get("request")
    try:
        data = request.data if request is not None else None
    except (exceptions.APIException, AttributeError):
        # The body itself could not be read (its media type, bad JSON): no values.
        data = None
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return problem(422, str(INVALID_INPUT), _field_errors(_flatten(detail), data))
    if isinstance(exc, UnprocessableEntity):
        return problem(422, str(exc.detail), _field_errors(_flatten(exc.errors), data))
    if isinstance(exc, exceptions.ValidationError):
        return problem(
            422, str(INVALID_INPUT), _field_errors(_flatten(exc.detail), data)
        )
    if isinstance(exc, StaleRecord):
        return problem(412, str(STALE_ETAG))
    if isinstance(exc, PermissionRefused):
        return problem(403, str(exc.message))
    if isinstance(exc, (AlreadyDecided, NotSubmittable, WorkflowError)):
        return problem(409, str(exc.message))
    if isinstance(exc, FileRefused):
        return problem(
            422,
            str(exc.message),
            [{"field": "file", "value": None, "message": str(exc.message)}],
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.APIException):
        headers = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(
            exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)
        ):
            headers["WWW-Authenticate"] = "Token"
            exc.status_code = status.HTTP_401_UNAUTHORIZED
        detail = exc.detail
        message = (
            detail
            if isinstance(detail, str)
            else " ".join(m for _f, m in _flatten(detail))
        )
        return problem(exc.status_code, str(message), headers=headers or None)
    return None
