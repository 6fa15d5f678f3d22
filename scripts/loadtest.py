"""Clerks and approvers at once against gunicorn on 127.0.0.1, then the invariants.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/custapproval_load make loadtest

Bounded in time (--seconds) and in requests; talks to 127.0.0.1 only. Afterwards it
checks what an auditor would: every applied change has its approvals, no customer value
changed without an audit row, no proposal stuck between states, no server error.
Exit status 1 if any invariant fails.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "custapproval.settings.local")
os.environ.setdefault("DEBUG", "false")

PASSWORD = "load-test-pass-2026"
MAX_REQUESTS_PER_USER = 2000


class FormReader(HTMLParser):
    """The values a browser would post back from the page's main form."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, object] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind == "checkbox":
                if "checked" in a:
                    self.values[name] = a.get("value", "on")
            elif kind not in {"submit", "button", "file"}:
                self.values[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data


class Browser:
    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.username = username
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies)
        )
        self.statuses: Counter = Counter()
        self.requests = 0

    def _csrf(self) -> str:
        return next((c.value for c in self.cookies if c.name == "csrftoken"), "")

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, str]:
        self.requests += 1
        body = (
            urllib.parse.urlencode(data, doseq=True).encode()
            if data is not None
            else None
        )
        request = urllib.request.Request(self.base + path, data=body)
        if body is not None:
            request.add_header("X-CSRFToken", self._csrf())
            request.add_header("Referer", self.base + path)
        try:
            with self.opener.open(request, timeout=30) as response:
                status, url, text = (
                    response.status,
                    response.url,
                    response.read().decode(),
                )
        except urllib.error.HTTPError as error:
            status, url, text = error.code, path, error.read().decode(errors="replace")
        self.statuses[status] += 1
        return status, url, text

    def login(self) -> None:
        _status, _url, page = self.request("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        self.request(
            "/admin/login/",
            {
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token,
                "next": "/admin/",
            },
        )


def clerk_loop(browser: Browser, customer_ids: list[int], stop: float) -> None:
    browser.login()
    while time.monotonic() < stop and browser.requests < MAX_REQUESTS_PER_USER:
        pk = random.choice(customer_ids)
        _s, _u, page = browser.request(f"/admin/customers/customer/{pk}/change/")
        form = FormReader()
        form.feed(page)
        if "csrfmiddlewaretoken" not in form.values:
            continue
        form.values["phone"] = f"+31 20 {random.randint(1000000, 9999999)}"
        form.values["credit_limit"] = str(random.randint(1, 90) * 1000)
        form.values["_save"] = "Save"
        status, url, _page = browser.request(
            f"/admin/customers/customer/{pk}/change/", form.values
        )
        if url.endswith("/proposed-changes/"):
            browser.request(f"/admin/customers/customer/{pk}/workflow/submit/", {})


def approver_loop(browser: Browser, stop: float) -> None:
    browser.login()
    while time.monotonic() < stop and browser.requests < MAX_REQUESTS_PER_USER:
        _s, _u, page = browser.request("/admin/workflow/workitem/")
        links = re.findall(
            r'href="(/admin/customers/customer/\d+/)proposed-changes/"', page
        )
        if not links:
            time.sleep(0.2)
            continue
        base = random.choice(links)
        action = random.choice(["approve", "approve", "approve", "reject"])
        browser.request(f"{base}workflow/{action}/")
        browser.request(f"{base}workflow/{action}/", {"comment": "load test"})


def wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not start on port {port}")


def prepare(clerks: int, approvers: int) -> tuple[list[str], list[str], list[int]]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from customers.models import Customer

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    user_model = get_user_model()
    names = {
        "Clerks": [f"load-clerk{i}" for i in range(clerks)],
        "Approvers": [f"load-approver{i}" for i in range(approvers)],
    }
    for group_name, usernames in names.items():
        group = Group.objects.get(name=group_name)
        for username in usernames:
            user, _ = user_model.objects.get_or_create(
                username=username, defaults={"is_staff": True}
            )
            user.set_password(PASSWORD)
            user.save()
            user.groups.set([group])
    return (
        names["Clerks"],
        names["Approvers"],
        list(Customer.objects.values_list("pk", flat=True)),
    )


