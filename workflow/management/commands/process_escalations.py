"""Escalate work items past their time limit, once or every N seconds."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from workflow.services import dashboard_tallies_compact, work_items_escalate_overdue

from ..outages import keep_running


class Command(BaseCommand):
    help = (
        "Escalate every open work item whose step's time limit has passed, and fold "
        "the dashboard's tallies. With "
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
            step=self.step,
            write=self.stdout.write,
        )

    @staticmethod
    def step() -> str:
        escalated = work_items_escalate_overdue()
        # The dashboard's tallies are folded here, by the loop that runs anyway.
        folded = dashboard_tallies_compact()
        return (
            f"Escalated {escalated} overdue step(s); "
            f"folded {folded} dashboard tally row(s)."
        )
