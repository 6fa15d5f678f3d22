"""The health endpoint, for load balancers, container health checks and monitoring.

`/health/`      everything the application needs: the database answers, every migration
                is applied, and each background process of HEALTH_PROCESSES (task
                worker, escalation loop, upkeep of import jobs) beat in time.
`/health/web/`  only what this web process needs to serve pages (database, migrations):
                for the load balancer, so that a stopped worker does not take the pages
                away too.

JSON, 200 when every check passes and 503 otherwise; no sign-in, and nothing in it
that helps an attacker (no host names, versions or error texts). It costs a `SELECT 1`,
one query on the heartbeats, and a look at the migrations until they are all applied.
`/health/` also fails when an e-mail due in the outbox has waited longer than
OUTBOX_BACKLOG_ALERT_SECONDS: nothing sends them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from . import selectors_health, selectors_outbox

FULL = "/health/"
WEB = "/health/web/"

# Applied migrations stay applied while this process runs the same code: once seen
# complete, the migration graph is not read again.
_migrations_complete = False


def database_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def migrations_applied() -> bool:
    global _migrations_complete
    if not _migrations_complete:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        _migrations_complete = not plan
    return _migrations_complete


def health_report(*, processes: list[str]) -> tuple[bool, dict]:
    """Whether everything in scope is healthy, and the checks for the JSON answer; the
    outbox is in scope with the background processes."""
    checks: dict[str, dict] = {"database": {"ok": database_reachable()}}
    if not checks["database"]["ok"]:
        checks["migrations"] = {"ok": False}
        checks.update({process: {"ok": False} for process in processes})
        return False, checks
    try:
        checks["migrations"] = {"ok": migrations_applied()}
        now = timezone.now()
        for process, health in selectors_health.processes_health(
            processes=processes, now=now
        ).items():
            checks[process] = {
                "ok": health.ok,
                "seconds_since_heartbeat": (
                    None
                    if health.last_beat_at is None
                    else max(0, int((now - health.last_beat_at).total_seconds()))
                ),
            }
        if processes:
            backlog = selectors_outbox.outbox_backlog(now=now)
            waited = (
                None
                if backlog.oldest_age is None
                else int(backlog.oldest_age.total_seconds())
            )
            checks["outbox"] = {
                "ok": waited is None or waited <= settings.OUTBOX_BACKLOG_ALERT_SECONDS,
                "due": backlog.due,
                "oldest_due_seconds": waited,
            }
    except DatabaseError:
        # The database went away between the checks.
        checks.setdefault("migrations", {"ok": False})
        checks.update({p: {"ok": False} for p in processes if p not in checks})
        return False, checks
    return all(check["ok"] for check in checks.values()), checks


class HealthMiddleware:
    """Answers GET and HEAD of /health/ and /health/web/ before any other middleware:
    no host check (a load balancer asks by address), no https redirect, session or
    sign-in. Every other request passes on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path not in (FULL, WEB) or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        processes = list(settings.HEALTH_PROCESSES) if request.path == FULL else []
        ok, checks = health_report(processes=processes)
        response = JsonResponse(
            {"status": "ok" if ok else "failing", "checks": checks},
            status=200 if ok else 503,
        )
        response["Cache-Control"] = "no-store"
        return response
