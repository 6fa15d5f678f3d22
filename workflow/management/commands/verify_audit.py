"""Verify the audit trail's hash chain; exit 1 naming the first broken link."""

from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError, CommandParser

from workflow.selectors_audit_chain import verification_result
from workflow.services import audit_chain as chain_services

_ANCHOR = re.compile(r"(-?\d+):([0-9a-f]{64})")


def anchor(value: str) -> tuple[int, str]:
    match = _ANCHOR.fullmatch(value.strip().lower())
    if match is None:
        raise ValueError(value)
    return int(match[1]), match[2]


class Command(BaseCommand):
    help = (
        "Recompute the audit trail's hash chain from the audit rows and their seals. "
        "Prints how far it is sealed and its link there (write it down: --anchor "
        "checks it later); exits with status 1 naming the first broken link."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchor",
            type=anchor,
            action="append",
            default=[],
            metavar="ROW:LINK",
            help="An end of the chain printed by an earlier run, which must still be "
            "there (repeatable).",
        )

    def handle(self, *args, anchor: list[tuple[int, str]], **options) -> None:
        verification = chain_services.audit_trail_verify(actor=None, anchors=anchor)
        summary = (
            f"Checked {verification.seals_checked} seal(s) and "
            f"{verification.rows_checked} audit row(s); "
            f"{verification.unsealed_rows} row(s) not sealed yet."
        )
        if not verification.intact:
            self.stdout.write(summary)
            raise CommandError(verification_result(verification))
        self.stdout.write(summary)
        self.stdout.write(verification_result(verification))
        if verification.sealed_up_to is not None:
            self.stdout.write(
                f"The chain ends at row {verification.sealed_up_to} with the link "
                f"{verification.head_link}; check it later with "
                f"--anchor {verification.sealed_up_to}:{verification.head_link}"
            )
