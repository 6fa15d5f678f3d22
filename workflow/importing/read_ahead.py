"""Read ahead: a second process reads the file, parses its cells and checks their values
while the import plans and writes the batches before.

On two cores an import's Python work fills one core, and PostgreSQL's work on its writes
fills only part of the other. What a batch needs that looks at nothing but the file (the
CSV or the workbook read, each cell parsed, each value checked by its field's own
validators: an IBAN, a length, a number's digits) moves to a process forked when the
import starts, which works a few batches ahead; the importing process takes each batch
with the verdicts on its values and keeps everything that reads or writes the database,
and every decision, as before.

Only the verdicts on values that pass come back: a value that fails is checked again
where the refusal is shown, so its message is the same word for word. Anything the
reading process raises arrives where the batch it was reading would have: a file that
turns out to be damaged halfway is refused after the rows above the damage, as when it
is read in one process.

The process is forked (it starts at once, with the import's planner as it is, and opens
the file by itself): only where the platform forks, for files of at least
`IMPORT_READ_AHEAD_MIN_BYTES`, and before the import's writer thread starts. It never
touches the database. It closes its own copies of the sockets it inherited (which sends
nothing: the importing process's connections stay open) and never asks the driver to
close a connection, which would end the importing process's sessions; it dies with the
importing process (`_detach`).
"""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import multiprocessing
import os
import queue
import signal
import stat
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy

from .plan import ImportPlanner, Parsed, RowPlan
from .reading import FileRefused

logger = logging.getLogger(__name__)

# Batches the reading process may be ahead: the memory stays flat in the file's size.
AHEAD_BATCHES = 4
# How often each process looks whether the other still runs, while it waits for it.
POLL_SECONDS = 1.0
# prctl(2): the signal a process gets when the thread that forked it ends.
PR_SET_PDEATHSIG = 1


@dataclass
class ParsedBatch:
    """A batch's rows parsed, and the passing verdicts on their values (attname ->
    value key -> verdict), for `FieldChecks.take_ahead`."""

    parsed: list[Parsed]
    verdicts: dict[str, dict] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.parsed)

    def __getitem__(self, rows: slice) -> ParsedBatch:
        return ParsedBatch(self.parsed[rows], self.verdicts)

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # What parsing gives a row's plan (its line, key and cell errors) travels as
        # plain values: a plan pickled as an object costs the importing process,
        # which unpickles every batch, about twice as much. A plan that holds more
        # travels whole.
        if all(_only_parsed(plan) for plan, _values in self.parsed):
            rows = [
                (plan.line, plan.key, plan.errors, values)
                for plan, values in self.parsed
            ]
            return (_parsed_batch, (rows, self.verdicts))
        return (ParsedBatch, (self.parsed, self.verdicts))


# What parsing leaves of a plan's fields at their defaults.
_UNPARSED_DEFAULTS = [
    (f.name, getattr(RowPlan(line=0, key=""), f.name))
    for f in dataclasses.fields(RowPlan)
    if f.name not in {"line", "key", "errors"}
]


def _only_parsed(plan: RowPlan) -> bool:
    """Whether `plan` holds nothing but what parsing gives it."""
    return all(getattr(plan, name) == default for name, default in _UNPARSED_DEFAULTS)


def _parsed_batch(
    rows: list[tuple[int, str, list, dict[str, object]]],
    verdicts: dict[str, dict],
) -> ParsedBatch:
    parsed = []
    for line, key, errors, values in rows:
        plan = RowPlan(line=line, key=key, errors=errors)
        parsed.append((plan, values))
    return ParsedBatch(parsed, verdicts)


READING_STOPPED = gettext_lazy(
    "The file could not be read to the end: the process reading it stopped, so "
    "nothing was imported. Import the file again; if this happens again, tell your "
    "administrator."
)


class ReadingFailed(FileRefused):
    """The reading process ended without finishing the file (killed, or a bug): the
    import is refused in plain words, and the reason is logged for the administrator."""

    def __init__(self, detail: str) -> None:
        super().__init__(str(READING_STOPPED))
        logger.error("Reading an import file ahead failed: %s", detail)


