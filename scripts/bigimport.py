"""A 1M-row workbook through the Import page, under docker-compose's gunicorn settings.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/custapproval_big make bigimport
    make bigimport BIGIMPORT_ARGS="--rows 200000"      # a smaller run

Not part of `make test`. Writes an XLSX of new customers (openpyxl write_only, streamed
row by row), starts gunicorn with the `web` service's command from docker-compose.yml
(so its workers and its timeout: gunicorn's default of 30 s unless the command names
one) and `manage.py db_worker` as the `worker` service does, both with
TASKS_BACKEND=database; then does what a clerk's browser does: upload, follow the job
page (it reloads itself every 2 s) through the check in the background, confirm, and
follow it through the import in the background. Talks to 127.0.0.1 only. Needs a
PostgreSQL database it may fill: every run adds its rows under new accounts.

Exit status 1 if any request took as long as the timeout or failed, if gunicorn killed
a worker, or if not every row was imported.
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import io
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "custapproval.settings.local")
os.environ.setdefault("DEBUG", "false")

USER = "bigimport-clerk"
PASSWORD = "big-import-pass-2026"
GUNICORN_DEFAULT_TIMEOUT = 30
RUNNING = {"Checking the file", "Waiting to import", "Importing"}


class Stopped(Exception):
    """The walk could not go on; the summary says where."""


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """A browser's requests, each timed on its own; redirects are followed by hand."""

    def __init__(self, base: str, timeout: float) -> None:
        self.base = base
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirects()
        )
        self.log: list[tuple[str, str, int, float]] = []

    def csrf(self) -> str:
        return next((c.value for c in self.cookies if c.name == "csrftoken"), "")

    def request(
        self, path: str, body: bytes | None = None, content_type: str = ""
    ) -> tuple[int, str, str]:
        request = urllib.request.Request(self.base + path, data=body)
        if body is not None:
            request.add_header("Content-Type", content_type)
            request.add_header("X-CSRFToken", self.csrf())
            request.add_header("Referer", self.base + path)
        started = time.monotonic()
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                status, text = response.status, response.read().decode()
                location = response.headers.get("Location", "")
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode(errors="replace")
            location = error.headers.get("Location", "")
        except (OSError, http.client.HTTPException) as error:
            status, text, location = 0, repr(error), ""
        self.log.append(
            (
                "POST" if body is not None else "GET",
                path,
                status,
                time.monotonic() - started,
            )
        )
        return status, location, text

    def post_form(self, path: str, fields: dict[str, str]):
        body = urllib.parse.urlencode(fields).encode()
        return self.request(path, body, "application/x-www-form-urlencoded")

    def post_file(self, path: str, fields: dict[str, str], file: Path):
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{value}\r\n".encode()
            )
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{file.name}"\r\nContent-Type: application/vnd.openxmlformats-'
            "officedocument.spreadsheetml.sheet\r\n\r\n".encode()
        )
        parts.append(file.read_bytes())
        parts.append(f"\r\n--{boundary}--\r\n".encode())
        return self.request(
            path, b"".join(parts), f"multipart/form-data; boundary={boundary}"
        )

    def login(self) -> None:
        _status, _location, page = self.request("/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, _location, _page = self.post_form(
            "/admin/login/",
            {
                "username": USER,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token,
                "next": "/admin/",
            },
        )
        if status != 302:
            raise Stopped(f"logging in failed: HTTP {status}")


def write_workbook(path: Path, rows: int, prefix: str) -> float:
    """New customers, streamed to disk: memory stays flat whatever the row count."""
    from openpyxl import Workbook

    started = time.monotonic()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Customers")
    sheet.append(["account", "name", "customer_group", "credit_limit"])
    for n in range(rows):
        sheet.append(
            [f"{prefix}{n:07d}", f"Big import customer {n}", "10", n % 100_000]
        )
    workbook.save(path)
    return time.monotonic() - started


def compose_web_command(port: int) -> tuple[list[str], int]:
    """The `web` service's gunicorn command, bound to 127.0.0.1:port, and its timeout."""
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    args = shlex.split(compose["services"]["web"]["command"])
    if args[0] != "gunicorn":
        raise SystemExit(f"the web service does not run gunicorn: {args}")
    args = args[1:]
    bind = args.index("--bind")
    args[bind + 1] = f"127.0.0.1:{port}"
    timeout = GUNICORN_DEFAULT_TIMEOUT
    for flag in ("--timeout", "-t"):
        if flag in args:
            timeout = int(args[args.index(flag) + 1])
    return [sys.executable, "-m", "gunicorn", *args], timeout


def wait_for_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"gunicorn did not start on port {port}")


def prepare() -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0, stdout=io.StringIO())
    user, _ = get_user_model().objects.get_or_create(
        username=USER, defaults={"is_staff": True}
    )
    user.set_password(PASSWORD)
    user.save()
    user.groups.set([Group.objects.get(name="Clerks")])


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MB; 0 if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def job_state(page: str) -> tuple[str, str]:
    state = re.search(r'<span id="job-state">([^<]*)</span>', page)
    done = re.search(r'<progress id="import-progress"[^>]*value="(\d+)"', page)
    return (state.group(1) if state else "?"), (done.group(1) if done else "")


def follow(browser: Browser, path: str, until_not: set[str], limit: float) -> str:
    """Reload the job page every 2 s, as it does itself, while its state is running."""
    deadline = time.monotonic() + limit
    said = 0.0
    while True:
        status, _location, page = browser.request(path)
        state, done = job_state(page) if status == 200 else (f"HTTP {status}", "")
        if state not in until_not:
            return page
        if time.monotonic() - said > 30:
            print(f"  {state}: {done or 0} rows", file=sys.stderr)
            said = time.monotonic()
        if time.monotonic() > deadline:
            raise Stopped(f"still {state} after {limit:.0f} s")
        time.sleep(2)


