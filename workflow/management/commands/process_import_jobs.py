"""Recover import jobs whose worker died and remove old import files, once or every N seconds."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from workflow.services import import_files_clean_up, import_jobs_recover
from workflow.tasks import recheck_import


class Command(BaseCommand):
    help = (
        "Give back import jobs whose worker stopped (IMPORT_LEASE_SECONDS) and remove "
        "the files of jobs that ended (IMPORT_FILE_RETENTION_DAYS)."
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
        while True:
            recovered = import_jobs_recover(recheck=recheck_import)
            removed = import_files_clean_up()
            self.stdout.write(
                f"Recovered {recovered} stopped import job(s); removed {removed} import file(s)."
            )
            if not every:
                return
            time.sleep(every)
