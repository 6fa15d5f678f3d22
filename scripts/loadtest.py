"""Clerks, approvers and an importer against two web processes and two task workers,
with faults injected while they work, then the invariants.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/custapproval_load make loadtest

What runs, all on 127.0.0.1 and on the database of DATABASE_URL (which it fills):
two gunicorn processes (two workers each) answering in turn for every browser (a
request goes to either, so nothing may live in one process's memory), two
`task_worker`s, `process_escalations --every 5`, `process_import_jobs --every 5` and
`process_outbox --every 2`, and a small SMTP server of its own that the e-mails go to.
Every e-mail is a row of the outbox written with the decision that causes it; the
task the commit queues sends it, and `process_outbox` tries again what failed
(OUTBOX_BACKOFF_SECONDS=2 here, so that a refusal of a fifth of the run is outlived).

The faults, at fixed points of the run: the database drops every connection of the
application (twice), the mail server refuses every connection for a fifth of the run,
and one task worker is killed (SIGKILL) and started again three seconds later, as
docker-compose's restart policy would.

Afterwards it checks what an auditor and an operator would: every applied change has
its approvals and every changed value its audit row; no proposal is stuck between
states; no import job is left running; no task was lost (each ran, failed visibly, or
was held by the killed worker, whose work the upkeep loops take over); every proposal
closed has its e-mail in the outbox, and every e-mail of the outbox was sent (the mail
server received at least as many) or is visibly failed, none left waiting; no server
error beyond the moment of a fault; every process but the killed worker still runs,
and /health/ answers 200. It prints the figures and exits 1 if an invariant fails.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import http.cookiejar
import io
import json
import os
import random
import re
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
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
APPLICATION = "custapproval-load"
# A server error this soon after the database dropped the connections is the fault's.
FAULT_WINDOW = 3.0
RUNNING_JOB_STATES = {"Checking the file", "Waiting to import", "Importing"}
STARTED = time.monotonic()


def now() -> float:
    return time.monotonic() - STARTED


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
    """One user's session; every request goes to one of the web processes at random."""

    def __init__(self, bases: list[str], username: str, log: list) -> None:
        self.bases = bases
        self.username = username
        self.log = log
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies)
        )
        self.requests = 0

    def _csrf(self) -> str:
        return next((c.value for c in self.cookies if c.name == "csrftoken"), "")

    def request(
        self, path: str, data: dict | None = None, body: bytes | None = None, kind=""
    ) -> tuple[int, str, str]:
        self.requests += 1
        base = random.choice(self.bases)
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True).encode()
            kind = "application/x-www-form-urlencoded"
        request = urllib.request.Request(base + path, data=body)
        if body is not None:
            request.add_header("Content-Type", kind)
            request.add_header("X-CSRFToken", self._csrf())
            request.add_header("Referer", base + path)
        try:
            with self.opener.open(request, timeout=60) as response:
                status, url, text = (
                    response.status,
                    response.url,
                    response.read().decode(),
                )
        except urllib.error.HTTPError as error:
            status, url, text = error.code, path, error.read().decode(errors="replace")
        except (OSError, http.client.HTTPException) as error:
            status, url, text = 0, path, repr(error)
        self.log.append((now(), status, path))
        return status, url, text

    def post_file(self, path: str, fields: dict[str, str], name: str, content: bytes):
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            f"{value}\r\n".encode()
            for key, value in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
        )
        parts += [content, f"\r\n--{boundary}--\r\n".encode()]
        return self.request(
            path, body=b"".join(parts), kind=f"multipart/form-data; boundary={boundary}"
        )

    def login(self) -> None:
        while True:
            _status, _url, page = self.request("/admin/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            if token:
                break
            time.sleep(0.5)
        self.request(
            "/admin/login/",
            {
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token.group(1),
                "next": "/admin/",
            },
        )


def clerk_loop(browser: Browser, customer_ids: list[int], stop: float) -> None:
    browser.login()
    while now() < stop and browser.requests < MAX_REQUESTS_PER_USER:
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
    while now() < stop and browser.requests < MAX_REQUESTS_PER_USER:
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


def job_state(page: str) -> str:
    state = re.search(r'<span id="job-state">([^<]*)</span>', page)
    return state.group(1) if state else "?"


def follow_job(browser: Browser, path: str, limit: float) -> str:
    """The job page, reloaded as it reloads itself, until it stops running."""
    deadline = now() + limit
    while True:
        status, _url, page = browser.request(path)
        state = job_state(page) if status == 200 else f"HTTP {status}"
        if state not in RUNNING_JOB_STATES and not state.startswith("HTTP"):
            return state
        if now() > deadline:
            return state
        time.sleep(0.5)


def importer_loop(browser: Browser, prefix: str, stop: float, outcomes: Counter):
    """Uploads small files of new customers (every file is checked and imported in the
    background: IMPORT_BACKGROUND_BYTES=1), confirms each preview, and confirms again
    an import that a stopped worker gave back."""
    browser.login()
    number = 0
    while now() < stop and browser.requests < MAX_REQUESTS_PER_USER:
        number += 1
        rows = "".join(
            f"{prefix}{number:03d}{row:02d};Load import {number}-{row};10\n"
            for row in range(20)
        )
        _s, _u, page = browser.request("/admin/customers/customer/import/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if not token:
            continue
        status, url, page = browser.post_file(
            "/admin/customers/customer/import/",
            {
                "csrfmiddlewaretoken": token.group(1),
                "behaviour": "propose",
                "decimal_format": "point",
                "encoding": "auto",
                "delimiter": "auto",
            },
            f"load-{number}.csv",
            ("account;name;customer_group\n" + rows).encode(),
        )
        job = re.search(r"(/admin/customers/customer/import/\d+/)", url)
        if status != 200 or not job:
            outcomes["upload refused"] += 1
            continue
        path = job.group(1)
        state = follow_job(browser, path, 120)
        tries = 0
        while state == "Ready to import" and tries < 3:
            tries += 1
            _s, _u, page = browser.request(path)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            if not token:
                break
            browser.request(f"{path}confirm/", {"csrfmiddlewaretoken": token.group(1)})
            state = follow_job(browser, path, 120)
            if tries > 1:
                outcomes["confirmed again after a stop"] += 1
        outcomes[state] += 1


class FakeMail(socketserver.ThreadingTCPServer):
    """Enough SMTP for Django's backend; refuses every connection while `refusing`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), MailHandler)
        self.refusing = threading.Event()
        self.accepted = 0
        self.refused = 0
        self.lock = threading.Lock()


class MailHandler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        server: FakeMail = self.server  # type: ignore[assignment]
        if server.refusing.is_set():
            with server.lock:
                server.refused += 1
            self.wfile.write(b"421 4.3.2 Service not available, closing channel\r\n")
            return
        self.wfile.write(b"220 localhost ESMTP load test\r\n")
        while line := self.rfile.readline():
            command = line.strip().upper()
            if command.startswith(b"DATA"):
                self.wfile.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                while (data := self.rfile.readline()) and data.rstrip(b"\r\n") != b".":
                    pass
                with server.lock:
                    server.accepted += 1
                self.wfile.write(b"250 2.0.0 Queued\r\n")
            elif command.startswith(b"QUIT"):
                self.wfile.write(b"221 2.0.0 Bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


def wait_for_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not start on port {port}")


def warm_up(bases: list[str]) -> None:
    """Every gunicorn worker has served pages before the clock starts."""

    def get(url: str) -> None:
        try:
            urllib.request.urlopen(url, timeout=60).read()
        except OSError:
            pass

    for _round in range(2):
        threads = [
            threading.Thread(target=get, args=(base + "/admin/login/",))
            for base in bases
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def with_application_name(url: str) -> str:
    return url + ("&" if "?" in url else "?") + f"application_name={APPLICATION}"


def prepare(clerks: int, approvers: int) -> tuple[list[str], list[str], str, list[int]]:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from customers.models import Customer

    # Creates the database cache's table too (CACHE_URL=db://…).
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    user_model = get_user_model()
    names = {
        "Clerks": [f"load-clerk{i}" for i in range(clerks)] + ["load-importer"],
        "Approvers": [f"load-approver{i}" for i in range(approvers)],
    }
    for group_name, usernames in names.items():
        group = Group.objects.get(name=group_name)
        for username in usernames:
            user, _ = user_model.objects.get_or_create(
                username=username, defaults={"is_staff": True}
            )
            user.set_password(PASSWORD)
            # With an address, so that every decision sends e-mail.
            user.email = f"{username}@example.com"
            user.save()
            user.groups.set([group])
    return (
        names["Clerks"][:-1],
        names["Approvers"],
        "load-importer",
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
        if pk not in before:
            # Created by an import of this run; the import audited its creation.
            continue
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


def check_jobs_and_tasks(since, killed_worker_ids: set[str]) -> tuple:
    """Import jobs none of which is left running; every task ran or failed visibly."""
    from django_tasks_db.models import DBTaskResult

    from workflow.models import ImportJob, ImportJobState

    problems = []
    jobs = Counter(
        ImportJob.objects.filter(created_at__gte=since).values_list("state", flat=True)
    )
    for state in (
        ImportJobState.PREVIEWING,
        ImportJobState.QUEUED,
        ImportJobState.APPLYING,
    ):
        if jobs.get(state):
            problems.append(f"{jobs[state]} import job(s) left {state}")
    tasks = Counter()
    for result in DBTaskResult.objects.filter(enqueued_at__gte=since):
        if result.status == "SUCCESSFUL":
            tasks["ran"] += 1
        elif result.status == "FAILED":
            kind = result.exception_class_path.rsplit(".", 1)[-1]
            tasks[f"failed ({kind})"] += 1
        elif result.status == "RUNNING" and set(result.worker_ids) & killed_worker_ids:
            tasks["left running by the killed worker"] += 1
        else:
            tasks["lost (never finished)"] += 1
    if tasks.get("lost (never finished)"):
        problems.append(f"{tasks['lost (never finished)']} task(s) lost")
    return dict(jobs), dict(tasks), problems


def check_outbox(since, accepted: int) -> tuple[dict, int, list[str]]:
    """Every proposal closed in the run has its e-mail in the outbox; every e-mail of
    the outbox is sent or visibly failed (none left waiting), and the mail server
    received at least as many as were marked sent. Returns the rows by state, the
    e-mails lost, and the problems."""
    from workflow.models import (
        ChangeProposal,
        OutboxEvent,
        OutboxMessage,
        OutboxState,
        ProposalState,
    )

    problems = []
    rows = OutboxMessage.objects.filter(created_at__gte=since)
    states = Counter(rows.values_list("state", flat=True))
    announced: dict[str, set[int]] = {}
    for event, single, many in rows.values_list("event", "proposal_id", "proposal_ids"):
        named = announced.setdefault(event, set())
        if single is not None:
            named.add(single)
        named.update(many or [])
    closing = {
        ProposalState.APPLIED: OutboxEvent.APPLIED,
        ProposalState.REJECTED: OutboxEvent.REJECTED,
        ProposalState.CONFLICT: OutboxEvent.CONFLICT,
    }
    unannounced = [
        pk
        for pk, state in ChangeProposal.objects.filter(
            closed_at__gte=since,
            state__in=list(closing),
            submitted_by__isnull=False,
        ).values_list("pk", "state")
        if pk not in announced.get(closing[ProposalState(state)], set())
    ]
    if unannounced:
        problems.append(
            f"{len(unannounced)} proposal(s) closed without their e-mail in the "
            f"outbox: {unannounced[:10]}"
        )
    waiting = states.get(OutboxState.PENDING, 0)
    if waiting:
        problems.append(f"{waiting} e-mail(s) neither sent nor failed")
    never_received = max(0, states.get(OutboxState.SENT, 0) - accepted)
    if never_received:
        problems.append(
            f"{never_received} e-mail(s) marked sent that the mail server never got"
        )
    lost = len(unannounced) + waiting + never_received
    return {str(k): v for k, v in sorted(states.items())}, lost, problems


def drain(seconds: float, killed_worker_ids: set[str]) -> None:
    """Let the workers finish what was queued (and the upkeep recover what the killed
    worker held) before counting."""
    from django_tasks_db.models import DBTaskResult

    from workflow.models import ImportJob, ImportJobState, OutboxMessage, OutboxState

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        waiting = DBTaskResult.objects.filter(status="READY").exists() or any(
            not set(ids) & killed_worker_ids
            for ids in DBTaskResult.objects.filter(status="RUNNING").values_list(
                "worker_ids", flat=True
            )
        )
        running_jobs = ImportJob.objects.filter(
            state__in=[
                ImportJobState.PREVIEWING,
                ImportJobState.QUEUED,
                ImportJobState.APPLYING,
            ]
        ).exists()
        # Waiting to be sent, due or to be tried again: the outbox loop sends it.
        unsent = OutboxMessage.objects.filter(state=OutboxState.PENDING).exists()
        if not waiting and not running_jobs and not unsent:
            return
        time.sleep(1)


def busy_worker(worker_ids: list[str], seconds: float) -> tuple[int, str]:
    """The task worker to kill: one in the middle of a task if one is within
    `seconds` (its task is then left "Running", and what it was doing must be taken
    over by the upkeep loops), else the first; and what it was doing."""
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for worker_ids_of_task, path in DBTaskResult.objects.filter(
            status="RUNNING"
        ).values_list("worker_ids", "task_path"):
            for index, worker_id in enumerate(worker_ids):
                if worker_id in worker_ids_of_task:
                    return index, f"running {path.rsplit('.', 1)[-1]}"
        time.sleep(0.05)
    return 0, "idle"


def terminate_connections() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            [APPLICATION],
        )
        return cursor.fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clerks", type=int, default=4)
    parser.add_argument("--approvers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765, help="and the next one")
    args = parser.parse_args()
    database = os.environ.get("DATABASE_URL", "")
    if not database.startswith("postgres"):
        print(
            "Set DATABASE_URL to a PostgreSQL database: SQLite serialises every writer.",
            file=sys.stderr,
        )
        return 2

    mail = FakeMail()
    threading.Thread(target=mail.serve_forever, daemon=True).start()
    work = Path(tempfile.mkdtemp(prefix="loadtest-"))
    # The settings of every process of the run (this one's too, for the cache table).
    os.environ.update(
        {
            "DEBUG": "false",
            "TASKS_BACKEND": "database",
            "CACHE_URL": "db://custapproval_cache",
            "DASHBOARD_CACHE_SECONDS": "5",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(mail.server_address[1]),
            "EMAIL_TIMEOUT": "5",
            "IMPORT_BACKGROUND_BYTES": "1",
            "IMPORT_LEASE_SECONDS": "10",
            "HEARTBEAT_SECONDS": "2",
            # Tries again 2, 4, 8, 16 and 32 s after a refusal: the mail server's fifth
            # of the run is outlived, and what fails after that is failed visibly.
            "OUTBOX_BACKOFF_SECONDS": "2",
            "OUTBOX_MAX_ATTEMPTS": "6",
            # The processes this run starts (not seal_audit: the audit chain is not
            # what it tests).
            "HEALTH_PROCESSES": "worker,escalations,imports,outbox",
            "MEDIA_ROOT": str(work / "media"),
            "LOG_FORMAT": "json",
        }
    )
    # Before the demo data, whose proposals send e-mail too.
    since = datetime.datetime.now(datetime.UTC)
    clerks, approvers, importer, customer_ids = prepare(args.clerks, args.approvers)
    before = snapshot()
    child_env = {**os.environ, "DATABASE_URL": with_application_name(database)}

    def start(name: str, command: list[str]) -> subprocess.Popen:
        log = (work / f"{name}.log").open("a")
        return subprocess.Popen(
            command, cwd=ROOT, env=child_env, stdout=log, stderr=subprocess.STDOUT
        )

    manage = [sys.executable, "manage.py"]
    ports = [args.port, args.port + 1]
    webs = [
        start(
            f"web{i}",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "custapproval.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
            ],
        )
        for i, port in enumerate(ports)
    ]
    worker_ids = [f"load-worker{i}-{uuid.uuid4().hex[:8]}" for i in range(2)]
    workers = [
        start(
            f"worker{i}",
            [*manage, "task_worker", "--no-reload", "--interval", "0.2"]
            + ["--worker-id", worker_id],
        )
        for i, worker_id in enumerate(worker_ids)
    ]
    loops = [
        start("escalations", [*manage, "process_escalations", "--every", "5"]),
        start("imports", [*manage, "process_import_jobs", "--every", "5"]),
        start("outbox", [*manage, "process_outbox", "--every", "2"]),
    ]
    faults: list[tuple[float, str]] = []
    killed_worker_ids: set[str] = set()
    restarted: list[subprocess.Popen] = []
    log: list[tuple[float, int, str]] = []
    imports: Counter = Counter()
    try:
        for port in ports:
            wait_for_port(port)
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        warm_up(bases)
        begin = now()
        stop = begin + args.seconds
        browsers = [Browser(bases, u, log) for u in clerks + approvers + [importer]]
        prefix = "L" + time.strftime("%d%H%M%S")
        threads = (
            [
                threading.Thread(target=clerk_loop, args=(b, customer_ids, stop))
                for b in browsers[: len(clerks)]
            ]
            + [
                threading.Thread(target=approver_loop, args=(b, stop))
                for b in browsers[len(clerks) : -1]
            ]
            + [
                threading.Thread(
                    target=importer_loop, args=(browsers[-1], prefix, stop, imports)
                )
            ]
        )
        for thread in threads:
            thread.start()

        def at(fraction: float) -> None:
            time.sleep(max(0.0, begin + fraction * args.seconds - now()))

        at(0.2)
        dropped_at = now()
        count = terminate_connections()
        faults.append((dropped_at, f"database dropped {count} connections"))
        at(0.35)
        mail.refusing.set()
        faults.append((now(), "mail server refuses"))
        at(0.5)
        victim, holding = busy_worker(worker_ids, seconds=5)
        workers[victim].send_signal(signal.SIGKILL)
        workers[victim].wait()
        killed_worker_ids.add(worker_ids[victim])
        faults.append((now(), f"task worker killed (SIGKILL) while {holding}"))
        time.sleep(3)
        restarted.append(
            start(
                f"worker{victim}",
                [*manage, "task_worker", "--no-reload", "--interval", "0.2"],
            )
        )
        faults.append((now(), "task worker started again"))
        at(0.55)
        mail.refusing.clear()
        faults.append((now(), "mail server accepts again"))
        at(0.7)
        dropped_at = now()
        count = terminate_connections()
        faults.append((dropped_at, f"database dropped {count} connections"))
        for thread in threads:
            thread.join(timeout=args.seconds + 180)
        drain(90, killed_worker_ids)
        health_status, health = fetch_health(bases[0])
    finally:
        alive = {
            "web": sum(p.poll() is None for p in webs),
            "task workers": sum(
                p.poll() is None
                for p in [w for w in workers if w.returncode != -signal.SIGKILL]
                + restarted
            ),
            "escalation, import and outbox loops": sum(p.poll() is None for p in loops),
        }
        for process in webs + workers + restarted + loops:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in webs + workers + restarted + loops:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        mail.shutdown()

    return report(
        args=args,
        before=before,
        since=since,
        log=log,
        faults=faults,
        imports=imports,
        mail=mail,
        killed_worker_ids=killed_worker_ids,
        alive=alive,
        health=(health_status, health),
        work=work,
    )


def fetch_health(base: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(base + "/health/", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except OSError as error:
        return 0, {"error": repr(error)}


def report(**run) -> int:
    from workflow.models import AuditAction, AuditEntry, ChangeProposal

    args, log, faults = run["args"], run["log"], run["faults"]
    statuses = Counter(status for _t, status, _p in log)
    # The moment a drop began: a request that failed as the connections went is
    # logged when its answer came, which may be before the drop's query returned.
    drops = [t for t, what in faults if what.startswith("database dropped")]
    errors_at_fault = 0
    beyond = []
    for t, status, path in log:
        # 400 too: a session that could not be saved as the connection dropped.
        if status >= 500 or status in (0, 400):
            if any(0 <= t - drop <= FAULT_WINDOW for drop in drops):
                errors_at_fault += 1
            else:
                beyond.append(f"{t:.1f} s {status} {path}")
    errors_beyond = len(beyond)
    decisions = Counter(
        AuditEntry.objects.filter(
            created_at__gte=run["since"],
            action__in=[
                AuditAction.APPROVED,
                AuditAction.REJECTED,
                AuditAction.SUBMITTED,
                AuditAction.APPLIED,
            ],
        ).values_list("action", flat=True)
    )
    jobs, tasks, problems = check_jobs_and_tasks(run["since"], run["killed_worker_ids"])
    problems += check_invariants(run["before"])
    outbox, lost_mails, outbox_problems = check_outbox(
        run["since"], run["mail"].accepted
    )
    problems += outbox_problems
    if errors_beyond:
        problems.append(
            f"{errors_beyond} failed requests beyond the moment of a fault: {beyond[:10]}"
        )
    if run["alive"]["web"] != 2 or run["alive"]["task workers"] != 2:
        problems.append(f"processes stopped: {run['alive']}")
    if run["alive"]["escalation, import and outbox loops"] != 3:
        problems.append(f"a loop stopped: {run['alive']}")
    health_status, health = run["health"]
    if health_status != 200:
        problems.append(f"/health/ answered {health_status}: {health}")

    print(
        f"Load test: {args.seconds} s, {args.clerks} clerks, {args.approvers} "
        "approvers and 1 importer against 2 web processes and 2 task workers"
    )
    print(f"requests: {sum(statuses.values())} {dict(sorted(statuses.items()))}")
    print(
        f"failed requests (5xx, 400, no answer): {errors_at_fault} at the moment of a "
        f"fault (within {FAULT_WINDOW:.0f} s of a drop), {errors_beyond} beyond"
    )
    print("decisions:", {str(k): v for k, v in sorted(decisions.items())})
    print(
        "proposals of the run by state:",
        dict(
            Counter(
                ChangeProposal.objects.filter(created_at__gte=run["since"]).values_list(
                    "state", flat=True
                )
            )
        ),
    )
    print("imports (as the importer saw them end):", dict(run["imports"]))
    print("import jobs by state:", jobs)
    print("tasks:", tasks)
    sent = outbox.get("sent", 0)
    print(
        f"e-mails (outbox rows by state): {outbox}; the mail server accepted "
        f"{run['mail'].accepted} ({max(0, run['mail'].accepted - sent)} sent twice: "
        "the connection dropped after the server accepted, before the row was "
        f"marked sent) and refused {run['mail'].refused} connections while it refused"
    )
    print("faults injected:")
    for t, what in faults:
        print(f"  {t:6.1f} s  {what}")
    print(f"/health/ after the run: {health_status} {json.dumps(health)}")
    lost = tasks.get("lost (never finished)", 0)
    print(
        f"errors: {errors_at_fault + errors_beyond} failed requests, {len(problems)} invariants broken"
    )
    print(f"lost = {lost + lost_mails} ({lost} tasks, {lost_mails} e-mails)")
    print(f"logs: {run['work']}")
    for problem in problems:
        print("INVARIANT BROKEN:", problem)
    print(
        "all invariants hold" if not problems else f"{len(problems)} invariants broken"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