def drive(browser: Browser, workbook: Path, limit: int, phases: dict) -> str:
    """Upload, follow the check, confirm, follow the import; the job's final state."""
    browser.login()
    import_path = "/admin/customers/customer/import/"
    _status, _location, page = browser.request(import_path)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    behaviour = re.search(
        r'<select name="behaviour"[^>]*>.*?<option value="([^"]+)"[^>]*selected',
        page,
        re.S,
    )
    fields = {
        "csrfmiddlewaretoken": token,
        "behaviour": behaviour.group(1) if behaviour else "propose",
        "decimal_format": "point",
        "encoding": "auto",
        "delimiter": "auto",
    }
    print("Uploading ...", file=sys.stderr)
    started = time.monotonic()
    status, job_path, _page = browser.post_file(import_path, fields, workbook)
    if status != 302 or "/import/" not in job_path:
        raise Stopped(f"the upload answered HTTP {status or '(connection closed)'}")
    job_path = urllib.parse.urlsplit(job_path).path
    page = follow(browser, job_path, RUNNING, limit)
    phases["upload until Ready to import"] = time.monotonic() - started
    state, _done = job_state(page)
    if state != "Ready to import":
        raise Stopped(f"the check ended as {state!r}")

    print("Confirming ...", file=sys.stderr)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    started = time.monotonic()
    status, _location, _page = browser.post_form(
        f"{job_path}confirm/", {"csrfmiddlewaretoken": token}
    )
    if status != 302:
        raise Stopped(f"confirming answered HTTP {status or '(connection closed)'}")
    page = follow(browser, job_path, RUNNING, limit)
    state, _done = job_state(page)
    phases[f"confirm until {state}"] = time.monotonic() - started
    return state


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--limit", type=int, default=3 * 3600, help="seconds to wait for the worker"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("Set DATABASE_URL to a PostgreSQL database it may fill.", file=sys.stderr)
        return 2

    prepare()
    prefix = "BIG" + time.strftime("%y%m%d%H%M%S")[-8:]
    work = Path(tempfile.mkdtemp(prefix="bigimport-"))
    workbook = work / f"customers-{args.rows}.xlsx"
    print(f"Writing {args.rows:,} rows to {workbook} ...", file=sys.stderr)
    phases = {
        "workbook written (write_only)": write_workbook(workbook, args.rows, prefix)
    }
    size_mb = workbook.stat().st_size / 1e6

    command, timeout = compose_web_command(args.port)
    env = {
        **os.environ,
        "DEBUG": "false",
        "TASKS_BACKEND": "database",
        "MEDIA_ROOT": str(work / "media"),
    }
    server_log = (work / "gunicorn.log").open("w")
    worker_log = (work / "worker.log").open("w")
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    # Longer than gunicorn's timeout, so that a request it kills is seen as such.
    browser = Browser(f"http://127.0.0.1:{args.port}", timeout=timeout * 3)
    final, problems = "", []
    try:
        wait_for_port(args.port)
        final = drive(browser, workbook, args.limit, phases)
    except Stopped as stopped:
        problems.append(str(stopped))
    finally:
        worker_peak = peak_memory_mb(worker.pid)
        for process in (server, worker):
            process.send_signal(signal.SIGTERM)
        for process in (server, worker):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        server_log.close()
        worker_log.close()

    from customers.models import Customer

    imported = Customer.objects.filter(account__startswith=prefix).count()
    killed = (work / "gunicorn.log").read_text().count("WORKER TIMEOUT")
    by_kind: dict[str, tuple[int, float]] = {}
    for method, path, _status, seconds in browser.log:
        if method == "POST" and path.endswith("/import/"):
            kind = "upload"
        elif path.endswith("/confirm/"):
            kind = "confirm"
        elif re.search(r"/import/\d+/$", path):
            kind = "job page"
        else:
            kind = "login, Import page"
        count, worst = by_kind.get(kind, (0, 0.0))
        by_kind[kind] = (count + 1, max(worst, seconds))

    print(f"Big import, {args.rows:,} rows, {size_mb:.1f} MB XLSX")
    print(f"gunicorn {' '.join(command[3:])} (timeout {timeout} s)")
    for phase, seconds in phases.items():
        print(f"  {phase:<40} {seconds:8.1f} s")
    for kind, (count, worst) in by_kind.items():
        print(f"  {kind + ' requests':<28} {count:5d}, slowest {worst:6.2f} s")
    print(f"  {'rows imported':<40} {imported:>10,}")
    print(f"  {'worker peak memory (VmHWM)':<40} {worker_peak:8.0f} MB")
    print(f"  {'gunicorn workers killed on timeout':<40} {killed:8d}")
    print(f"  logs in {work}")

    slow = [entry for entry in browser.log if entry[3] >= timeout]
    failed = [entry for entry in browser.log if entry[2] == 0 or entry[2] >= 500]
    if slow:
        problems.append(f"{len(slow)} requests took the timeout or longer: {slow[:3]}")
    if failed:
        problems.append(f"{len(failed)} requests failed: {failed[:3]}")
    if killed:
        problems.append(f"gunicorn killed {killed} workers on its timeout")
    if final != "Imported" or imported != args.rows:
        problems.append(f"{imported:,} of {args.rows:,} rows imported")
    for problem in problems:
        print("FAILED:", problem)
    if not problems:
        print("every request answered within the timeout; every row imported")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
