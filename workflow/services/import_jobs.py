"""Import jobs whose worker died, and the uploaded files of jobs that ended.

A check or an import renews its job's lease (`heartbeat_at`) while it works, from a
thread of its own and on the "progress" connection, so the renewal is seen while the
import's own transaction is open. A job whose lease ran out lost its worker (killed,
out of memory, a restart): its check starts again, since a check writes nothing; its
import is offered for confirming again, since an import is all or nothing and a dead
one wrote nothing. Nothing is retried behind the user's back: an import runs only when
its owner confirms it. A file that stops its worker again and again fails for good.

A worker that was taken for dead but still runs finds out before it commits: it
checks, holding the job's row, that the job is still its own, and rolls back if not.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    OperationalError,
    connections,
    transaction,
)
from django.db.models.functions import Coalesce
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy, ngettext_lazy

from .. import selectors
from ..importing.plan import ImportReport
from ..models import ImportJob, ImportJobState

logger = logging.getLogger(__name__)

RUN_INTERRUPTED = gettext_lazy(
    "The import stopped without finishing: the background worker gave no sign of life "
    "after %(time)s. Nothing was imported; you can confirm the import again."
)
CHECK_INTERRUPTED = gettext_lazy(
    "The check of the file stopped without finishing: the background worker gave no "
    "sign of life after %(time)s. The file is being checked again."
)
GAVE_UP = gettext_lazy(
    "The work on this file stopped without finishing %(count)s times; the background "
    "worker last gave a sign of life at %(time)s. Nothing was imported. Ask your "
    "administrator whether the worker is running before you upload the file again."
)
ABANDONED = ngettext_lazy(
    "The preview was not confirmed within %(days)s day, so the file can no longer "
    "be imported. Upload it again to import it.",
    "The preview was not confirmed within %(days)s days, so the file can no longer "
    "be imported. Upload it again to import it.",
    "days",
)

# A job in these states has a worker on it once its lease was first taken.
WORKING = (ImportJobState.PREVIEWING, ImportJobState.APPLYING)
# A job in these states will never be worked on again: its file may go.
ENDED = (ImportJobState.APPLIED, ImportJobState.FAILED, ImportJobState.INVALID)


# How often an import or its check writes the rows it has done (see JobLease.progress).
PROGRESS_SECONDS = 1.0


class LeaseLost(Exception):
    """The job was given back or ended while this worker was still on it."""


class JobLease:
    """A worker's hold on one job in one state; renewed while the work goes on.

    Use as a context manager around the work. Where the database has a second
    connection (PostgreSQL, "progress"), a thread renews the lease on it every quarter
    of IMPORT_LEASE_SECONDS, also while a long batch or the final commit runs; without
    one (SQLite), the lease is renewed by `progress` only outside a transaction.
    """

    def __init__(self, job: ImportJob, state: str):
        self.job_id = job.pk
        self.state = state
        self.token = job.interruptions
        self.alias = (
            "progress" if "progress" in settings.DATABASES else DEFAULT_DB_ALIAS
        )
        # Renewals from a thread need a connection that may write while the import's
        # transaction is open; SQLite has none.
        self.beating = self.alias != DEFAULT_DB_ALIAS
        self.lost = threading.Event()
        self._progress_written: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def held_by(self, job: ImportJob) -> bool:
        """Whether the job as it stands now is still this lease's work."""
        return job.state == self.state and job.interruptions == self.token

    def renew(self, **fields: object) -> None:
        """A sign of life, with `fields` (the rows done); notes a lease taken away."""
        if (
            self.alias == DEFAULT_DB_ALIAS
            and transaction.get_connection().in_atomic_block
        ):
            return
        updated = (
            ImportJob.objects.using(self.alias)
            .filter(pk=self.job_id, state=self.state, interruptions=self.token)
            .update(heartbeat_at=timezone.now(), **fields)
        )
        if not updated:
            self.lost.set()

    def progress(self, report: ImportReport) -> None:
        """The import's progress callback: rows done, and stop if the job was taken.

        The rows done are written after the first batch and then at most every
        PROGRESS_SECONDS: a statement per batch would cost a large import seconds for
        a page that shows the count every few seconds. Whether the job was taken is
        looked at after every batch."""
        now = time.monotonic()
        if self._progress_written is None or (
            now - self._progress_written >= PROGRESS_SECONDS
        ):
            self._progress_written = now
            self.renew(processed_rows=report.total_rows)
        if self.lost.is_set():
            raise LeaseLost

    def __enter__(self) -> JobLease:
        if self.beating:
            self._thread = threading.Thread(
                target=self._beat, name=f"import-job-{self.job_id}-lease", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        interval = max(settings.IMPORT_LEASE_SECONDS / 4, 0.1)
        try:
            while not self._stop.wait(interval):
                try:
                    self.renew()
                except DatabaseError:
                    # One missed beat is not yet a lost lease; the next one may pass.
                    logger.warning(
                        "Could not renew the lease of import job %s", self.job_id
                    )
        finally:
            connections[self.alias].close()


def import_job_lease(*, job: ImportJob, state: str) -> JobLease | None:
    """Take the lease of a job that waits for this work, or None if it waits no more."""
    lease = JobLease(job, state)
    taken = ImportJob.objects.filter(
        pk=job.pk, state=state, interruptions=lease.token
    ).update(heartbeat_at=timezone.now())
    return lease if taken else None


def _lease_cutoff(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.IMPORT_LEASE_SECONDS)


def _language_of(user_id: int) -> str:
    return selectors.user_languages([user_id]).get(user_id, settings.LANGUAGE_CODE)


# Queues the check of a job again (the task lives above the services, so the caller
# that may enqueue it hands it in).
Recheck = Callable[[int], object]


def _expire(pk: int, now: datetime, recheck: Recheck) -> bool:
    """Give back or end one job whose lease ran out; False if it is alive after all."""
    try:
        return _expire_locked(pk, now, recheck)
    except OperationalError:
        # SQLite: a worker writing its import holds the whole database, so it is
        # alive; anywhere, the next round tries again.
        logger.warning("Could not recover import job %s now", pk, exc_info=True)
        return False


def _expire_locked(pk: int, now: datetime, recheck: Recheck) -> bool:
    with transaction.atomic():
        # A worker that holds the row is committing right now: it is alive.
        job = (
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, state__in=WORKING, heartbeat_at__lt=_lease_cutoff(now))
            .first()
        )
        if job is None:
            return False
        final = job.interruptions + 1 >= settings.IMPORT_MAX_INTERRUPTIONS
        checking = job.state == ImportJobState.PREVIEWING
        with translation.override(_language_of(job.created_by_id)):
            last_seen = formats.localize(timezone.localtime(job.heartbeat_at))
            if final:
                message = GAVE_UP % {
                    "count": job.interruptions + 1,
                    "time": last_seen,
                }
            elif checking:
                message = CHECK_INTERRUPTED % {"time": last_seen}
            else:
                message = RUN_INTERRUPTED % {"time": last_seen}
        job.expire_lease(message=str(message), final=final, at=now)
        job.save(
            update_fields=[
                "state",
                "interruptions",
                "message",
                "processed_rows",
                "heartbeat_at",
                "finished_at",
            ]
        )
        if checking and not final:
            transaction.on_commit(lambda: recheck(pk))
    logger.warning(
        "Import job %s had no worker since %s; now %s", pk, last_seen, job.state
    )
    return True


