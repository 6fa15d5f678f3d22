"""The dashboard's tallies, kept by the services in the transaction that changes a
proposal, so that the dashboard counts a few hundred rows whatever the history.

A proposal counts once under its kind, label and hour (UTC): an open proposal under
its status and the hour it started (last submitted, or created for a draft); a proposal
that ended in conflict or was applied under the hour it closed. A proposed change
counts under its governed field and the hour it was proposed. Each service that
changes a proposal calls `proposals_tallied` after saving it; the proposal remembers
what it was counted as when it was read (`ChangeProposal.from_db`), so the call moves
the count from the old key to the new one. Writes made around the services (the
benchmark's data, say) are counted again with `dashboard_tallies_recount`.
"""

from __future__ import annotations

import contextvars
import datetime
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Count, Q
from django.db.models.functions import Coalesce, TruncHour

from ..bulk_sql import rows_insert
from ..core import lifecycle
from ..models import (
    ChangeProposal,
    DashboardTally,
    ProposalState,
    ProposedChange,
    TallyFacts,
    TallyKind,
)

Key = tuple[str, str, datetime.datetime]
UTC = datetime.UTC


# The deltas of the `tallies_gathered()` block running in this context, if any.
_gathering: contextvars.ContextVar[Counter[Key] | None] = contextvars.ContextVar(
    "tallies_gathering", default=None
)


class UntalliedProposal(RuntimeError):
    """A proposal was saved whose counted fields had not been read: a programming
    error, since its old count could not be moved."""


def hour_of(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def proposal_keys(facts: TallyFacts | None) -> list[Key]:
    """Where a proposal with these facts is counted; nothing for one not yet saved."""
    if facts is None:
        return []
    if facts.state in lifecycle.OPEN:
        started = facts.submitted_at or facts.created_at
        return [(TallyKind.OPEN, facts.state, hour_of(started))]
    if facts.closed_at is None:
        return []
    if facts.state == ProposalState.CONFLICT:
        return [(TallyKind.CONFLICT, "", hour_of(facts.closed_at))]
    if facts.state == ProposalState.APPLIED and facts.submitted_at is not None:
        return [(TallyKind.APPLIED, "", hour_of(facts.closed_at))]
    return []


def _field_label(content_type_id: int, field_name: str) -> str:
    content_type = ContentType.objects.get_for_id(content_type_id)
    return f"{content_type.app_label}.{content_type.model}.{field_name}"


def change_key(change: ProposedChange) -> Key:
    return (
        TallyKind.FIELD,
        _field_label(change.proposal.content_type_id, change.field_name),
        hour_of(change.proposed_at),
    )


def proposals_tallied(proposals: Iterable[ChangeProposal]) -> None:
    """Move the count of each proposal saved since it was read (or created).

    A proposal that was never read from the database is new: it is only added.
    """
    deltas: Counter[Key] = Counter()
    for proposal in proposals:
        before = proposal.__dict__.get("_tallied")
        if "_tallied" in proposal.__dict__ and before is None:
            raise UntalliedProposal(proposal.pk)
        after = proposal.tally_facts()
        if after is None:
            raise UntalliedProposal(proposal.pk)
        if before == after:
            continue
        deltas.subtract(proposal_keys(before))
        deltas.update(proposal_keys(after))
        proposal._tallied = after
    tallies_add(deltas)


def changes_tallied(
    *,
    added: Iterable[ProposedChange] = (),
    removed: Iterable[ProposedChange] = (),
) -> None:
    """Count proposed changes written, and uncount those deleted."""
    deltas: Counter[Key] = Counter(change_key(c) for c in added)
    deltas.subtract(change_key(c) for c in removed)
    tallies_add(deltas)


def tallies_add(deltas: Counter[Key]) -> None:
    """Write each non-zero delta as a row of its own.

    Rows are only ever inserted, never updated: a transaction that moves a count
    (a long import, say) locks no row that another one needs, so a clerk's submit
    never waits for an import to commit. The readers add the rows of a key up;
    `dashboard_tallies_compact` folds them into one row per key now and then.
    Inside `tallies_gathered()` they are added up, and written when it ends.
    """
    gathering = _gathering.get()
    if gathering is not None:
        gathering.update(deltas)
        return
    rows_insert(
        DashboardTally,
        ["kind", "label", "hour", "count"],
        [
            (kind, label, hour, n)
            for (kind, label, hour), n in sorted(deltas.items())
            if n
        ],
    )


@contextmanager
def tallies_gathered() -> Iterator[None]:
    """Inside, in one transaction: the counts the services move are added up, and
    written as one row per key when the block ends (nothing when it fails).

    An import moves the same few counts (its hour's pending proposals, the fields it
    proposes) batch after batch: written per batch they were three statements of a
    few rows each, 600 for 100,000 rows, where one at the end says the same.
    """
    deltas: Counter[Key] = Counter()
    token = _gathering.set(deltas)
    try:
        yield
    finally:
        _gathering.reset(token)
    tallies_add(deltas)


def dashboard_tallies_compact() -> int:
    """Fold the tallies into one row per key (dropping keys that add up to zero), so
    that the dashboard reads a few rows per hour whatever the traffic; returns the
    rows folded away. Safe beside writers and other compactors: it deletes the rows
    it read and inserts their sums in one transaction, and rows written meanwhile
    are left for the next time."""
    table = connection.ops.quote_name(DashboardTally._meta.db_table)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DELETE FROM {table} RETURNING kind, label, hour, count"
                )
                read = cursor.fetchall()
        else:
            read = list(
                DashboardTally.objects.values_list("kind", "label", "hour", "count")
            )
            DashboardTally.objects.all().delete()
        sums: Counter[Key] = Counter()
        for kind, label, hour, n in read:
            sums[(kind, label, hour)] += n
        DashboardTally.objects.bulk_create(
            DashboardTally(kind=kind, label=label, hour=hour, count=n)
            for (kind, label, hour), n in sorted(sums.items())
            if n
        )
    return len(read) - sum(1 for n in sums.values() if n)


