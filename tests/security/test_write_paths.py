"""No path writes a governed record around the services: scanned in the code, checked in the admin."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.contrib import admin

from customers.models import Customer

ROOT = Path(__file__).resolve().parents[2]
APPS = ["customers", "workflow", "custapproval"]
# The only modules allowed to write records in bulk or by queryset: the services, the
# audit writer, the outbox's writer (its own rows only), and the statement builders only
# the services call.
ALLOWED = {
    ROOT / "workflow" / "services",
    ROOT / "workflow" / "audit.py",
    ROOT / "workflow" / "outbox.py",
    ROOT / "workflow" / "bulk_sql.py",
}
BULK_WRITES = {
    "update",
    "bulk_update",
    "bulk_create",
    "delete",
    "update_or_create",
    "get_or_create",
    "create",
}


def _chain_mentions_manager(node: ast.AST) -> bool:
    text = ast.unparse(node)
    return ".objects" in text or "_default_manager" in text or "queryset" in text


def _write_calls():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or any(
                path == a or a in path.parents for a in ALLOWED
            ):
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in BULK_WRITES
                    and _chain_mentions_manager(node.func.value)
                ):
                    yield f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:80]}"


def test_querysets_write_only_inside_the_services():
    allowed_outside = {
        # Demo data: reference tables, roles and users, none of them governed.
        "customers/management/commands/seed_demo.py",
    }
    found = [w for w in _write_calls() if w.split(":")[0] not in allowed_outside]
    assert found == []


def test_the_scan_finds_a_queryset_update(tmp_path, monkeypatch):
    module = ROOT / "customers" / "_scan_probe.py"
    module.write_text(
        "from customers.models import Customer\nCustomer.objects.filter(pk=1).update(credit_limit=0)\n"
    )
    try:
        assert any("_scan_probe.py" in w for w in _write_calls())
    finally:
        module.unlink()


@pytest.mark.django_db
def test_the_customer_admin_offers_no_bulk_write(rf, clerk):
    customer_admin = admin.site._registry[Customer]
    request = rf.get("/")
    request.user = clerk
    assert customer_admin.list_editable == ()
    assert "delete_selected" not in customer_admin.get_actions(request)
    assert set(customer_admin.get_actions(request)) <= {"export_admin_action"}


def test_the_bulk_statement_builders_are_called_only_by_the_services():
    """workflow/bulk_sql.py writes rows without any rule: only the services (and the
    audit writer) may reach it, so the checks before a write cannot be skipped."""
    callers = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "bulk_sql" in path.read_text() and path.name != "bulk_sql.py":
                callers.add(path.relative_to(ROOT).as_posix())
    assert callers
    assert all(
        c.startswith("workflow/services/") or c == "workflow/audit.py" for c in callers
    ), callers
