"""Sealing the audit trail into its hash chain, and verifying the chain.

The design (what a seal holds, which rows may be sealed while others are still being
written, what verification finds) is in `workflow.audit_chain`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .. import audit_chain
from ..exceptions import NO_PERMISSION, PermissionRefused
from ..models import AuditSeal, AuditVerification

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User

logger = logging.getLogger(__name__)

VERIFY_PERMISSION = "workflow.run_auditverification"
# Taken by sealers only (never by the writers of audit rows), so that two sealers
# chain one after the other. The number is this lock's own: "audit" in ASCII.
_SEALING_LOCK = 0x6175646974


@dataclass(frozen=True)
class Sealing:
    """What one sealing run did."""

    seals: int
    rows: int
    # The last row the chain covers now (None: nothing sealed yet).
    sealed_up_to: int | None


def audit_trail_seal(
    *, wait_seconds: float | None = None, size: int = audit_chain.SEAL_ROWS
) -> Sealing:
    """Append seals for the audit rows committed since the last seal, as far as their
    ids are final (`audit_chain.final_horizon`, waiting up to `wait_seconds`, by
    default AUDIT_SEAL_WAIT_SECONDS, for transactions open when it starts).

    Each seal of up to `size` ids is its own transaction, so a long run keeps what it
    sealed. Writers of audit rows are never waited for nor locked.
    """
    if wait_seconds is None:
        wait_seconds = settings.AUDIT_SEAL_WAIT_SECONDS
    horizon = audit_chain.final_horizon(wait_seconds=wait_seconds)
    key = audit_chain.current_key()
    seals = rows = 0
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_SEALING_LOCK])
            last = (
                AuditSeal.objects.order_by("-first_id").only("last_id", "link").first()
            )
            block = audit_chain.block_build(
                first_id=last.last_id + 1 if last is not None else 1,
                previous_link=last.link if last is not None else audit_chain.GENESIS,
                horizon=horizon,
                key=key,
                size=size,
            )
            if block is None:
                return Sealing(seals, rows, last.last_id if last is not None else None)
            AuditSeal.objects.create(**block._asdict(), scheme=audit_chain.SCHEME)
        seals += 1
        rows += len(block.row_digests) // audit_chain.DIGEST_SIZE


def audit_trail_verify(
    *, actor: User | None, anchors: Sequence[tuple[int, str]] = ()
) -> AuditVerification:
    """Verify the whole chain against the rows and record the outcome.

    `actor` None is the periodic check; a person needs `workflow.run_auditverification`.
    Besides `anchors` (ends of the chain written down elsewhere), the end recorded by
    the last verification that found the chain intact must still be there.
    """
    if actor is not None and (
        not actor.is_active or not actor.has_perm(VERIFY_PERMISSION)
    ):
        raise PermissionRefused(str(NO_PERMISSION))
    started_at = timezone.now()
    previous = (
        AuditVerification.objects.filter(intact=True, sealed_up_to__isnull=False)
        .order_by("-finished_at", "-id")
        .values_list("sealed_up_to", "head_link")
        .first()
    )
    known_ends = list(anchors)
    if previous is not None and previous[0] is not None:
        known_ends.append((previous[0], previous[1]))
    report = audit_chain.chain_verify(anchors=known_ends)
    broken = report.broken
    verification = AuditVerification.objects.create(
        started_at=started_at,
        finished_at=timezone.now(),
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        intact=broken is None,
        seals_checked=report.seals_checked,
        rows_checked=report.rows_checked,
        sealed_up_to=report.sealed_up_to,
        head_link=report.head_link,
        unsealed_rows=report.unsealed_rows,
        break_kind=broken.kind if broken is not None else "",
        break_seal=broken.seal if broken is not None else None,
        break_row=broken.row if broken is not None else None,
        break_other_row=broken.other_row if broken is not None else None,
    )
    if broken is not None:
        logger.error("The audit trail's hash chain is broken: %s", broken)
    return verification
