"""Send the e-mails of the outbox that are due, once or every N seconds."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from workflow.outbox import DELIVERY_BATCH
from workflow.services import outbox_deliver


class Command(BaseCommand):
    help = (
        "Send the due e-mails of the outbox: new ones whose task was lost, and tries "
        "again after a failure (OUTBOX_MAX_ATTEMPTS, OUTBOX_BACKOFF_SECONDS)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Keep running and send again every SECONDS (for a scheduler service).",
        )

    def handle(self, *args, every: int = 0, **options) -> None:
        while True:
            done = outbox_deliver()
            if not every or done.sent or done.retrying or done.failed:
                self.stdout.write(
                    f"Sent {done.sent} e-mail(s); {done.retrying} to try again, "
                    f"{done.failed} failed."
                )
            if not every:
                return
            # A full batch leaves more due: go on at once.
            if done.sent + done.retrying + done.failed < DELIVERY_BATCH:
                time.sleep(every)
