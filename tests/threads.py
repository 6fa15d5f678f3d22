"""Another thread that holds something open (a transaction, a lock, an import) while
the test does what must not wait for it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import close_old_connections, connection


@contextmanager
def held_in_another_thread(
    hold: Callable[[Callable[[], None]], object], *, timeout: float = 30
) -> Iterator[None]:
    """Run `hold(until_released)` in another thread on its own connection: it takes
    what it holds, then calls `until_released()`, which returns when the block ends.
    The block starts once it holds; what the thread raised is raised after it."""
    holding, released = threading.Event(), threading.Event()
    raised: list[BaseException] = []

    def until_released() -> None:
        holding.set()
        released.wait(timeout=timeout)

    def run() -> None:
        close_old_connections()
        try:
            hold(until_released)
        except BaseException as error:  # noqa: BLE001 - raised in the test's thread
            raised.append(error)
        finally:
            holding.set()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert holding.wait(timeout=timeout), "the other thread never held"
    if raised:
        thread.join(timeout=timeout)
        raise raised[0]
    try:
        yield
    finally:
        released.set()
        thread.join(timeout=timeout)
    if raised:
        raise raised[0]