def read_ahead_wanted(path: Path | str) -> bool:
    """Whether a file is large enough to be read in a second process, where one can be
    forked."""
    if not settings.IMPORT_READ_AHEAD:
        return False
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    return Path(path).stat().st_size >= settings.IMPORT_READ_AHEAD_MIN_BYTES


class ReadAhead:
    """The batches of the file the planner opened, parsed: read in a second process
    (`in_second_process`) or, for a small file, here. Iterate once; `close()` always."""

    def __init__(
        self, planner: ImportPlanner, columns: list[str], *, in_second_process: bool
    ) -> None:
        self.planner = planner
        self.columns = columns
        self._process: multiprocessing.process.BaseProcess | None = None
        self._queue: multiprocessing.queues.Queue | None = None
        if in_second_process:
            context = multiprocessing.get_context("fork")
            self._queue = context.Queue(maxsize=AHEAD_BATCHES)
            self._process = context.Process(
                target=_read,
                args=(planner, columns, self._queue, os.getpid()),
                daemon=True,
            )
            self._process.start()

    def __iter__(self) -> Iterator[ParsedBatch]:
        if self._process is None:
            for rows in self.planner.batches():
                yield ParsedBatch(self.planner.parse_batch(rows, self.columns))
            return
        while True:
            kind, content = self._next_message()
            if kind == "batch":
                yield content
            elif kind == "end":
                return
            elif kind == "refused":
                raise FileRefused(content)
            else:
                raise ReadingFailed(content)

    def _next_message(self) -> tuple[str, object]:
        assert self._queue is not None and self._process is not None
        while True:
            try:
                return self._queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not self._process.is_alive():
                    # Its last message may have arrived after the timeout.
                    try:
                        return self._queue.get(timeout=POLL_SECONDS)
                    except queue.Empty:
                        raise ReadingFailed(
                            f"the process reading the file ended with exit code "
                            f"{self._process.exitcode}"
                        ) from None

    def close(self) -> None:
        """Stop the reading process, wherever it is (an import may stop early)."""
        if self._process is not None:
            self._process.kill()
            self._process.join()
            self._process.close()
            self._process = None
        if self._queue is not None:
            self._queue.close()
            self._queue.cancel_join_thread()
            self._queue = None


def _read(
    planner: ImportPlanner, columns: list[str], out: multiprocessing.Queue, parent: int
) -> None:
    """The reading process: every batch parsed and its values checked, then "end"; or
    why the file could not be read through."""
    _detach(parent)
    try:
        for rows in planner.batches():
            parsed = planner.parse_batch(rows, columns)
            verdicts = planner.checks.verdicts_ahead(values for _plan, values in parsed)
            _put(out, ("batch", ParsedBatch(parsed, verdicts)), parent)
        _put(out, ("end", None), parent)
    except FileRefused as refused:
        _put(out, ("refused", refused.message), parent)
    except BaseException:  # noqa: BLE001 - reported in the importing process
        _put(out, ("failed", traceback.format_exc()), parent)
    # The queue's thread hands the last message over before the process exits.
    out.close()
    out.join_thread()


def _detach(parent: int) -> None:
    """The reading process never outlives the importing one, nor keeps its database
    sessions open: a killed worker's import must end, and its row locks with it.

    It closes its copies of every socket it inherited (the database connections among
    them: closing a copy sends nothing, the importing process's own stays open), and
    on Linux asks to be killed when the importing process dies.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)  # It died before the request above was made.
    listed = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"
    for name in os.listdir(listed):
        try:
            if stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                os.close(int(name))
        except OSError:
            pass  # The descriptor of the listing itself, gone by now.


def _put(out: multiprocessing.Queue, message: tuple[str, object], parent: int) -> None:
    """Wait until the importing process takes a batch, as long as it lives."""
    while True:
        try:
            out.put(message, timeout=POLL_SECONDS)
            return
        except queue.Full:
            if os.getppid() != parent:
                os._exit(1)
