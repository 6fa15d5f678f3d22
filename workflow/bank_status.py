"""The verified status of bank accounts, kept in step with every applied change.

Every value the engine applies (a decision, bulk approval, an import allowed to change,
a record saved without approval) leaves a "Field changed" audit row, and all audit rows
are written by `audit.audit_rows_write`: that is the one place every apply path passes,
so it asks here which statuses its rows imply and writes them in the same transaction. A change of a registered bank
account is "verified" when the proposal that applied it had its call-back confirmed in
its last round, and "unverified" otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType

from . import registry
from .core.bank import CallbackOutcome
from .models import AuditAction, BankAccountStatus, CallbackVerification


def _bank_field(content_type_id: int) -> str:
    try:
        governed = registry.governed_of(ContentType.objects.get_for_id(content_type_id))
    except registry.NotGoverned:
        return ""
    return governed.bank.account_field if governed.bank is not None else ""


def statuses_following(
    columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> list[BankAccountStatus]:
    """The status of each bank account that `rows` (audit rows being written, their
    values in the order of `columns`) change, unsaved: the audit writer saves them
    with the rows."""
    action, object_id, content_type_id, field_name = (
        columns.index(name)
        for name in ("action", "object_id", "content_type_id", "field_name")
    )
    changed = []
    fields: dict[int, str] = {}
    for values in rows:
        # An import writes tens of thousands of rows: read in place, not as mappings.
        if values[action] != AuditAction.FIELD_CHANGED or values[object_id] is None:
            continue
        model = values[content_type_id]
        if not isinstance(model, int):
            continue
        if model not in fields:
            fields[model] = _bank_field(model)
        if fields[model] and values[field_name] == fields[model]:
            changed.append(dict(zip(columns, values, strict=True)))
    if not changed:
        return []
    confirmed = {
        c.proposal_id: c
        for c in CallbackVerification.objects.filter(
            proposal_id__in={r["proposal_id"] for r in changed if r["proposal_id"]},
            outcome=CallbackOutcome.CONFIRMED,
        )
        .select_related("verifier", "proposal")
        .order_by("called_at", "id")
        # Only a call of the round that was applied counts.
        if c.submission_round == c.proposal.submission_round
    }
    # One status per account: the last change of it in these rows.
    last = {(r["content_type_id"], r["object_id"], r["field_name"]): r for r in changed}
    statuses = []
    for row in last.values():
        call = confirmed.get(row["proposal_id"])
        statuses.append(
            BankAccountStatus(
                content_type_id=row["content_type_id"],
                object_id=row["object_id"],
                field_name=row["field_name"],
                verified=call is not None,
                verified_at=call.called_at if call is not None else None,
                verified_by=call.verifier if call is not None else None,
                verified_by_name=call.verifier.get_username() if call else "",
                proposal_id=row["proposal_id"],
                changed_at=row["created_at"],
            )
        )
    return statuses