def tallies_counted_from_tables() -> dict[Key, int]:
    """The tallies as a full count of the proposal tables gives them (four queries)."""
    counted: dict[Key, int] = {}
    open_rows = (
        ChangeProposal.objects.filter(state__in=list(lifecycle.OPEN))
        .annotate(at=TruncHour(Coalesce("submitted_at", "created_at"), tzinfo=UTC))
        .values_list("state", "at")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for state, hour, n in open_rows:
        counted[(TallyKind.OPEN, state, hour)] = n
    closed = {
        TallyKind.CONFLICT: Q(state=ProposalState.CONFLICT),
        TallyKind.APPLIED: Q(state=ProposalState.APPLIED, submitted_at__isnull=False),
    }
    for kind, condition in closed.items():
        rows = (
            ChangeProposal.objects.filter(condition, closed_at__isnull=False)
            .annotate(at=TruncHour("closed_at", tzinfo=UTC))
            .values_list("at")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for hour, n in rows:
            counted[(kind, "", hour)] = n
    field_rows = (
        ProposedChange.objects.annotate(at=TruncHour("proposed_at", tzinfo=UTC))
        .values_list("proposal__content_type_id", "field_name", "at")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for content_type_id, field_name, hour, n in field_rows:
        key = (TallyKind.FIELD, _field_label(content_type_id, field_name), hour)
        counted[key] = counted.get(key, 0) + n
    return counted


def tallies_stored() -> dict[Key, int]:
    """The tallies as the dashboard adds them up, one count per key."""
    sums: Counter[Key] = Counter()
    for kind, label, hour, n in DashboardTally.objects.values_list(
        "kind", "label", "hour", "count"
    ):
        sums[(kind, label, hour)] += n
    return {key: n for key, n in sums.items() if n}


def dashboard_tallies_recount() -> int:
    """Count the dashboard's tallies again from the proposal tables (after writes made
    around the services, or to check them); returns how many tallies there are."""
    with transaction.atomic():
        counted = tallies_counted_from_tables()
        DashboardTally.objects.all().delete()
        DashboardTally.objects.bulk_create(
            DashboardTally(kind=kind, label=label, hour=hour, count=n)
            for (kind, label, hour), n in sorted(counted.items())
        )
    return len(counted)
