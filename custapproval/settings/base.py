"""Settings shared by every environment; values come from environment variables."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [
        item.strip()
        for item in os.environ.get(name, default).split(",")
        if item.strip()
    ]


SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "django_fsm",
    "import_export",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "workflow",
    "customers",
]

MIDDLEWARE = [
    # First: it times and logs every request, 500s included.
    "workflow.logs.RequestLogMiddleware",
    # Before the host check and the https redirect: a load balancer asks by address.
    "workflow.health.HealthMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "workflow.middleware.RememberLanguageMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one user name pause sign-in with that name for 15 minutes,
# from every address; an address is paused only at 50 wrong passwords from it within
# those minutes, whatever the user names, so that strangers typing made-up names cannot
# lock out an office behind one address (workflow.sign_in). While paused, attempts are
# refused uncounted, so a pause ends 15 minutes after the wrong password that began it.
# The address is REMOTE_ADDR (django-ipware is not installed), so a forged
# X-Forwarded-For neither resets a count nor escapes one; only behind a proxy named in
# TRUSTED_PROXIES (docker-compose's) is it the address that proxy saw and forwarded.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_ADDRESS_FAILURE_LIMIT = int(os.environ.get("AXES_ADDRESS_FAILURE_LIMIT", "50"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = "workflow.sign_in.lockout_parameters"
# The counts are rows in the database (django-axes' default handler, named here so that
# nobody swaps in its cache handler): every web process counts the same wrong passwords.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
AXES_CLIENT_IP_CALLABLE = "workflow.client_address.client_address"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A successful sign-in forgets that user name's wrong passwords (no other name's).
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "workflow.sign_in.sign_in_paused_response"
# django-axes' own admin pages show the raw attempts (form data included) to anyone
# with its view permission; administrators use "Paused sign-ins" instead.
AXES_ENABLE_ADMIN = False

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# The REST API (/api/v1/, documented at /api/docs/): systems sign in with an API token
# made by an administrator, people with their session; every refusal is a problem
# details document (RFC 9457) in the caller's language.
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "600/minute")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workflow.api.authentication.ApiTokenAuthentication",
        "workflow.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["workflow.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api": API_THROTTLE_RATE},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "workflow.api.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "workflow.api.schema.ProblemAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "custapproval API",
    "DESCRIPTION": (
        "Customer master data under approval. Writes follow the approval parameters' "
        "data entity behaviour; refusals are RFC 9457 problem details."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}
ROOT_URLCONF = "custapproval.urls"
WSGI_APPLICATION = "custapproval.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Connections are kept for DB_CONN_MAX_AGE seconds and checked before a request (or a
# worker's next task, an escalation pass) uses one again: after a database restart or a
# dropped connection the next query opens a new one instead of failing (issue 16).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A database that does not answer is reported in seconds, not after the operating
    # system's TCP time-out of minutes (the health endpoint, a worker's back-off).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(os.environ.get("DB_CONNECT_TIMEOUT", "5"))
    )
    # A second connection to the same database, so that the progress of a long import
    # is visible to the progress page while the import's own transaction is still open.
    DATABASES["progress"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The home page's approvals dashboard reads tallies the services keep, at the same cost
# whatever the history: it is counted on every visit unless this asks to reuse it (in
# the cache below, which production shares between its processes) for some seconds.
DASHBOARD_CACHE_SECONDS = int(os.environ.get("DASHBOARD_CACHE_SECONDS", "0"))
# Up to how many governed records the reconciliation page compares every value with
# the audit trail on each visit (about 4 seconds per 100,000); beyond, when asked.
REPORTS_VALUE_CHECK_RECORDS = int(
    os.environ.get("REPORTS_VALUE_CHECK_RECORDS", "50000")
)
# The most rows one download of the change log holds (about 10,000 are written a
# second): a longer one would outlast a web worker's timeout.
REPORTS_EXPORT_MAX_ROWS = int(os.environ.get("REPORTS_EXPORT_MAX_ROWS", "200000"))


def cache_from_url(url: str) -> dict[str, str]:
    """The default cache from CACHE_URL: `locmem://` (one process's memory: development)
    or `db://TABLE` (the database's table TABLE, shared by every web process and worker;
    `migrate` creates it). Anything else is refused rather than guessed."""
    scheme, _sep, rest = url.partition("://")
    if scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if scheme == "db" and rest.strip("/"):
        return {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": rest.strip("/"),
        }
    raise ImproperlyConfigured(
        f"CACHE_URL must be locmem:// or db://TABLE_NAME, not {url!r}."
    )


CACHES = {"default": cache_from_url(os.environ.get("CACHE_URL", "locmem://"))}

# The language of browsers asking for none we have, of background work (escalations,
# imports run by the worker) and of e-mails to users who never logged in.
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en")
# Picked from the browser (Accept-Language) until the user switches in the header.
LANGUAGES = [("en", _("English")), ("nl", _("Dutch"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"

# Imports: the largest file accepted, and from how many bytes of work on (a CSV's size,
# what a workbook's sheet unpacks to) it is checked and imported in the background.
# 1 GB: a CSV of IMPORT_MAX_ROWS rows of customers (about 160 bytes a row) fits with room
# to spare, as IMPORT_MAX_UNPACKED_BYTES lets a workbook's sheet unpack to 2 GB. An
# upload never sits in memory: past FILE_UPLOAD_MAX_MEMORY_SIZE Django streams it to a
# temporary file (FILE_UPLOAD_TEMP_DIR), which is moved, not read, into MEDIA_ROOT.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(1_000_000_000)))
# A file of more rows than this (estimated from its first part) is previewed by its
# first IMPORT_FULL_PREVIEW_ROWS rows only; the import then checks every row, and
# writes nothing if any has an error. Smaller files are previewed whole.
IMPORT_FULL_PREVIEW_ROWS = int(os.environ.get("IMPORT_FULL_PREVIEW_ROWS", "100000"))
# On PostgreSQL an import's bulk writes run in a second thread on its connection while
# it plans the next batch (workflow/write_behind.py); false runs them in turn.
IMPORT_WRITE_BEHIND = env_bool("IMPORT_WRITE_BEHIND", True)
# A file of at least this many bytes is read, parsed and its values checked in a second
# process while the import plans and writes (workflow/importing/read_ahead.py).
IMPORT_READ_AHEAD = env_bool("IMPORT_READ_AHEAD", True)
IMPORT_READ_AHEAD_MIN_BYTES = int(
    os.environ.get("IMPORT_READ_AHEAD_MIN_BYTES", "262144")
)
IMPORT_BACKGROUND_BYTES = int(os.environ.get("IMPORT_BACKGROUND_BYTES", "1000000"))
# What one file may hold, so that no upload costs unbounded time or memory; every
# refusal names its setting. Excel's own limits: 1,048,576 rows, 32,767 characters a cell.
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "1048576"))
IMPORT_MAX_COLUMNS = int(os.environ.get("IMPORT_MAX_COLUMNS", "1000"))
IMPORT_MAX_CELL_CHARS = int(os.environ.get("IMPORT_MAX_CELL_CHARS", "32767"))
IMPORT_MAX_ROW_CHARS = int(os.environ.get("IMPORT_MAX_ROW_CHARS", "100000"))
IMPORT_MAX_SHARED_STRINGS = int(os.environ.get("IMPORT_MAX_SHARED_STRINGS", "5000000"))
IMPORT_MAX_UNPACKED_BYTES = int(
    os.environ.get("IMPORT_MAX_UNPACKED_BYTES", str(2_000_000_000))
)
IMPORT_MAX_ZIP_RATIO = int(os.environ.get("IMPORT_MAX_ZIP_RATIO", "200"))
# The request's other fields (a file's bytes never count here: Django streams them).
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Uploads up to 2.5 MB are held in memory, larger ones streamed to a temporary file in
# FILE_UPLOAD_TEMP_DIR (the system's temporary directory unless set): Django's default
# upload handlers, said here because the Import page depends on them.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or None
# A check or import renews its job's lease while it works (every quarter of the lease);
# a job with no sign of life for IMPORT_LEASE_SECONDS lost its worker. A check then
# starts again and an import is offered for confirming again (it wrote nothing), until a
# job has stopped IMPORT_MAX_INTERRUPTIONS times: then it fails for good.
IMPORT_LEASE_SECONDS = int(os.environ.get("IMPORT_LEASE_SECONDS", "120"))
IMPORT_MAX_INTERRUPTIONS = int(os.environ.get("IMPORT_MAX_INTERRUPTIONS", "3"))
# Days a preview can be confirmed (then the job ends unimported), and days an uploaded
# file is kept after its job ended (0: removed at the next `process_import_jobs`).
IMPORT_CONFIRM_DAYS = int(os.environ.get("IMPORT_CONFIRM_DAYS", "7"))
IMPORT_FILE_RETENTION_DAYS = int(os.environ.get("IMPORT_FILE_RETENTION_DAYS", "7"))

# The audit trail's hash chain (workflow/audit_chain.py). With a key, digests and links
# are HMAC-SHA-256: someone who can edit the database but does not hold the key cannot
# seal an edit over. Without one they are plain SHA-256. Keep the key outside the
# database; a seal made with an earlier key verifies while that key is listed in
# AUDIT_CHAIN_OLD_KEYS (comma-separated).
AUDIT_CHAIN_KEY = os.environ.get("AUDIT_CHAIN_KEY", "")
AUDIT_CHAIN_OLD_KEYS = env_list("AUDIT_CHAIN_OLD_KEYS", "")
# How long sealing waits for transactions open when it started (their audit rows may
# still commit below rows already visible) before sealing only up to the first gap.
AUDIT_SEAL_WAIT_SECONDS = float(os.environ.get("AUDIT_SEAL_WAIT_SECONDS", "10"))

# Exports need the model's "export" permission (customers.export_customer, ...).
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
# Control characters that XLSX cannot hold are dropped from exports instead of failing them.
IMPORT_EXPORT_ESCAPE_ILLEGAL_CHARS_ON_EXPORT = True

LOGIN_URL = "admin:login"

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "custapproval@localhost")
# The SMTP server of django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# A mail server that stops answering fails the sending task after this many seconds
# instead of holding a worker for ever.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
# E-mails go through an outbox (workflow.outbox): a failed try is tried again after
# OUTBOX_BACKOFF_SECONDS, twice as long after each further failure, and the e-mail is
# failed (shown on Outgoing e-mails, to send again) after OUTBOX_MAX_ATTEMPTS tries:
# with the defaults, tries over about half an hour.
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "6"))
OUTBOX_BACKOFF_SECONDS = int(os.environ.get("OUTBOX_BACKOFF_SECONDS", "60"))

# Background work: inline by default; the database backend with its worker
# (`manage.py db_worker`) where TASKS_BACKEND=database (docker-compose, production).
_TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "immediate")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND]}}

# The background processes whose heartbeat /health/ requires (manage.py task_worker,
# process_escalations --every, process_import_jobs --every, process_outbox --every,
# seal_audit --every); each beats at least every HEARTBEAT_SECONDS while it runs.
HEALTH_PROCESSES = env_list(
    "HEALTH_PROCESSES",
    "worker,escalations,imports,outbox,audit-chain"
    if TASKS_BACKEND == "database"
    else "",
)
# /health/ fails when an e-mail due has waited longer than this: nothing sends them.
OUTBOX_BACKLOG_ALERT_SECONDS = int(
    os.environ.get("OUTBOX_BACKLOG_ALERT_SECONDS", "600")
)
HEARTBEAT_SECONDS = int(os.environ.get("HEARTBEAT_SECONDS", "10"))

# Sessions end after an hour without a request (each request renews the hour).
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(60 * 60)))
SESSION_SAVE_EVERY_REQUEST = True
X_FRAME_OPTIONS = "DENY"

# LOG_FORMAT=json: every log line is one JSON object, among them one per request
# (workflow.logs.RequestLogMiddleware) and one per background task.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "text": {"format": "%(levelname)s %(name)s: %(message)s"},
        "json": {"()": "workflow.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
# The address people open the site at; the links in e-mails are built from it. Local
# settings derive it from HOST and PORT when it is not set; production needs it.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")

# Bank-detail warnings: a bank account changed within this many days before a new
# proposal to change it is "changed recently" (twice or more: "several times").
BANK_CHANGE_WINDOW_DAYS = int(os.environ.get("BANK_CHANGE_WINDOW_DAYS", "90"))
