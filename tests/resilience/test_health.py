"""/health/ and /health/web/: JSON for load balancers and monitoring, without sign-in,
200 when healthy and 503 when not, and nothing in it that an attacker could use."""

from __future__ import annotations

import datetime

import pytest
from django.db import OperationalError
from django.utils import timezone

from workflow import health
from workflow.services.heartbeats import process_heartbeat_record

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def beat(process: str, *, name: str | None = None, ago: int = 0, late_after: int = 30):
    at = timezone.now() - datetime.timedelta(seconds=ago)
    process_heartbeat_record(
        process=process,
        name=name or f"host-{process}:1",
        started_at=at,
        late_after=datetime.timedelta(seconds=late_after),
        now=at,
    )


@pytest.fixture
def processes(settings):
    settings.HEALTH_PROCESSES = ["worker", "escalations", "imports"]


def test_everything_running_is_healthy_without_signing_in(client, processes):
    for process in ("worker", "escalations", "imports"):
        beat(process, ago=4)

    response = client.get("/health/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"ok": True},
            "migrations": {"ok": True},
            "worker": {"ok": True, "seconds_since_heartbeat": 4},
            "escalations": {"ok": True, "seconds_since_heartbeat": 4},
            "imports": {"ok": True, "seconds_since_heartbeat": 4},
            "outbox": {"ok": True, "due": 0, "oldest_due_seconds": None},
        },
    }


def test_e_mails_that_nobody_sends_fail_the_full_check(
    client,
    processes,
    settings,
    customer,
    clerk,
    approver,
    approvals_on,
    active_workflow,
):
    """The decision wrote its e-mails to the outbox; nothing sent them for too long."""
    import time_machine

    from tests.conftest import submit

    settings.OUTBOX_BACKLOG_ALERT_SECONDS = 600
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    submit(customer, clerk, credit_limit=1)
    for process in ("worker", "escalations", "imports"):
        beat(process)
    assert client.get("/health/").json()["checks"]["outbox"]["ok"] is True

    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        for process in ("worker", "escalations", "imports"):
            beat(process)
        response = client.get("/health/")
        web = client.get("/health/web/")

    assert response.status_code == 503
    outbox = response.json()["checks"]["outbox"]
    assert (outbox["ok"], outbox["due"]) == (False, 1)
    assert outbox["oldest_due_seconds"] >= 660
    assert web.status_code == 200


def test_a_worker_that_stopped_beating_fails_the_full_check_not_the_web_one(
    client, processes
):
    beat("worker", ago=45, late_after=30)
    beat("escalations")
    beat("imports")

    full = client.get("/health/")
    web = client.get("/health/web/")

    assert full.status_code == 503
    assert full.json()["status"] == "failing"
    assert full.json()["checks"]["worker"] == {
        "ok": False,
        "seconds_since_heartbeat": 45,
    }
    # The pages still work: a load balancer keeps sending them.
    assert web.status_code == 200
    assert web.json() == {
        "status": "ok",
        "checks": {"database": {"ok": True}, "migrations": {"ok": True}},
    }


def test_one_worker_on_time_is_enough(client, processes):
    beat("worker", name="host-a:1", ago=300)
    beat("worker", name="host-b:7", ago=2)
    beat("escalations")
    beat("imports")

    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json()["checks"]["worker"] == {
        "ok": True,
        "seconds_since_heartbeat": 2,
    }


def test_a_process_never_seen_fails_the_check(client, processes):
    beat("worker")
    beat("escalations")

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["checks"]["imports"] == {
        "ok": False,
        "seconds_since_heartbeat": None,
    }


def test_an_unreachable_database_answers_503_on_both(client, processes, monkeypatch):
    class Unreachable:
        def __enter__(self):
            raise OperationalError("could not connect to server: Connection refused")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(health.connection, "cursor", lambda: Unreachable())

    for path in ("/health/", "/health/web/"):
        response = client.get(path)
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == {"ok": False}
        # No error text: it could name hosts and ports.
        assert "refused" not in response.content.decode()


def test_unapplied_migrations_answer_503(client, monkeypatch):
    monkeypatch.setattr(health, "_migrations_complete", False)
    monkeypatch.setattr(
        health.MigrationExecutor,
        "migration_plan",
        lambda self, targets: [("workflow", "9999_next")],
    )

    response = client.get("/health/web/")

    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == {"ok": False}


def test_the_answer_names_no_host_process_or_version(client, processes):
    beat("worker", name="db-secret-host.internal:4242")

    body = client.get("/health/").content.decode()

    assert "secret-host" not in body
    assert "4242" not in body
    assert "5.2" not in body


def test_it_answers_whatever_host_a_load_balancer_asks_by(client, settings):
    settings.ALLOWED_HOSTS = ["approvals.example.com"]

    assert client.get("/health/web/", HTTP_HOST="10.0.0.7:8000").status_code == 200
    # Every other page still checks the host.
    assert client.get("/admin/login/", HTTP_HOST="10.0.0.7:8000").status_code == 400


def test_only_get_and_head_are_answered(client):
    assert client.head("/health/web/").status_code == 200
    assert client.post("/health/web/").status_code == 404


def test_the_container_check_asks_for_this_hosts_process(processes):
    import socket
    from io import StringIO

    from django.core.management import CommandError, call_command

    beat("worker", name="another-container:1")
    with pytest.raises(CommandError, match="No worker on this host has beaten in time"):
        call_command("health", here="worker")

    beat("worker", name=f"{socket.gethostname()}:42")
    out = StringIO()
    call_command("health", here="worker", stdout=out)
    assert out.getvalue() == "worker: ok\n"


def test_the_command_prints_the_full_checks_and_fails_when_one_does(processes):
    import json
    from io import StringIO

    from django.core.management import CommandError, call_command

    beat("worker")
    out = StringIO()
    with pytest.raises(CommandError, match="Unhealthy"):
        call_command("health", stdout=out)
    assert json.loads(out.getvalue())["checks"]["escalations"] == {
        "ok": False,
        "seconds_since_heartbeat": None,
    }
