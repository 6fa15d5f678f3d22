"""Approval on create: whether a new record waits for approval, what a creation
proposal holds, and which records may be used (referenced) while they wait.

A record of a governed model is active, awaiting approval of its creation, or
rejected (its creation was not approved: it stays inactive until it is edited and
submitted again, or deleted). Only the engine moves a record between them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# The field of every governed record that holds its status.
STATUS_FIELD = "record_status"

ACTIVE = "active"
AWAITING = "awaiting"
REJECTED = "rejected"
STATUSES = (ACTIVE, AWAITING, REJECTED)
INACTIVE = (AWAITING, REJECTED)

# How a creation proposal's decision leaves its record.
AFTER_APPROVAL = ACTIVE
AFTER_REJECTION = REJECTED
AFTER_SUBMISSION = AWAITING


def waits_for_approval(
    approvals_enabled: bool, new_records_need_approval: bool
) -> bool:
    """A new record waits for approval when approvals are on for its model and its
    parameters say new records wait."""
    return approvals_enabled and new_records_need_approval


def status_of_new_record(
    approvals_enabled: bool, new_records_need_approval: bool
) -> str:
    if waits_for_approval(approvals_enabled, new_records_need_approval):
        return AWAITING
    return ACTIVE


def may_be_used(status: str) -> bool:
    """Whether a record may be used by others (an invoice account, say): only an
    active one; one awaiting approval or rejected is not."""
    return status == ACTIVE


def is_active(status: str) -> bool:
    return status == ACTIVE


def creation_values(values: Mapping[str, object]) -> dict[str, object]:
    """The values a creation proposal holds: every governable value entered, the
    empty ones left out (there is nothing to approve about an empty field); all of
    them when every one is empty, so that the proposal is never empty."""
    entered = {n: v for n, v in values.items() if v not in (None, "", [], {})}
    return entered or dict(values)


def fields_under_approval(
    status: str, enabled: frozenset[str], governable: Iterable[str]
) -> frozenset[str]:
    """The fields whose changes are proposed: those under approval for an active
    record; every governable field of one that is not active yet, so that all it
    holds is approved with its creation (nothing written around its proposal)."""
    if is_active(status):
        return enabled
    return frozenset(governable)


def behaviour_for_record(status: str, behaviour: str | None) -> str | None:
    """An import's behaviour for an existing record: one that is not active is
    changed only through its creation proposal, so "allow" proposes there."""
    if behaviour == "allow" and not is_active(status):
        return "propose"
    return behaviour


def new_record_by_import(behaviour: str, waits: bool) -> str | None:
    """The status of a record an import creates, or None when the import refuses
    the row: "propose" creates it awaiting approval, "allow" active (the parameters
    allow imports without approval), "reject" refuses it, like any change that
    needs approval."""
    if not waits:
        return ACTIVE
    if behaviour == "propose":
        return AWAITING
    if behaviour == "allow":
        return ACTIVE
    return None
