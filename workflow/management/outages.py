"""What keeps the long-running commands going through a database outage: a back-off,
dropping dead connections, and the heartbeat that /health/ reads.

Connections are health-checked before each pass (CONN_HEALTH_CHECKS), so a connection
the database dropped while the process slept is simply opened again. A connection lost
in the middle of a pass raises OperationalError or InterfaceError: the pass is given up
(each of its writes is a transaction of its own, so nothing is half written), the
process waits, longer after each failure up to a limit, and tries again.
"""

from __future__ import annotations

import datetime
import logging
import os
import random
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connections,
)
from django.utils import timezone

from ..services.heartbeats import process_heartbeat_forget, process_heartbeat_record

logger = logging.getLogger("custapproval.outages")

# What a lost or refused connection raises (psycopg2's, as Django wraps them).
OUTAGES = (OperationalError, InterfaceError)


class Backoff:
    """Waits that double from `first` up to `longest` seconds, with up to a quarter
    more at random so that many processes do not all come back at the same moment."""

    def __init__(self, *, first: float = 1.0, longest: float = 30.0) -> None:
        self.first = first
        self.longest = longest
        self.failures = 0

    def next(self) -> float:
        self.failures += 1
        wait = min(self.longest, self.first * 2 ** (self.failures - 1))
        return wait * (1 + random.random() / 4)  # noqa: S311 - jitter, not a secret

    def reset(self) -> None:
        self.failures = 0


def drop_connections() -> None:
    """Close this thread's connections whatever state they are in; the next query
    opens new ones."""
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except DatabaseError:
            connection.connection = None


def describe(error: BaseException) -> str:
    """The first line of a database error: enough to recognise the outage, no query."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class Heartbeat:
    """This process's row in the heartbeats: `process` is its kind, its name the host
    (the container) and process id."""

    def __init__(self, process: str) -> None:
        self.process = process
        self.name = f"{socket.gethostname()}:{os.getpid()}"[:150]
        self.started_at = timezone.now()
        self._stop = threading.Event()

    def beat(self, *, late_after: datetime.timedelta) -> bool:
        """Record a sign of life; False, and a warning, when the database is away."""
        try:
            process_heartbeat_record(
                process=self.process,
                name=self.name,
                started_at=self.started_at,
                late_after=late_after,
            )
        except DatabaseError as error:
            logger.warning(
                "%s: no heartbeat recorded: %s",
                self.process,
                describe(error),
                extra={"event": "heartbeat_failed", "loop": self.process},
            )
            drop_connections()
            return False
        return True

    def forget(self) -> None:
        try:
            process_heartbeat_forget(name=self.name)
        except DatabaseError:
            pass

    def beat_in_background(self) -> threading.Thread:
        """Beat every HEARTBEAT_SECONDS from a thread of its own (with a connection of
        its own), also while a long task runs; late after three missed beats."""
        interval = settings.HEARTBEAT_SECONDS
        late_after = datetime.timedelta(seconds=3 * interval)

        def run() -> None:
            while not self._stop.is_set():
                close_old_connections()
                self.beat(late_after=late_after)
                self._stop.wait(interval)
            connections.close_all()

        thread = threading.Thread(target=run, name=f"{self.process}-heartbeat")
        thread.daemon = True
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()


def keep_running(
    *,
    process: str,
    every: int,
    step: Callable[[], str],
    write: Callable[[str], object],
    sleep: Callable[[float], object] = time.sleep,
) -> None:
    """Run `step` once, or every `every` seconds for as long as the process lives,
    writing what it reports. With `every`, a failed pass is logged and tried again
    after a back-off (a lost connection as a warning, anything else with its
    traceback), and each pass that succeeds is a heartbeat, late after two missed
    passes and half a minute."""
    if not every:
        write(step())
        return
    if threading.current_thread() is threading.main_thread():
        # `docker compose stop` sends SIGTERM: leave through `finally`, which forgets
        # the heartbeat. A pass stopped half-way rolls back its transaction.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    heartbeat = Heartbeat(process)
    late_after = datetime.timedelta(seconds=2 * every + 30)
    backoff = Backoff(longest=min(30.0, max(1.0, float(every))))
    try:
        while True:
            # A connection the database dropped while this process slept is replaced.
            close_old_connections()
            try:
                report = step()
            except Exception as error:  # noqa: BLE001 - logged, retried after a wait
                wait = backoff.next()
                extra = {"event": "pass_failed", "loop": process, "retry_in": wait}
                if isinstance(error, OUTAGES):
                    logger.warning(
                        "%s: lost the database (%s); trying again in %.1f s",
                        process,
                        describe(error),
                        wait,
                        extra=extra,
                    )
                else:
                    logger.exception(
                        "%s: the pass failed; trying again in %.1f s",
                        process,
                        wait,
                        extra=extra,
                    )
                drop_connections()
                sleep(wait)
                continue
            backoff.reset()
            write(report)
            heartbeat.beat(late_after=late_after)
            sleep(every)
    finally:
        heartbeat.forget()
