"""Mail servers for the outbox's tests: one that refuses for a while, one that is slow.

Both deliver into `django.core.mail.outbox`, as the test suite's locmem backend does.
"""

from __future__ import annotations

import threading
import time
from smtplib import SMTPServerDisconnected

from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

REFUSAL = "Connection unexpectedly closed"


class FlakyMailServer(BaseEmailBackend):
    """Refuses the next `refusals` messages (as a mail server that is down), then
    delivers."""

    refusals = 0
    _lock = threading.Lock()

    def send_messages(self, messages):
        with self._lock:
            if FlakyMailServer.refusals:
                FlakyMailServer.refusals -= 1
                raise SMTPServerDisconnected(REFUSAL)
        mail.outbox.extend(messages)
        return len(messages)


class SlowMailServer(BaseEmailBackend):
    """Takes a moment per message, so that two deliverers overlap."""

    def send_messages(self, messages):
        time.sleep(0.02)
        mail.outbox.extend(messages)
        return len(messages)
