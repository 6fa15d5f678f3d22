"""The state of the audit trail's hash chain, for its page and the auditors' reports."""

from __future__ import annotations

import datetime
from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, AuditSeal, AuditVerification, ChainBreak

NEVER_VERIFIED = _("The audit trail has not been verified yet.")
INTACT = _(
    "Intact: every sealed audit row is as it was when sealed, and none is missing."
)
# What each broken link means; %(row)s, %(other)s and %(seal)s are numbers.
BREAKS = {
    ChainBreak.ROW_CHANGED: _(
        "Audit row %(row)s was changed after it was sealed (seal %(seal)s)."
    ),
    ChainBreak.ROW_MISSING: _(
        "Audit row %(row)s was deleted after it was sealed (seal %(seal)s)."
    ),
    ChainBreak.ROWS_REORDERED: _(
        "Audit row %(row)s holds what was sealed as row %(other)s (seal %(seal)s): "
        "rows were reordered."
    ),
    ChainBreak.ROW_APPEARED: _(
        "Audit row %(row)s was added afterwards: no row had this number when the "
        "chain was sealed there."
    ),
    ChainBreak.SEAL_ALTERED: _(
        "Seal %(seal)s was changed: the row digests it holds no longer give its link."
    ),
    ChainBreak.SEAL_BROKEN: _(
        "Seal %(seal)s does not follow on from the seal before it (the chain went on "
        "at row %(row)s): a seal was removed, or seals were reordered."
    ),
    ChainBreak.SEAL_OTHER_KEY: _(
        "Seal %(seal)s was made with a key this installation does not hold "
        "(AUDIT_CHAIN_KEY, AUDIT_CHAIN_OLD_KEYS)."
    ),
    ChainBreak.HEAD_LOST: _(
        "The chain no longer ends at row %(row)s with the link it had there: rows and "
        "seals were removed from its end, or changed."
    ),
}


class AuditChainStatus(NamedTuple):
    """When the chain was last verified and what was found; how far it is sealed."""

    verified_at: datetime.datetime | None
    # None: never verified; else whether it was found intact.
    intact: bool | None
    # The finding as a sentence in the reader's language.
    result: str
    # The last audit row the chain covers, and when that seal was made.
    sealed_up_to: int | None
    sealed_at: datetime.datetime | None
    # Rows written since: sealed within a minute or so while `seal_audit` runs.
    unsealed_rows: int
    oldest_unsealed_at: datetime.datetime | None
    verification: AuditVerification | None


def verification_result(verification: AuditVerification | None) -> str:
    """What a verification found, as a sentence."""
    if verification is None:
        return str(NEVER_VERIFIED)
    if verification.intact:
        return str(INTACT)
    return str(BREAKS[ChainBreak(verification.break_kind)]) % {
        "row": verification.break_row,
        "other": verification.break_other_row,
        "seal": verification.break_seal,
    }


def audit_chain_status() -> AuditChainStatus:
    """The last verification (by a person or the periodic check) and the seals now."""
    verification = (
        AuditVerification.objects.select_related("actor")
        .order_by("-finished_at", "-id")
        .first()
    )
    last_seal = (
        AuditSeal.objects.order_by("-first_id").only("last_id", "sealed_at").first()
    )
    sealed_up_to = last_seal.last_id if last_seal is not None else None
    unsealed = AuditEntry.objects.filter(id__gt=sealed_up_to or 0)
    oldest = unsealed.order_by("id").values_list("created_at", flat=True).first()
    return AuditChainStatus(
        verified_at=verification.finished_at if verification is not None else None,
        intact=verification.intact if verification is not None else None,
        result=verification_result(verification),
        sealed_up_to=sealed_up_to,
        sealed_at=last_seal.sealed_at if last_seal is not None else None,
        unsealed_rows=unsealed.count(),
        oldest_unsealed_at=oldest,
        verification=verification,
    )
