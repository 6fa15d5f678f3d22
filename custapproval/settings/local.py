"""Development settings: safe defaults so that `make run` works with no configuration."""

from __future__ import annotations

import os

from .base import *  # noqa: F403
from .base import MIDDLEWARE, env_bool

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
