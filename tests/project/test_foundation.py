"""The project's promises outside any one feature: deploy checks, the generic engine, demo data."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from customers.models import Customer
from workflow import selectors

ROOT = Path(__file__).resolve().parents[2]


def test_deploy_check_is_clean_under_production_settings():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "custapproval.settings.production",
        "SECRET_KEY": "x" * 20
        + "a-long-random-test-key-for-the-deploy-check-0123456789",
        "ALLOWED_HOSTS": "custapproval.example.com",
        "SITE_URL": "https://custapproval.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 silenced" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "custapproval.settings.production",
        "SECRET_KEY": "",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_the_engine_never_imports_a_governed_app():
    offenders = []
    for path in (ROOT / "workflow").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] == "customers"
            ]
    assert offenders == []


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_sets_up_the_walk(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-pass")
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    call_command("seed_demo", stdout=open(os.devnull, "w"))

    assert Customer.objects.count() == 50
    assert selectors.enabled_fields_for(Customer) == {
        "credit_limit",
        "bank_account",
        "payment_terms",
    }
    workflow = selectors.active_workflow_for(Customer)
    steps = list(workflow.steps.select_related("assigned_group"))
    assert [s.assigned_group.name for s in steps] == ["Approvers", "Finance managers"]
    assert steps[1].condition_field == "bank_account"
    assert workflow.version == 2
    for username in ("clerk", "approver", "approver2", "manager", "admin"):
        assert authenticate(username=username, password="another-demo-pass") is not None
    for customer in Customer.objects.all():
        customer.full_clean()
