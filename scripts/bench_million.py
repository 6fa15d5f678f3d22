"""Section 9 of `make bench`, opt-in: a million rows end to end beside COPY (issue 17).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/custapproval make bench BENCH_ARGS="--million"
    make bench BENCH_ARGS="--million --million-rows 50000"        # a trial

Writes the realistic files of `bench.py` (`write_csv`: new customers; the update of
every row with the realistic mix, MIX) and times, in the scratch database of
`bench.py`, into the same indexed customer table:

- raw COPY of the same rows (`copy_customers`; for the update, COPY into a temporary
  table and one UPDATE … FROM: `copy_update_from`), the floor;
- (a) `manage.py import_customers FILE --user clerk` end to end, in a process of its
  own (Django's start included);
- (b) the Import page's background path as the worker runs it, through the services
  in a process of its own: the upload written to a temporary file as Django's upload
  handler writes it (timed apart: it is the network's time), then
  `import_job_create`, `import_job_preview`, `import_job_confirm`, `import_job_run`.

Each is run once (a million rows take minutes). Reported: wall seconds, rows/s, the
ratio to COPY (the goal: within 3x of COPY) and the peak memory of the process (its
VmHWM, the peak resident set, read by the process as it ends), beside the same process
on a 1,000-row file: memory flat in the file size means the two are close.
IMPORT_FULL_PREVIEW_ROWS from the environment reaches the processes (the page's
preview checks that many first rows of a larger file).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402  (sets the environment Django reads)

ROOT = bench.ROOT
BASELINE_ROWS = 1_000


def scratch_environment(work: Path) -> dict[str, str]:
    """The environment of a process that works in bench.py's scratch database."""
    from django.db import connection

    url = urlsplit(os.environ["DATABASE_URL"])
    name = connection.settings_dict["NAME"]
    return {
        **os.environ,
        "DATABASE_URL": url._replace(path=f"/{name}").geturl(),
        "MEDIA_ROOT": str(work / "media"),
        "PYTHONPATH": str(ROOT),
    }


def peak_memory_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB. Read by the process itself:
    Linux counts into a child's ru_maxrss what its parent held when it was forked."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_process(command: list[str], env: dict[str, str]) -> dict:
    """Runs `command` (this script in one of its modes) to its end: wall seconds and
    what it printed last as JSON (its peak memory and, for the page, its steps)."""
    started = time.perf_counter()
    finished = subprocess.run(command, cwd=ROOT, env=env, capture_output=True)
    seconds = time.perf_counter() - started
    printed = finished.stdout.decode()
    if finished.returncode:
        raise SystemExit(
            f"{' '.join(command[1:5])} … failed ({finished.returncode}):\n"
            f"{printed[-2000:]}\n{finished.stderr.decode()[-2000:]}"
        )
    return {"seconds": seconds, **json.loads(printed.strip().splitlines()[-1])}


def command_run(path: Path, behaviour: str, env: dict[str, str]) -> dict:
    return run_process(
        [sys.executable, __file__, "command", str(path), "--behaviour", behaviour], env
    )


def page_run(path: Path, behaviour: str, env: dict[str, str]) -> dict:
    return run_process(
        [sys.executable, __file__, "page", str(path), "--behaviour", behaviour], env
    )


def command_path(path: Path, behaviour: str) -> None:
    """In a process of its own: `manage.py import_customers` as a shell runs it;
    prints the process's peak memory as JSON after the command's own output."""
    from django.core.management import execute_from_command_line

    execute_from_command_line(
        ["manage.py", "import_customers", str(path), "--user", "clerk"]
        + ["--behaviour", behaviour]
    )
    print(json.dumps({"peak_mb": peak_memory_mb()}))


