"""Escalate work items past their time limit, once or every N seconds."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from workflow.services import work_items_escalate_overdue


class Command(BaseCommand):
    help = "Escalate every open work item whose step's time limit has passed."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Keep running and check again every SECONDS (for a scheduler service).",
        )

    def handle(self, *args, every: int = 0, **options) -> None:
        while True:
            escalated = work_items_escalate_overdue()
            self.stdout.write(f"Escalated {escalated} overdue step(s).")
            if not every:
                return
            time.sleep(every)
