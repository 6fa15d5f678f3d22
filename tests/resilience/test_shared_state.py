"""Nothing that several web processes and workers must agree on is kept in one
process's memory under the production settings: the dashboard's cache is the
database's (created by `migrate`), and so are sessions and the counts of wrong
passwords."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from custapproval.settings.base import cache_from_url
from tests.resilience.conftest import database_url
from workflow.selectors_dashboard import approvals_dashboard_recent

ROOT = Path(__file__).resolve().parents[2]
TABLE = "custapproval_cache"

PRINT_SETTINGS = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "cache": settings.CACHES["default"],
    "axes": settings.AXES_HANDLER,
    "sessions": settings.SESSION_ENGINE,
    "health_checks": db["CONN_HEALTH_CHECKS"],
    "max_age": db["CONN_MAX_AGE"],
}))
"""


def production(**extra: str) -> dict:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "custapproval.settings.production",
        "SECRET_KEY": "s" * 60,
        "ALLOWED_HOSTS": "custapproval.example.com",
        **extra,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_shares_cache_sessions_and_sign_in_counts_through_the_database():
    assert production() == {
        "cache": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": TABLE,
        },
        "axes": "axes.handlers.database.AxesDatabaseHandler",
        "sessions": "django.contrib.sessions.backends.db",
        "health_checks": True,
        "max_age": 60,
    }
    assert (
        production(CACHE_URL="db://other_cache")["cache"]["LOCATION"] == "other_cache"
    )


def test_a_cache_url_of_another_kind_is_refused_not_guessed():
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL must be"):
        cache_from_url("redis://127.0.0.1:6379/0")
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL must be"):
        cache_from_url("db://")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dashboard_counted_in_one_process_is_reused_by_another(settings):
    settings.CACHES = {"default": cache_from_url(f"db://{TABLE}")}
    settings.DASHBOARD_CACHE_SECONDS = 60
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        assert TABLE in connection.introspection.table_names(cursor)

    counted = approvals_dashboard_recent()

    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "custapproval.settings.local",
        "DATABASE_URL": database_url(),
        "CACHE_URL": f"db://{TABLE}",
        "DASHBOARD_CACHE_SECONDS": "60",
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from workflow.selectors_dashboard import approvals_dashboard_recent as d;"
            "print(d().as_of.isoformat())",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == counted.as_of.isoformat()
