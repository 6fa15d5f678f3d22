"""Fixtures of the audit reports: an auditor, a two-step workflow, and readers of the
exported files."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from customers.management.commands.seed_demo import (
    APPROVERS,
    AUDITORS,
    FINANCE_MANAGERS,
)
from tests.conftest import _group, make_workflow, member

REPORTS = {
    "changes": "admin:workflow_auditreport_changes",
    "reconciliation": "admin:workflow_auditreport_reconciliation",
    "duties": "admin:workflow_auditreport_duties",
    "access": "admin:workflow_auditreport_access",
    "bank": "admin:workflow_auditreport_bank",
}


@pytest.fixture
def auditor(roles):
    return member("auditor", _group(AUDITORS))


@pytest.fixture
def manager(roles):
    return member("manager", roles[FINANCE_MANAGERS])


@pytest.fixture
def as_auditor(client, auditor):
    client.force_login(auditor)
    return client


@pytest.fixture
def two_steps(roles, approval_admin):
    """Approvers decide step 1, finance managers step 2."""
    return make_workflow(
        approval_admin,
        {"assigned_group": roles[APPROVERS]},
        {"assigned_group": roles[FINANCE_MANAGERS]},
    )


def report_url(name: str, **query) -> str:
    url = reverse(REPORTS[name])
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(query)
    return url


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def read_csv(response) -> list[dict[str, str]]:
    """The rows of an exported CSV, by column name."""
    assert response["Content-Type"].startswith("text/csv")
    text = body(response).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def read_xlsx(response) -> list[dict[str, object]]:
    """The rows of an exported workbook's sheet, by column name."""
    assert "spreadsheetml" in response["Content-Type"]
    sheet = load_workbook(io.BytesIO(body(response)), read_only=True).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = rows[0]
    return [
        {h: ("" if v is None else v) for h, v in zip(header, row, strict=False)}
        for row in rows[1:]
    ]


def exported(client, name: str, fmt: str, **query) -> list[dict[str, object]]:
    response = client.get(report_url(name, export=fmt, **query))
    assert response.status_code == 200
    return read_csv(response) if fmt == "csv" else read_xlsx(response)
