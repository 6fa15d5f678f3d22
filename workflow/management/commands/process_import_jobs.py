"""Recover import jobs whose worker died and remove old import files, once or every N seconds."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from workflow.services import import_files_clean_up, import_jobs_recover
from workflow.tasks import recheck_import

from ..outages import keep_running


def upkeep() -> str:
    recovered = import_jobs_recover(recheck=recheck_import)
    removed = import_files_clean_up()
    return f"Recovered {recovered} stopped import job(s); removed {removed} import file(s)."


class Command(BaseCommand):
    help = (
        "Give back import jobs whose worker stopped (IMPORT_LEASE_SECONDS) and remove "
        "the files of jobs that ended (IMPORT_FILE_RETENTION_DAYS). With --every it "
        "keeps running through database outages."
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
            process="imports", every=every, step=upkeep, write=self.stdout.write
        )
