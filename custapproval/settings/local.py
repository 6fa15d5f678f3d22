"""Development settings: safe defaults so that `make run` works with no configuration."""

from __future__ import annotations

import os

from .base import *  # noqa: F403
from .base import MIDDLEWARE, SITE_URL, env_bool

DEBUG = env_bool("DEBUG", True)
# Development only; production.py refuses to start without a real SECRET_KEY.
SECRET_KEY = (
    os.environ.get("SECRET_KEY") or "django-insecure-development-only-key-change-me"
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# runserver serves static files itself while DEBUG is on; WhiteNoise is for production.
MIDDLEWARE = [
    m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"
]


def served_url(host: str, port: str) -> str:
    """The address `make run` serves at (its HOST and PORT), as a browser opens it."""
    if host in ("", "0.0.0.0", "::"):
        # Listening on every address: mail one that reaches it from this machine.
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


# `make run PORT=8231` prints and mails links to port 8231 unless SITE_URL says otherwise.
SITE_URL = SITE_URL or served_url(
    os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
)
