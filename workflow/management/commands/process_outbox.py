"""Send the e-mails of the outbox that are due, once or every N seconds."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from workflow.outbox import DELIVERY_BATCH
from workflow.services import outbox_deliver

from ..outages import keep_running


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
        # With --every, through database outages and with a heartbeat, as the other loops.
        keep_running(
            process="outbox", every=every, step=deliver_due, write=self.stdout.write
        )


def deliver_due() -> str:
    """Send batch after batch until less than a full batch was due."""
    sent = retrying = failed = 0
    while True:
        done = outbox_deliver()
        sent, retrying, failed = (
            sent + done.sent,
            retrying + done.retrying,
            failed + done.failed,
        )
        if done.sent + done.retrying + done.failed < DELIVERY_BATCH:
            return f"Sent {sent} e-mail(s); {retrying} to try again, {failed} failed."
