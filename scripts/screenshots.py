"""make screenshots: the main pages, in English and in Dutch, into docs/screenshots/.

    make screenshots

Builds a scratch SQLite database with the demo data plus a month of history made through
the services (at past times, with time-machine), serves it with runserver on a free port,
and photographs each page as the role that uses it in Debian's Chromium, once per
language (the browser asks for it with Accept-Language, as a real one would).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "screenshots"
LANGUAGES = ("en", "nl")
PASSWORD = "screenshots-2026"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_database(environment: dict[str, str]) -> None:
    """Demo data and a month of decisions, each made at its own time."""
    os.environ.update(environment)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import time_machine
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from customers.models import Customer, PaymentTerms
    from customers.services import customer_update
    from workflow import services
    from workflow.enforcement import engine_writes

    call_command("migrate", verbosity=0)
    users = {u.username: u for u in get_user_model().objects.all()}
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=32), tick=False):
        call_command("seed_demo", stdout=open(os.devnull, "w"))
    users = {u.username: u for u in get_user_model().objects.all()}
    clerk = users["clerk"]
    approvers = [users["approver"], users["approver2"]]

    def submit_at(moment, account: str, why: str = "", **values):
        with time_machine.travel(moment, tick=False):
            customer = Customer.objects.get(account=account)
            proposal = customer_update(
                customer_id=customer.pk, values=values, actor=clerk
            ).proposal
            return services.proposal_submit(
                proposal=proposal, actor=clerk, justification=why
            )

    # A month of credit limit and payment terms changes, decided within hours or days.
    for day in range(30, 0, -1):
        if day % 4 == 3:
            continue
        account = f"C{(day % 30) + 1:05d}"
        submitted_at = now - timedelta(days=day, hours=3)
        customer = Customer.objects.get(account=account)
        proposal = submit_at(
            submitted_at,
            account,
            credit_limit=customer.credit_limit + Decimal(1000 * (day % 5 + 1)),
        )
        with time_machine.travel(
            submitted_at + timedelta(hours=2 + (day * 7) % 40), tick=False
        ):
            if day % 9 == 0:
                services.proposal_reject(
                    proposal=proposal,
                    actor=approvers[day % 2],
                    comment="Not without a credit check.",
                )
            else:
                services.proposal_approve(
                    proposal=proposal, actor=approvers[day % 2], comment="Agreed."
                )
    # Bank account changes past the finance manager's two-day limit: overdue.
    for account, iban in (
        ("C00033", "NL20INGB0001234567"),
        ("C00034", "BE68539007547034"),
    ):
        proposal = submit_at(now - timedelta(days=4), account, bank_account=iban)
        with time_machine.travel(now - timedelta(days=3, hours=20), tick=False):
            services.proposal_approve(proposal=proposal, actor=approvers[0])
    # Waiting at the first step for a few days.
    submit_at(
        now - timedelta(days=9),
        "C00035",
        why="New distribution contract; orders triple from March.",
        credit_limit=Decimal("99000"),
    )
    submit_at(
        now - timedelta(days=2),
        "C00036",
        why="Pays within 10 days for two years.",
        credit_limit=Decimal("77000"),
        payment_terms=PaymentTerms.objects.order_by("code").last(),
    )
    # Its credit limit was changed by another path after it was proposed: approving it
    # now would end in Conflict, which the approve page and the bulk page warn of.
    submit_at(
        now - timedelta(days=1),
        "C00037",
        why="Seasonal peak.",
        credit_limit=Decimal("60000"),
    )
    with transaction.atomic(), engine_writes():
        Customer.objects.filter(account="C00037").update(credit_limit=Decimal("45000"))
    # Approved after the credit limit had been changed around the approval: Conflict,
    # which the customer list shows as the record's status.
    proposal = submit_at(
        now - timedelta(days=3),
        "C00038",
        why="Volume discount agreed.",
        credit_limit=Decimal("61000"),
    )
    with transaction.atomic(), engine_writes():
        Customer.objects.filter(account="C00038").update(credit_limit=Decimal("46000"))
    with time_machine.travel(now - timedelta(days=2, hours=22), tick=False):
        services.proposal_approve(proposal=proposal, actor=approvers[0])


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the server at {url} did not answer")


def photograph(base: str) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    from customers.models import AccountsReceivableWorkflow, Customer

    pk = {
        a: Customer.objects.get(account=a).pk
        for a in ("C00041", "C00045", "C00037", "C00043")
    }
    workflow = AccountsReceivableWorkflow.objects.order_by("-version").first()
    small_file = (
        "account;name;customer_group;credit_limit;phone\n"
        "C00002;Fabrikam Nederland BV;;;+31 20 555 0102\n"
        "C00003;;;125000;\n"
        "C00099;Northwind Traders;10;10000;+31 10 555 0199\n"
    )
    # (file name, role, path or action)
    pages = [
        ("01-login", None, "/admin/login/"),
        ("02-home-approver", "approver", "/admin/"),
        ("03-my-work-items", "approver", "/admin/workflow/workitem/"),
        (
            "04-proposed-changes",
            "approver",
            f"/admin/customers/customer/{pk['C00045']}/proposed-changes/",
        ),
        (
            "05-approve",
            "approver",
            f"/admin/customers/customer/{pk['C00045']}/workflow/approve/",
        ),
        ("06-customers", "clerk", "/admin/customers/customer/"),
        (
            "07-customer-pending",
            "clerk",
            f"/admin/customers/customer/{pk['C00045']}/change/",
        ),
        ("08-history", "clerk", f"/admin/customers/customer/{pk['C00041']}/history/"),
        ("09-import-preview", "clerk", "import"),
        (
            "10-parameters",
            "admin",
            "/admin/customers/accountsreceivableparameters/current/change/",
        ),
        (
            "11-workflow",
            "admin",
            f"/admin/customers/accountsreceivableworkflow/{workflow.pk}/change/",
        ),
        ("12-approve-selected", "approver", "approve-selected"),
        (
            "13-conflict-warning",
            "approver",
            f"/admin/customers/customer/{pk['C00037']}/workflow/approve/",
        ),
        (
            "14-customers-by-status",
            "clerk",
            "/admin/customers/customer/?approval_status=pending",
        ),
        ("15-my-proposals", "clerk", "/admin/workflow/changeproposal/?mine=yes"),
        ("16-change-log", "auditor", "/admin/workflow/auditreport/changes/"),
        (
            "17-reconciliation",
            "auditor",
            "/admin/workflow/auditreport/reconciliation/",
        ),
        ("18-segregation-of-duties", "auditor", "/admin/workflow/auditreport/duties/"),
        ("19-access-review", "auditor", "/admin/workflow/auditreport/access/"),
        (
            "20-bank-detail-warnings",
            "auditor",
            "/admin/workflow/auditreport/bank-warnings/",
        ),
        (
            "21-call-back",
            "manager",
            f"/admin/customers/customer/{pk['C00043']}/workflow/approve/",
        ),
    ]
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for language in LANGUAGES:
            folder = OUTPUT / language
            folder.mkdir(parents=True, exist_ok=True)
            contexts = {}
            for name, role, target in pages:
                if role not in contexts:
                    context = browser.new_context(
                        locale=language,
                        extra_http_headers={"Accept-Language": language},
                        viewport={"width": 1366, "height": 800},
                    )
                    contexts[role] = context.new_page()
                    if role is not None:
                        page = contexts[role]
                        page.goto(f"{base}/admin/login/")
                        page.fill("#id_username", role)
                        page.fill("#id_password", PASSWORD)
                        page.click("input[type=submit]")
                        expect(page.locator("#user-tools")).to_be_visible()
                page = contexts[role]
                if target == "import":
                    page.goto(f"{base}/admin/customers/customer/import/")
                    page.set_input_files(
                        "#id_file",
                        files=[
                            {
                                "name": "customers.csv",
                                "mimeType": "text/csv",
                                "buffer": small_file.encode(),
                            }
                        ],
                    )
                    page.locator("form input[type=submit]").last.click()
                    expect(page.locator("#job-state")).to_be_visible()
                elif target == "approve-selected":
                    # The confirmation, before anything is decided.
                    page.goto(f"{base}/admin/workflow/workitem/")
                    page.locator("#action-toggle").check()
                    page.select_option("select[name=action]", "approve_selected")
                    page.click("button[name=index]")
                    expect(page.locator("#bulk-approval")).to_be_visible()
                else:
                    page.goto(f"{base}{target}")
                path = folder / f"{name}.png"
                page.screenshot(path=str(path), full_page=True)
                written.append(path)
            for page in contexts.values():
                page.context.close()
        browser.close()
    return written


def main() -> int:
    if not Path(CHROMIUM).exists():
        print("Needs Debian's Chromium: apt-get install chromium", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="screenshots-"))
    environment = {
        "DJANGO_SETTINGS_MODULE": "custapproval.settings.local",
        "DATABASE_URL": f"sqlite:///{scratch / 'db.sqlite3'}",
        "MEDIA_ROOT": str(scratch / "media"),
        "DEMO_PASSWORD": PASSWORD,
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "DEBUG": "true",
        "LOG_LEVEL": "WARNING",
    }
    build_database(environment)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env={**os.environ, **environment},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/admin/login/")
        written = photograph(base)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(scratch, ignore_errors=True)
    write_index(written)
    for path in written:
        print(path.relative_to(ROOT))
    return 0


def write_index(written: list[Path]) -> None:
    """docs/screenshots/README.md: each page once, English beside Dutch."""
    names = sorted({path.stem for path in written})
    lines = [
        "# Screenshots",
        "",
        "Made by `make screenshots` (scripts/screenshots.py): the demo data with a month of",
        "history, each page as the role that uses it, in English and in Dutch.",
        "",
        "| page | English | Dutch |",
        "|---|---|---|",
    ]
    for name in names:
        title = name.split("-", 1)[1].replace("-", " ")
        lines.append(
            f"| {title} | ![{title}](en/{name}.png) | ![{title}](nl/{name}.png) |"
        )
    (OUTPUT / "README.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
