"""The health checks from the command line: for container health checks and cron."""

from __future__ import annotations

import json
import socket

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from workflow.health import health_report
from workflow.models import ProcessHeartbeat


class Command(BaseCommand):
    help = (
        "Print the checks of /health/ as JSON and fail unless all pass; with --here "
        "KIND, only whether a process of that kind on this host (container) beats in "
        "time."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--here",
            metavar="KIND",
            choices=["worker", "escalations", "imports", "outbox", "audit-chain"],
            help="worker, escalations or imports: the one running on this host.",
        )

    def handle(self, *args, here: str | None = None, **options) -> None:
        if here:
            on_time = ProcessHeartbeat.objects.filter(
                process=here,
                name__startswith=f"{socket.gethostname()}:",
                late_at__gt=timezone.now(),
            ).exists()
            if not on_time:
                raise CommandError(f"No {here} on this host has beaten in time.")
            self.stdout.write(f"{here}: ok")
            return
        ok, checks = health_report(processes=list(settings.HEALTH_PROCESSES))
        self.stdout.write(
            json.dumps({"status": "ok" if ok else "failing", "checks": checks})
        )
        if not ok:
            raise CommandError("Unhealthy.")