def snapshot() -> dict[int, dict[str, str]]:
    from customers.models import Customer

    return {
        pk: {"phone": phone, "credit_limit": str(limit)}
        for pk, phone, limit in Customer.objects.values_list(
            "pk", "phone", "credit_limit"
        )
    }


def check_invariants(before: dict[int, dict[str, str]]) -> list[str]:
    from django.contrib.contenttypes.models import ContentType

    from customers.models import Customer
    from workflow.models import (
        AuditAction,
        AuditEntry,
        ChangeProposal,
        ProposalState,
        WorkItem,
        WorkItemState,
    )

    problems = []
    content_type = ContentType.objects.get_for_model(Customer)
    for proposal in ChangeProposal.objects.filter(
        state=ProposalState.APPLIED, content_type=content_type
    ):
        approvals = WorkItem.objects.filter(
            proposal=proposal, state=WorkItemState.APPROVED
        )
        automatic = proposal.audit_entries.filter(
            action__in=[AuditAction.AUTO_APPROVED, AuditAction.ESCALATED]
        )
        if not approvals.exists() and not automatic.exists():
            problems.append(f"proposal {proposal.pk} applied without an approval")
        if approvals.filter(assignee=proposal.submitted_by_id).exists():
            problems.append(f"proposal {proposal.pk} approved by its submitter")
    for proposal in ChangeProposal.objects.filter(state=ProposalState.PENDING):
        open_items = WorkItem.objects.filter(
            proposal=proposal, state=WorkItemState.OPEN, step=proposal.current_step_id
        )
        if proposal.current_step_id is None or not open_items.exists():
            problems.append(f"proposal {proposal.pk} pending with nobody to decide it")
    for pk, phone, limit in Customer.objects.values_list("pk", "phone", "credit_limit"):
        for field, value in (("phone", phone), ("credit_limit", f"{limit:.2f}")):
            if str(before[pk][field]) == value or (
                field == "credit_limit" and Decimal(before[pk][field]) == limit
            ):
                continue
            last = (
                AuditEntry.objects.filter(
                    content_type=content_type,
                    object_id=pk,
                    field_name=field,
                    action=AuditAction.FIELD_CHANGED,
                )
                .order_by("-created_at", "-id")
                .first()
            )
            if last is None or str(last.new_value) != value:
                problems.append(
                    f"customer {pk}: {field} is {value!r} with no audit row that wrote it"
                )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clerks", type=int, default=4)
    parser.add_argument("--approvers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print(
            "Set DATABASE_URL to a PostgreSQL database: SQLite serialises every writer.",
            file=sys.stderr,
        )
        return 2

    clerks, approvers, customer_ids = prepare(args.clerks, args.approvers)
    before = snapshot()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "custapproval.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            "3",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "DEBUG": "false"},
    )
    try:
        wait_for_port(args.port)
        base = f"http://127.0.0.1:{args.port}"
        stop = time.monotonic() + args.seconds
        browsers = [Browser(base, u) for u in clerks + approvers]
        threads = [
            threading.Thread(target=clerk_loop, args=(b, customer_ids, stop))
            for b in browsers[: len(clerks)]
        ] + [
            threading.Thread(target=approver_loop, args=(b, stop))
            for b in browsers[len(clerks) :]
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 60)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    statuses = sum((b.statuses for b in browsers), Counter())
    print(
        f"{sum(statuses.values())} requests in {args.seconds} s: {dict(sorted(statuses.items()))}"
    )
    problems = check_invariants(before)
    if statuses.get(500):
        problems.append(f"{statuses[500]} server errors")
    from workflow.models import ChangeProposal

    print(
        "proposals by state:",
        dict(Counter(ChangeProposal.objects.values_list("state", flat=True))),
    )
    for problem in problems:
        print("INVARIANT BROKEN:", problem)
    print(
        "all invariants hold" if not problems else f"{len(problems)} invariants broken"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
