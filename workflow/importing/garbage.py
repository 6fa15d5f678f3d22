"""Fewer garbage collections while a file is imported.

An import makes and drops hundreds of thousands of small objects (rows, plans,
records). Python's cycle collector runs after every 700 new container objects, and
each of its full passes walks every object of the process, Django's own included: a
tenth of an import's time went to collections that found almost nothing, since an
import's objects are freed by reference counting as each batch ends.

While an import runs, the objects that were there before it are set aside
(`gc.freeze`: a full pass skips them, and a forked reading process shares their
memory instead of copying it as the collector touches them) and the collector waits
for more new objects between passes. Both are put back when the last import of the
process ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# New container objects between two young collections while an import runs (Python's
# default is 700); the older generations keep their ratios.
IMPORT_THRESHOLD = 20_000

_lock = threading.Lock()
_running = 0
_thresholds: tuple[int, ...] = ()


@contextmanager
def fewer_collections() -> Iterator[None]:
    global _running, _thresholds
    with _lock:
        if not _running:
            _thresholds = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(IMPORT_THRESHOLD, *_thresholds[1:])
        _running += 1
    try:
        yield
    finally:
        with _lock:
            _running -= 1
            if not _running:
                gc.set_threshold(*_thresholds)
                gc.unfreeze()
