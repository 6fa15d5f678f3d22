"""Seal new audit rows into the hash chain, once or every N seconds; verify now and then."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from workflow.selectors_audit_chain import verification_result
from workflow.services import audit_chain as chain_services

from ..outages import keep_running


class Command(BaseCommand):
    help = (
        "Append the audit rows committed since the last run to the audit trail's hash "
        "chain (see workflow/audit_chain.py); with --verify-every, also verify the "
        "whole chain that often."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Keep running and seal again every SECONDS (for a scheduler service).",
        )
        parser.add_argument(
            "--verify-every",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Also verify the chain at the first run and then every SECONDS.",
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=None,
            metavar="SECONDS",
            help="How long to wait for transactions still open (AUDIT_SEAL_WAIT_SECONDS).",
        )

    def handle(
        self,
        *args,
        every: int = 0,
        verify_every: int = 0,
        wait: float | None = None,
        **options,
    ) -> None:
        verify_due = [time.monotonic()]

        def seal_and_perhaps_verify() -> str:
            sealing = chain_services.audit_trail_seal(wait_seconds=wait)
            lines = [
                f"Sealed {sealing.rows} audit row(s) in {sealing.seals} seal(s); "
                f"the chain covers rows up to {sealing.sealed_up_to or 0}."
            ]
            if verify_every and time.monotonic() >= verify_due[0]:
                verification = chain_services.audit_trail_verify(actor=None)
                lines.append(str(verification_result(verification)))
                verify_due[0] = time.monotonic() + verify_every
            return "\n".join(lines)

        # With --every, through database outages and with a heartbeat, as the other loops.
        keep_running(
            process="audit-chain",
            every=every,
            step=seal_and_perhaps_verify,
            write=self.stdout.write,
        )
