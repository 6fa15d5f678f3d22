"""django-tasks-db's `db_worker`, made to outlive database outages and to beat.

`db_worker` (django-tasks-db 0.13) stops for good when its connection is lost: a
failure while it looks for the next task is raised out of its loop, and a task that
lost the connection fails, after which recording that failure on the same dead
connection raises out of the loop too, leaving the task "Running" for ever. This
command takes the same options and runs the same worker, except that:

- a lost connection while it looks for work is logged, waited out (a back-off) and
  the loop goes on with new connections;
- a task whose result could not be recorded is recorded, once the database answers
  again, as failed with the error that interrupted it, and the worker goes on with
  the next task;
- a thread records a heartbeat every HEARTBEAT_SECONDS, which /health/ reads.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import CommandError
from django_tasks_db.compat import task_finished
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from ..outages import OUTAGES, Backoff, Heartbeat, describe, drop_connections

logger = logging.getLogger("custapproval.outages")


class Worker(db_worker.Worker):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.backoff = Backoff()

    def run(self) -> None:
        """django-tasks-db's loop, entered again after a database outage."""
        while True:
            try:
                super().run()
                return
            except OUTAGES as error:
                if not self.running:
                    return
                self._wait_out(error, doing="looking for tasks")

    def run_task(self, db_task_result: DBTaskResult) -> None:
        try:
            super().run_task(db_task_result)
        except OUTAGES as error:
            # The task failed or finished, and recording it met the lost connection.
            self._record_failure(db_task_result, error)
        self.backoff.reset()

    def _record_failure(
        self, db_task_result: DBTaskResult, error: BaseException
    ) -> None:
        self.running_task = True
        try:
            while True:
                self._wait_out(error, doing=f"recording task {db_task_result.id}")
                try:
                    db_task_result.set_failed(error)
                except OUTAGES as again:
                    error = again
                    continue
                break
            task_finished.send(
                sender=type(db_task_result.task.get_backend()),
                task_result=db_task_result.task_result,
            )
        finally:
            self.running_task = False

    def _wait_out(self, error: BaseException, *, doing: str) -> None:
        wait = self.backoff.next()
        logger.warning(
            "worker %s lost the database while %s (%s); trying again in %.1f s",
            self.worker_id,
            doing,
            describe(error),
            wait,
            extra={
                "event": "worker_outage",
                "worker": self.worker_id,
                "retry_in": wait,
            },
        )
        drop_connections()
        # A SIGTERM during the wait stops the worker, as during its idle sleep.
        time.sleep(wait)


class Command(db_worker.Command):
    help = (
        "Run a database background worker (django-tasks-db's db_worker, with its "
        "options, without --reload) that keeps going through database outages and "
        "records a heartbeat."
    )

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options: Any,
    ) -> None:
        """db_worker's own start, less the reloader (for development, use db_worker)."""
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded,
        )
        heartbeat = Heartbeat("worker")
        heartbeat.beat_in_background()
        worker.configure_signals()
        try:
            worker.run()
        finally:
            heartbeat.stop()
            heartbeat.forget()
