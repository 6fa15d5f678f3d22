"""Web requests after the database dropped the application's connections succeed.

The requests go through Django's WSGI handler in this thread, as a gunicorn worker
serves them one after another on the connection it keeps (CONN_MAX_AGE). Django's test
client would not do: it switches off the closing and checking of connections around
its requests, and the live server closes every connection after each request, so
neither meets a connection the database dropped.
"""

from __future__ import annotations

from io import BytesIO
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection

from tests.resilience.conftest import terminate

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

REQUESTS_AFTER = 32


def serve(handler: WSGIHandler, path: str, session: str) -> int:
    """One GET as gunicorn hands it over; the status code."""
    environ = {
        "PATH_INFO": path,
        "REQUEST_METHOD": "GET",
        "HTTP_HOST": "testserver",
        "HTTP_COOKIE": f"{settings.SESSION_COOKIE_NAME}={session}",
        "wsgi.input": BytesIO(),
    }
    setup_testing_defaults(environ)
    status: list[str] = []
    response = handler(
        environ, lambda code, headers, exc_info=None: status.append(code)
    )
    try:
        b"".join(response)
    finally:
        # The server closes the response: request_finished, as in production.
        response.close()
    return int(status[0].split()[0])


def backend_pid() -> int:
    return connection.connection.info.backend_pid


def test_requests_after_the_database_dropped_the_connection_all_succeed(
    client, clerk, customer, admin_connection
):
    # The settings every process runs with (production imports them from base).
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True
    client.force_login(clerk)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    handler = WSGIHandler()
    page = f"/admin/customers/customer/{customer.pk}/change/"

    assert serve(handler, page, session) == 200
    # The connection outlived the request, as it does in a gunicorn worker.
    assert connection.connection is not None
    kept = backend_pid()

    # A database restart, or an administrator, drops every connection of the app.
    terminate(admin_connection, pids=[kept])

    statuses = [serve(handler, page, session) for _ in range(REQUESTS_AFTER)]
    assert statuses == [200] * REQUESTS_AFTER
    assert backend_pid() != kept
