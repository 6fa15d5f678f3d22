"""Links in e-mails and the printed login address use the address the site is served
at: `make run PORT=8231` prints and mails links to port 8231; production takes
SITE_URL and `check --deploy` asks for it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.conftest import submit

ROOT = Path(__file__).resolve().parents[2]


def settings_value(name: str, module: str, **environ: str) -> str:
    """`name` of the settings `module` as they load in a fresh process with `environ`."""
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("SITE_URL", "HOST", "PORT", "DJANGO_ALLOW_ASYNC_UNSAFE")
        },
        "DJANGO_SETTINGS_MODULE": module,
        **environ,
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            f"print('VALUE=' + str(settings.{name}))",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("VALUE=")]
    return line.removeprefix("VALUE=")


@pytest.mark.parametrize(
    ("environ", "site_url"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"PORT": "8231"}, "http://127.0.0.1:8231"),
        ({"HOST": "localhost", "PORT": "8231"}, "http://localhost:8231"),
        # Listening everywhere: the links go to this machine.
        ({"HOST": "0.0.0.0", "PORT": "8231"}, "http://127.0.0.1:8231"),
        ({"HOST": "::1", "PORT": "8231"}, "http://[::1]:8231"),
        (
            {"PORT": "8231", "SITE_URL": "https://approvals.example.com/"},
            "https://approvals.example.com",
        ),
    ],
)
def test_local_settings_link_to_the_address_make_run_serves(environ, site_url):
    assert settings_value("SITE_URL", "custapproval.settings.local", **environ) == (
        site_url
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize(
    ("arguments", "served"), [([], "127.0.0.1:8000"), (["PORT=8231"], "127.0.0.1:8231")]
)
def test_make_hands_host_and_port_to_the_commands_it_runs(arguments, served):
    env = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT")}
    result = subprocess.run(
        [
            "make",
            "--silent",
            "--eval=show-address: ; @echo $$HOST:$$PORT",
            "show-address",
            *arguments,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == served


@pytest.mark.django_db
def test_the_demo_prints_the_login_address_of_the_site(settings):
    settings.SITE_URL = "http://127.0.0.1:8231"
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Log in at http://127.0.0.1:8231/admin/ as:" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_e_mails_link_to_the_site(
    settings, customer, clerk, approver, approvals_on, active_workflow, mailoutbox
):
    settings.SITE_URL = "http://127.0.0.1:8231"
    submit(customer, clerk, credit_limit=Decimal("12345"))

    (mail,) = [m for m in mailoutbox if m.to == [approver.email]]
    assert (
        f"http://127.0.0.1:8231/admin/customers/customer/{customer.pk}/proposed-changes/"
        in mail.body
    )


def test_the_deploy_check_asks_for_site_url_in_production():
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("SITE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
        },
        "DJANGO_SETTINGS_MODULE": "custapproval.settings.production",
        "SECRET_KEY": "x" * 20
        + "a-long-random-test-key-for-the-deploy-check-0123456789",
        "ALLOWED_HOSTS": "custapproval.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "(workflow.W001) Set SITE_URL" in result.stderr + result.stdout
    assert (
        settings_value(
            "SITE_URL", "custapproval.settings.production", SECRET_KEY=env["SECRET_KEY"]
        )
        == ""
    )
