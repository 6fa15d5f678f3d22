"""LOG_FORMAT=json: one JSON object per line, one line per request and per task."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import submit
from workflow import notifications
from workflow.logs import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]


def lines(caplog, logger: str) -> list[dict]:
    formatter = JsonFormatter()
    out = []
    for record in caplog.records:
        if record.name == logger:
            text = formatter.format(record)
            assert "\n" not in text
            out.append(json.loads(text))
    return out


@pytest.mark.django_db
def test_each_request_is_one_line_with_its_status_duration_and_user(
    client, clerk, customer, caplog
):
    client.force_login(clerk)
    with caplog.at_level(logging.INFO, logger="custapproval.requests"):
        response = client.get(f"/admin/customers/customer/{customer.pk}/change/?q=x")
        client.get("/admin/no-such-page/")

    [page, missing] = lines(caplog, "custapproval.requests")
    assert page["event"] == "request"
    assert page["level"] == "INFO"
    assert (page["method"], page["path"], page["status"], page["user_id"]) == (
        "GET",
        f"/admin/customers/customer/{customer.pk}/change/",
        200,
        clerk.pk,
    )
    assert page["duration_ms"] > 0
    assert page["request_id"] == response["X-Request-ID"]
    assert page["time"].endswith("Z")
    assert missing["status"] == 404


@pytest.mark.django_db
def test_a_server_error_is_logged_as_an_error(client, clerk, monkeypatch, caplog):
    client.raise_request_exception = False
    client.force_login(clerk)
    # The language remembered after the page: a failure there is a server error.
    monkeypatch.setattr(
        "workflow.middleware.user_language_remember", lambda **kw: 1 / 0
    )
    with caplog.at_level(logging.INFO, logger="custapproval.requests"):
        assert client.get("/admin/").status_code == 500

    [line] = lines(caplog, "custapproval.requests")
    assert (line["level"], line["status"]) == ("ERROR", 500)


@pytest.mark.django_db
def test_each_task_is_one_line_with_its_outcome(
    customer, clerk, approver, approvals_on, active_workflow, caplog, settings
):
    proposal = submit(customer, clerk, credit_limit=Decimal("25000"))
    with caplog.at_level(logging.INFO, logger="custapproval.tasks"):
        notifications.send_notification.enqueue(
            event=notifications.ASSIGNED,
            proposal_id=proposal.pk,
            user_ids=[approver.pk],
        )
        settings.EMAIL_BACKEND = "tests.resilience.test_structured_logs.RefusingBackend"
        notifications.send_notification.enqueue(
            event=notifications.ASSIGNED,
            proposal_id=proposal.pk,
            user_ids=[approver.pk],
        )

    [sent, refused] = lines(caplog, "custapproval.tasks")
    assert sent["event"] == "task"
    assert sent["task"] == "workflow.notifications.send_notification"
    assert (sent["level"], sent["status"], sent["error"]) == (
        "INFO",
        "SUCCESSFUL",
        None,
    )
    assert refused["level"] == "ERROR"
    assert (refused["status"], refused["error"]) == (
        "FAILED",
        "smtplib.SMTPConnectError",
    )


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPConnectError(421, "Service not available")


def test_log_format_json_makes_every_line_json():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "custapproval.settings.local",
        "LOG_FORMAT": "json",
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "import logging; logging.getLogger('custapproval.demo').warning("
            "'mail %s refused', 'x', extra={'event': 'demo'})",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert {
        "level": "WARNING",
        "logger": "custapproval.demo",
        "message": "mail x refused",
        "event": "demo",
    }.items() <= records[-1].items()
