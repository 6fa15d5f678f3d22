"""Structured logs: with LOG_FORMAT=json every line is one JSON object, with one line
per request (`RequestLogMiddleware`) and one per background task (`log_task_finished`).

Loaded by the logging configuration before the apps are ready, so nothing here imports
a model at module level.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

REQUESTS = logging.getLogger("custapproval.requests")
TASKS = logging.getLogger("custapproval.tasks")

# What every LogRecord carries; anything else on a record came in through `extra=`.
_RECORD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, the fields given
    through `extra=`, and the traceback of an exception as text."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


class RequestLogMiddleware:
    """Logs every request once, after its response (a 500 too): method, path without
    the query string (it may hold search terms), status, duration, the user's id and a
    request id, which the response carries as X-Request-ID. The health endpoint is
    logged only when it is unhealthy: load balancers ask every few seconds."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = _request_id(request)
        response = self.get_response(request)
        if request.path.startswith("/health/") and response.status_code == 200:
            return response
        user = getattr(request, "user", None)
        status = response.status_code
        REQUESTS.log(
            logging.ERROR if status >= 500 else logging.INFO,
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "event": "request",
                "request_id": request_id,
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": user.pk
                if user is not None and user.is_authenticated
                else None,
            },
        )
        response["X-Request-ID"] = request_id
        return response


def _request_id(request: HttpRequest) -> str:
    """The proxy's request id when it sends a plausible one, else a new one."""
    given = request.headers.get("X-Request-ID", "")
    if given and len(given) <= 64 and given.replace("-", "").isalnum():
        return given
    return uuid.uuid4().hex


def log_task_finished(sender: object, task_result: Any, **kwargs: object) -> None:
    """One line per finished background task (django-tasks' `task_finished`): its
    function, id, status, how long it ran and, when it failed, the exception's class."""
    started, finished = task_result.started_at, task_result.finished_at
    failed = str(task_result.status) == "FAILED"
    errors = task_result.errors if failed else []
    TASKS.log(
        logging.ERROR if failed else logging.INFO,
        "task %s %s",
        task_result.task.module_path,
        task_result.status,
        extra={
            "event": "task",
            "task": task_result.task.module_path,
            "task_id": str(task_result.id),
            "status": str(task_result.status),
            "duration_ms": (
                round((finished - started).total_seconds() * 1000, 1)
                if started and finished
                else None
            ),
            "error": errors[-1].exception_class_path if errors else None,
            "worker": task_result.worker_ids[-1] if task_result.worker_ids else None,
        },
    )
