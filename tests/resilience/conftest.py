from __future__ import annotations

import time
from urllib.parse import quote

import psycopg2
import pytest
from django.db import connection


def database_url(application_name: str = "") -> str:
    """The test database as a DATABASE_URL for a process of its own."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    url = (
        f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )
    return f"{url}?application_name={application_name}" if application_name else url


def other_connection():
    """A plain connection beside Django's, as a database administrator's would be."""
    db = connection.settings_dict
    raw = psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )
    raw.autocommit = True
    return raw


@pytest.fixture
def admin_connection():
    raw = other_connection()
    yield raw
    raw.close()


def terminate(raw, *, pids=None, application_name=None, waiting_on_lock=False) -> int:
    """pg_terminate_backend of the given backends, or of every backend of
    `application_name` (only those waiting for a lock, if asked); waits until they
    are gone and returns how many were."""
    with raw.cursor() as cursor:
        if pids is None:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
                + (" AND wait_event_type = 'Lock'" if waiting_on_lock else ""),
                [application_name],
            )
            pids = [row[0] for row in cursor.fetchall()]
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)",
                [list(pids)],
            )
            if cursor.fetchone()[0] == 0:
                return len(pids)
            time.sleep(0.05)
    raise AssertionError(f"backends {pids} still there 10 s after their termination")


def wait_for(condition, seconds: float, what: str, process=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process ended before {what}:\n{process.log.read_text()}")
        time.sleep(0.05)
    pytest.fail(f"no {what} within {seconds} s")
