"""Settings for the test suite: fast hashing, in-memory mail, tasks run inline."""

from __future__ import annotations

from .local import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
LANGUAGE_CODE = "en"
# Tests run inside one transaction per test; a second connection would not see its rows.
DATABASES.pop("progress", None)  # noqa: F405
# Most tests log in with force_login; the lockout tests switch axes on themselves.
AXES_ENABLED = False
# Tests read the dashboard as the data stands; its cache has a test of its own.
DASHBOARD_CACHE_SECONDS = 0
