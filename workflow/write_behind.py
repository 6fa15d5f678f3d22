"""Write-behind: an import's bulk writes run on its connection in a second thread while
the import plans its next batch.

On two cores an import's Python and PostgreSQL's work on its writes (the COPY of new
rows, the UPDATE … FROM of changed ones, their index upkeep) can each fill a core; run
one after the other, each waits for the other. Inside `write_behind()` the statements
given to `execute` (the bulk statements that write new and changed rows, and the
engine's write marker) are queued in order and run by one worker thread on the same
connection, in the same transaction, while the importing thread goes on in Python.

The order of the statements stays the order of the code, with one declared exception:

- any other statement first waits until every queued one has run (it may read them);
- statements inside `reads_ahead()` wait only for the queued statements already handed
  to the worker, and run before the others: for reads that do not depend on them. An
  import's planner reads that way (the preview plans every batch without writing, and
  the import has to plan the same), and so does taking keys from a sequence;
- `start()` hands the queued statements to the worker. Leaving the block waits for all
  of them; an error in one is raised in the importing thread, as Django's error, so the
  transaction rolls back and nothing is written.

The connection is never used by both threads at once: the importing thread waits for
the worker before each statement of its own. Only on PostgreSQL, and only where
`IMPORT_WRITE_BEHIND` is on; elsewhere the block changes nothing.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorDebugWrapper

# What a queued statement does, given a cursor of the driver on the import's connection.
Work = Callable[[Any], object]

# The worker needs Python's interpreter lock for a moment after each statement (to
# take the next one, to hand a COPY its rows, to read the result), and the importing
# thread holds that lock while it plans. Python makes a thread that holds it let go
# only every switch interval, 5 ms by default: about forty such waits per batch of an
# update, with the connection idle in each (a fifth of a realistic update of 20,000
# rows on two cores). While a block runs, the interval is 1 ms.
SWITCH_INTERVAL = 0.001
_switching = threading.Lock()
_blocks_running = 0
_switch_interval_before = 0.0


class WriteBehind:
    """The queue of one `write_behind()` block."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._driver_connection = connection.connection
        self._queued: list[Work] = []
        self._running: list[Future] = []
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="import-writes"
        )
        self._reading_ahead = False
        self._queuing = False
        self._failed = False
        # What the block's writers keep from one batch to the next (see `kept`).
        self.kept: dict[object, object] = {}

    def start(self) -> None:
        """Hand the queued statements to the worker."""
        if self._queued:
            work, self._queued = self._queued, []
            self._running.append(self._executor.submit(self._run, work))

    def wait(self) -> None:
        """Wait until the worker has run what it was handed; raise its first error."""
        running, self._running = self._running, []
        errors = [e for e in (f.exception() for f in running) if e is not None]
        if errors:
            # The driver's error, as Django raises it everywhere else (IntegrityError…).
            with self.connection.wrap_database_errors:
                raise errors[0]

    def flush(self) -> None:
        self.start()
        self.wait()

    @contextmanager
    def reads_ahead(self) -> Iterator[None]:
        """Statements inside run before the queued ones not yet started (see above)."""
        before, self._reading_ahead = self._reading_ahead, True
        try:
            yield
        finally:
            self._reading_ahead = before

    def _queue(self, work: Work) -> None:
        self._queued.append(work)

    def _run(self, work: list[Work]) -> None:
        if self._failed:
            return  # The transaction is lost; the first error is the one to report.
        try:
            with self._driver_connection.cursor() as cursor:
                for do in work:
                    do(cursor)
        except BaseException:
            self._failed = True
            raise

    def _abandon(self) -> None:
        """After an error in the importing thread: the transaction rolls back, so what
        is queued never runs; what runs is waited for (the connection is then free)."""
        self._queued = []
        running, self._running = self._running, []
        for future in running:
            future.exception()

    def _before_statement(self, execute, sql, params, many, context):
        if not self._queuing:
            if self._reading_ahead:
                self.wait()
            else:
                self.flush()
        return execute(sql, params, many, context)

    def _close(self) -> None:
        self._executor.shutdown(wait=True)


class _NoWriteBehind:
    """Where there is no write-behind: every statement runs when it is given."""

    def start(self) -> None:
        pass

    @contextmanager
    def reads_ahead(self) -> Iterator[None]:
        yield


_current: contextvars.ContextVar[WriteBehind | None] = contextvars.ContextVar(
    "write_behind", default=None
)


@contextmanager
def _quick_handover() -> Iterator[None]:
    """The shorter switch interval while any block runs in the process (imports may
    run in several threads at once): set by the first, put back by the last."""
    global _blocks_running, _switch_interval_before
    with _switching:
        if _blocks_running == 0:
            _switch_interval_before = sys.getswitchinterval()
            sys.setswitchinterval(min(SWITCH_INTERVAL, _switch_interval_before))
        _blocks_running += 1
    try:
        yield
    finally:
        with _switching:
            _blocks_running -= 1
            if _blocks_running == 0:
                sys.setswitchinterval(_switch_interval_before)


@contextmanager
def write_behind(
    using: str = DEFAULT_DB_ALIAS,
) -> Iterator[WriteBehind | _NoWriteBehind]:
    """Queue the bulk writes inside (see the module). Use inside the transaction."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not settings.IMPORT_WRITE_BEHIND:
        yield _NoWriteBehind()
        return
    connection.ensure_connection()
    queue = WriteBehind(connection)
    token = _current.set(queue)
    try:
        with _quick_handover(), connection.execute_wrapper(queue._before_statement):
            try:
                yield queue
            except BaseException:
                queue._abandon()
                raise
            queue.flush()
    finally:
        _current.reset(token)
        queue._close()


@contextmanager
def reads_ahead() -> Iterator[None]:
    """`WriteBehind.reads_ahead` of the block this runs in, if any."""
    queue = _current.get()
    if queue is None:
        yield
        return
    with queue.reads_ahead():
        yield


def kept(key: object, make: Callable[[], Any]) -> Any:
    """What the writers of the block this runs in keep under `key` until it ends (made
    by `make` at first); None outside a block."""
    queue = _current.get()
    if queue is None:
        return None
    if key not in queue.kept:
        queue.kept[key] = make()
    return queue.kept[key]


def execute(cursor: Any, statement: str, work: Work, params: Any = None) -> None:
    """Run `work` as `statement` on `cursor`'s connection, or queue it there behind the
    block's other writes. Either way it passes Django's execute wrappers and query log
    (counted and logged as it is queued), so query counts see it."""
    queue = _current.get()
    if queue is not None and queue.connection is not cursor.db:
        queue = None

    def run_now(sql, params, many, context):
        cursor.db.validate_no_broken_transaction()
        with cursor.db.wrap_database_errors:
            return work(context["cursor"].cursor)

    def put_in_queue(sql, params, many, context):
        assert queue is not None
        queue._queue(work)

    executor = run_now if queue is None else put_in_queue
    if queue is not None:
        queue._queuing = True
    try:
        if isinstance(cursor, CursorDebugWrapper):
            with cursor.debug_sql(statement, params):
                cursor._execute_with_wrappers(statement, params, False, executor)
        else:
            cursor._execute_with_wrappers(statement, params, False, executor)
    finally:
        if queue is not None:
            queue._queuing = False