def import_jobs_recover(*, recheck: Recheck, now: datetime | None = None) -> int:
    """Find the jobs whose worker died (no sign of life for IMPORT_LEASE_SECONDS).

    A check starts again in the background; an import goes back to "Ready to import"
    for its owner to confirm again; after IMPORT_MAX_INTERRUPTIONS a job fails for
    good. Each says why on its page. `recheck(job_id)` queues a check again, once
    the recovery is committed. Returns how many jobs were recovered.
    """
    now = now or timezone.now()
    stale = ImportJob.objects.filter(
        state__in=WORKING, heartbeat_at__lt=_lease_cutoff(now)
    ).values_list("pk", flat=True)
    return sum(_expire(pk, now, recheck) for pk in list(stale))


def import_job_recover(
    *, job: ImportJob, recheck: Recheck, now: datetime | None = None
) -> ImportJob:
    """The same for one job, when its page is opened: costs nothing while it is alive."""
    now = now or timezone.now()
    if (
        job.state in WORKING
        and job.heartbeat_at is not None
        and job.heartbeat_at < _lease_cutoff(now)
        and _expire(job.pk, now, recheck)
    ):
        job.refresh_from_db()
    return job


def import_files_clean_up(*, now: datetime | None = None) -> int:
    """Remove the uploaded files of jobs that ended over IMPORT_FILE_RETENTION_DAYS ago.

    A preview nobody confirmed within IMPORT_CONFIRM_DAYS is abandoned first, with the
    reason on its page. The file of a job that can still be confirmed, waits for a
    worker or is worked on is never removed. Files no job refers to (an upload cut off
    before its job was saved) go after the retention too. Returns how many files were
    removed.
    """
    now = now or timezone.now()
    days = settings.IMPORT_CONFIRM_DAYS
    waiting = (
        ImportJob.objects.filter(state=ImportJobState.PREVIEWED)
        .alias(since=Coalesce("heartbeat_at", "created_at"))
        .filter(since__lt=now - timedelta(days=days))
        .values_list("pk", flat=True)
    )
    for pk in list(waiting):
        with transaction.atomic():
            job = (
                ImportJob.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, state=ImportJobState.PREVIEWED)
                .first()
            )
            if job is None:
                continue
            with translation.override(_language_of(job.created_by_id)):
                message = str(ABANDONED % {"days": days})
            job.abandon(message=message, at=now)
            job.save(update_fields=["state", "message", "finished_at"])

    removed = 0
    cutoff = now - timedelta(days=settings.IMPORT_FILE_RETENTION_DAYS)
    ended = (
        ImportJob.objects.filter(state__in=ENDED)
        .exclude(file="")
        .alias(ended=Coalesce("finished_at", "created_at"))
        .filter(ended__lt=cutoff)
        .values_list("pk", flat=True)
    )
    for pk in list(ended):
        with transaction.atomic():
            job = (
                ImportJob.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, state__in=ENDED)
                .exclude(file="")
                .first()
            )
            if job is None:
                continue
            name, storage = job.file.name, job.file.storage
            job.file = ""
            job.save(update_fields=["file"])
        # Only once no job refers to it any more.
        storage.delete(name)
        removed += 1
    return removed + _orphans_remove(cutoff)


def _orphans_remove(cutoff: datetime) -> int:
    """Files under imports/ older than `cutoff` that no job refers to."""
    storage = ImportJob._meta.get_field("file").storage
    known = set(ImportJob.objects.exclude(file="").values_list("file", flat=True))
    removed = 0
    folders = ["imports"]
    while folders:
        folder = folders.pop()
        try:
            subfolders, files = storage.listdir(folder)
        except FileNotFoundError:
            continue
        folders += [f"{folder}/{name}" for name in subfolders]
        for name in files:
            path = f"{folder}/{name}"
            if path not in known and storage.get_modified_time(path) < cutoff:
                storage.delete(path)
                removed += 1
    return removed
