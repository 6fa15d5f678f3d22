"""Escalate work items past their time limit, once or every N seconds."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from workflow.services import work_items_escalate_overdue

from ..outages import keep_running


class Command(BaseCommand):
    help = (
        "Escalate every open work item whose step's time limit has passed. With "
        "--every it keeps running through database outages, and may run on several "
        "hosts at once: each overdue step is escalated once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Keep running and check again every SECONDS (for a scheduler service).",
        )

    def handle(self, *args, every: int = 0, **options) -> None:
        keep_running(
            process="escalations",
            every=every,
            step=lambda: f"Escalated {work_items_escalate_overdue()} overdue step(s).",
            write=self.stdout.write,
        )