def page_path(path: Path, behaviour: str) -> None:
    """In a process of its own: the Import page's background path on `path`, each
    step timed; prints the times as JSON."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import TemporaryUploadedFile

    from customers.models import Customer
    from workflow import services
    from workflow.importing.plan import ImportOptions
    from workflow.models import ImportJobState

    clerk = get_user_model()._default_manager.get(username="clerk")
    times: dict[str, float] = {}

    def timed(step: str, started: float) -> None:
        times[step] = time.perf_counter() - started

    started = time.perf_counter()
    # As Django's TemporaryFileUploadHandler writes an upload while its bytes arrive.
    upload = TemporaryUploadedFile(path.name, "text/csv", 0, None)
    with path.open("rb") as source:
        shutil.copyfileobj(source, upload.file, 1 << 20)
    upload.file.flush()
    upload.size = upload.file.tell()
    upload.file.seek(0)
    timed("upload", started)
    started = time.perf_counter()
    job = services.import_job_create(
        model=Customer,
        upload=upload,
        options=ImportOptions(behaviour=behaviour),
        actor=clerk,
    )
    timed("create", started)
    started = time.perf_counter()
    job = services.import_job_preview(job=job)
    timed("preview", started)
    if job.state != ImportJobState.PREVIEWED:
        raise SystemExit(f"the preview did not pass: {job.state} {job.preview}")
    preview_rows = job.preview["total_rows"]
    started = time.perf_counter()
    job = services.import_job_confirm(job=job, actor=clerk)
    job = services.import_job_run(job=job)
    timed("import", started)
    if job.state != ImportJobState.APPLIED:
        raise SystemExit(f"the import failed: {job.message} {job.result}")
    print(
        json.dumps(
            {
                "steps": times,
                "preview_rows": preview_rows,
                "imported_rows": job.result["total_rows"],
                "peak_mb": peak_memory_mb(),
            }
        )
    )


def million_section(
    *, rows: int, users: dict, work: Path, progress
) -> list[tuple[str, str]]:
    """Section 9 of `make bench`: `rows` rows through the command and the Import
    page's background path, beside COPY of the same rows."""
    from django.conf import settings

    table: list[tuple[str, str]] = []
    env = scratch_environment(work)
    (work / "media").mkdir(exist_ok=True)
    files = {
        ("create", size): work / f"million_create_{size}.csv"
        for size in (rows, BASELINE_ROWS)
    } | {
        ("update", size): work / f"million_update_{size}.csv"
        for size in (rows, BASELINE_ROWS)
    }
    for (kind, size), path in files.items():
        bench.write_csv(path, size, changed=kind == "update")
    size_mb = files["create", rows].stat().st_size / 1e6
    table.append(
        (
            f"9. files of {rows:,} rows, MB: create / update",
            f"{size_mb:.0f} / {files['update', rows].stat().st_size / 1e6:.0f} "
            f"(preview of the page checks the first {settings.IMPORT_FULL_PREVIEW_ROWS:,}"
            " rows of a larger file; IMPORT_FULL_PREVIEW_ROWS)",
        )
    )

    def prepare(kind: str, size: int) -> None:
        """The book before each run: no bench customers (create), or the rows the
        update file changes, written by COPY (update). Vacuumed, so that no contender
        inherits the dead rows of the one before it (a million deleted rows with the
        same keys) or an autovacuum of them running beside it."""
        bench.reset_bench_rows()
        if kind == "update":
            bench.copy_customers(size)
        bench.sql("VACUUM ANALYZE customers_customer")

    for kind, behaviour in (("create", "allow"), ("update", "propose")):
        progress(f"9. {kind}: {rows:,} rows, COPY, the command and the Import page")
        bench.approvals(kind == "update", users["admin"])
        path = files[kind, rows]
        prepare(kind, rows)
        started = time.perf_counter()
        if kind == "create":
            bench.copy_customers(rows)
        else:
            bench.copy_update_from(path)
        copy_s = time.perf_counter() - started
        floor = "raw COPY" if kind == "create" else "COPY + UPDATE FROM"
        table.append(
            (
                f"9. {kind}, {floor} of {rows:,} rows: s, rows/s",
                f"{copy_s:.1f}, {rows / copy_s:,.0f}",
            )
        )
        for name, run in (
            ("(a) import_customers command", command_run),
            ("(b) Import page, background path", page_run),
        ):
            prepare(kind, BASELINE_ROWS)
            baseline = run(files[kind, BASELINE_ROWS], behaviour, env)
            prepare(kind, rows)
            result = run(path, behaviour, env)
            seconds = result["seconds"]
            if "steps" in result:
                steps = result["steps"]
                seconds = sum(s for step, s in steps.items() if step != "upload")
                table.append(
                    (
                        f"9. {kind}, {name}: s per step",
                        "upload to a temporary file {upload:.1f} (not counted), "
                        "create {create:.1f}, preview {preview:.1f} "
                        f"({result['preview_rows']:,} rows checked), "
                        "confirm and import {import:.1f}".format(**steps),
                    )
                )
            table.append(
                (
                    f"9. {kind}, {name}: s, rows/s, / COPY (goal within 3x of COPY)",
                    f"{seconds:.1f}, {rows / seconds:,.0f}, {seconds / copy_s:.1f}x",
                )
            )
            table.append(
                (
                    f"9. {kind}, {name}: peak memory of the process, MB "
                    f"({rows:,} / {BASELINE_ROWS:,} rows)",
                    f"{result['peak_mb']:.0f} / {baseline['peak_mb']:.0f}",
                )
            )
    return table


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", choices=["command", "page"])
    parser.add_argument("file", type=Path)
    parser.add_argument("--behaviour", required=True)
    arguments = parser.parse_args()
    run = command_path if arguments.path == "command" else page_path
    run(arguments.file, arguments.behaviour)
