"""Tamper evidence for the audit trail: a hash chain over its rows, sealed after commit.

What it must show
    An audit row changed, deleted, reordered or slipped in afterwards, also by someone
    who owns the database and switches the append-only triggers off (0005, 0011). The
    first broken link is named: which row or seal, and what is wrong with it.

The chain
    Every row has a digest: SHA-256 over a canonical form of all its columns but the id
    (`row_canonical`: a JSON array in the fixed order of `CHAINED_COLUMNS`, times in
    UTC ISO form with microseconds, JSON columns as the database writes them out,
    jsonb's own canonical text on PostgreSQL). The rows are chained in id order: the
    link after row N is SHA-256(link before it ‖ "R" ‖ N ‖ digest of N), so each link
    depends on every row before it, on its id and its content. An id that no committed
    row holds (the sequence value of a transaction that rolled back) is chained as
    well, as a gap: SHA-256(link before ‖ "G" ‖ first ‖ last). Whoever removes a row,
    changes one, swaps two or fills a gap changes a link.

    With AUDIT_CHAIN_KEY set, HMAC-SHA-256 under that key replaces SHA-256 everywhere.
    Plain SHA-256 shows edits by anyone who does not also recompute the seals; the
    owner of the database can recompute them, since the method is public. The key,
    kept in the application's environment and not in the database, closes that: an
    owner without it cannot seal a changed row over. The price: lose the key and the
    seals made with it cannot be verified any more (keep it with the backups; a seal
    names its key by `key_id`, a fingerprint, and AUDIT_CHAIN_OLD_KEYS keeps earlier
    keys verifiable). Without a key, a chain sealed anew over an edit is still caught
    by the end recorded at the last verification (unless that record is rewritten
    too) and by an end kept outside the database (see Verification).

Seals, not a column per row
    Writers are left alone: an import writes thousands of audit rows by COPY and many
    transactions write at once. Chaining at insert would need one writer at a time (a
    lock held until commit) and a hash column filled in by the writer. Instead the
    chain is computed afterwards by `services.audit_chain.audit_trail_seal` (run every
    minute by `seal_audit --every 60`), which appends to its own append-only table,
    `AuditSeal`, blocks of up to `SEAL_ROWS` ids: their range, the gaps in it, the
    digest of each row present, the link before the block and the link after it. The
    application's role may insert and read seals but not change them, like audit rows,
    and writes nothing into the audit rows themselves.

Which rows may be sealed
    Ids come from a sequence when a row is inserted, but transactions commit in any
    order: while an import holds ids 100–5099 uncommitted, a decision may commit id
    5100. Sealing 5100 with 100–5099 as gaps would be wrong if the import then
    commits. So sealing covers only ids that are final: no transaction can still
    commit a row with such an id.
    - A run of ids all present is final: ids are unique, none can be added in between.
    - A gap below H is final once every transaction that could hold an id ≤ H has
      ended. `final_horizon` reads the sequence's last value L first, then lists the
      transactions open in this database (their virtual transaction ids, in pg_locks;
      every transaction holds its own from its start, before it takes any id), and
      waits until all of them have ended. Any id ≤ L was taken before L was read, by a
      transaction that had either ended by then or was open and so listed; after the
      wait, every id ≤ L is committed or never will be. If they do not end within the
      wait (a long import), the run seals up to the first gap and the next run tries
      again. This needs the sequence to hand out values one at a time (CACHE 1, what
      Django creates) and no prepared (two-phase) transactions; with a larger cache
      the horizon is unknown and only gapless runs are sealed. Any transaction counts,
      also one that writes no audit row: a session left idle in a transaction holds
      sealing back at the first gap until it ends (the integrity page shows how many
      rows wait, and since when). Writers pay nothing for any of this.
    On SQLite one transaction writes at a time and ids never go back, so whatever
    is committed is final.
    Sealers take turns by an advisory lock, and a seal's `first_id` is unique, so two
    sealers never fork the chain.

Verification
    `chain_verify` walks the seals in row order and checks that each follows on from
    the one before (its first id and previous link), that its stored digests and gaps
    give its link, and then compares every row in its range with the seal: a row that
    is gone is *deleted*, a row whose digest differs is *changed*, or *reordered* when
    its content is that of another row of the block, and a row where the seal has a
    gap *appeared* afterwards. It stops at the first break, in row order. Rows above
    the last seal are not yet sealed and only counted.
    Cutting rows and seals off the end leaves a shorter chain that verifies. So every
    verification records the end it verified (last row sealed and its link), and the
    next one checks that this end is still there; `verify_audit --anchor ROW:LINK`
    checks an end written down elsewhere, which no one editing the database reaches.

What it does not show
    An edit made before the row was sealed (within about a minute of commit; the
    append-only triggers stand in the way until then), and rows inserted through the
    application's own INSERT right: those are new rows, sealed as any other, and the
    trail shows who they claim to be from.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import time
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.db.models import Max, TextField
from django.db.models.functions import Cast

from .models import AuditEntry, AuditSeal, ChainBreak

SCHEME = 1
DIGEST_SIZE = 32
GENESIS = "0" * 64
# Ids per seal: a seal of full rows holds 32 bytes per row, 160 kB at this size.
SEAL_ROWS = 5000
# The columns of an audit row in the order their values are hashed (scheme 1). A new
# column of AuditEntry needs a new scheme; a test fails until it has one.
CHAINED_COLUMNS = (
    "created_at",
    "action",
    "actor_id",
    "actor_name",
    "source",
    "content_type_id",
    "object_id",
    "object_repr",
    "proposal_id",
    "field_name",
    "field_label",
    "old_value",
    "new_value",
    "old_display",
    "new_display",
    "comment",
    "comment_translations",
)
JSON_COLUMNS = frozenset({"old_value", "new_value", "comment_translations"})
_KEY_ID_MESSAGE = b"custapproval audit chain key"
_POLL_SECONDS = 0.1


class ChainKey(NamedTuple):
    """The secret of the digests and links (None: plain SHA-256) and its fingerprint."""

    key_id: str
    secret: bytes | None


def key_of(secret: str) -> ChainKey:
    if not secret:
        return ChainKey("", None)
    raw = secret.encode()
    return ChainKey(
        hmac.new(raw, _KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:16], raw
    )


def current_key() -> ChainKey:
    return key_of(settings.AUDIT_CHAIN_KEY)


def known_keys() -> dict[str, ChainKey]:
    keys = [key_of(secret) for secret in settings.AUDIT_CHAIN_OLD_KEYS]
    keys.append(current_key())
    return {key.key_id: key for key in keys}


def _mac(key: ChainKey, message: bytes) -> bytes:
    if key.secret is None:
        return hashlib.sha256(message).digest()
    return hmac.new(key.secret, message, hashlib.sha256).digest()


def _number(value: int) -> bytes:
    return value.to_bytes(8, "big", signed=True)


def row_digest(key: ChainKey, canonical: bytes) -> bytes:
    return _mac(key, b"row\x00" + canonical)


def row_link(key: ChainKey, previous: bytes, row_id: int, digest: bytes) -> bytes:
    return _mac(key, previous + b"R" + _number(row_id) + digest)


def gap_link(key: ChainKey, previous: bytes, first: int, last: int) -> bytes:
    return _mac(key, previous + b"G" + _number(first) + _number(last))


def _utc(value: datetime.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_canonical(values: Sequence[object]) -> bytes:
    """The bytes a row's digest is taken over: its `CHAINED_COLUMNS` values in order."""
    return json.dumps(
        [_utc(v) if isinstance(v, datetime.datetime) else v for v in values],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def _row_values() -> list:
    # JSON columns as the database's text, so that any change of the stored value shows
    # (reading them as Python values would round numbers and forget key order).
    return [
        Cast(name, TextField()) if name in JSON_COLUMNS else name
        for name in CHAINED_COLUMNS
    ]


def rows_read(
    *, first_id: int, last_id: int | None = None, limit: int | None = None
) -> list[tuple[int, bytes]]:
    """(id, canonical bytes) of the rows from `first_id` on, in id order."""
    rows = AuditEntry.objects.filter(id__gte=first_id)
    if last_id is not None:
        rows = rows.filter(id__lte=last_id)
    values = rows.order_by("id").values_list("id", *_row_values())
    if limit is not None:
        values = values[:limit]
    return [(row[0], row_canonical(row[1:])) for row in values]


# Every other transaction open in this database, by its virtual transaction id, which
# it holds from its start. pg_stat_activity only says which database a backend is in
# (its pid and database are shown to every role); its snapshot is cleared first, since
# within a transaction PostgreSQL would otherwise show the backends of its first look.
_OPEN_TRANSACTIONS = """
SELECT l.virtualxid
FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'virtualxid' AND l.granted AND l.pid <> pg_backend_pid()
  AND a.datid = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
_STILL_OPEN = """
SELECT count(*) FROM pg_locks
WHERE locktype = 'virtualxid' AND virtualxid = ANY(%s::text[])
"""


def final_horizon(*, wait_seconds: float) -> int:
    """An id up to which every id is final: held by a committed row or by none ever.

    0 when that cannot be known in time (a transaction open when this started is still
    open after `wait_seconds`): then only gapless runs of rows may be sealed.
    """
    if connection.vendor != "postgresql":
        return AuditEntry.objects.aggregate(last=Max("id"))["last"] or 0
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.seqrelid::regclass::text, s.seqcache FROM pg_sequence AS s"
            " WHERE s.seqrelid = pg_get_serial_sequence(%s, 'id')::regclass",
            [table],
        )
        sequence, cache = cursor.fetchone()
        if cache != 1:
            # Each backend would hold values of its own, to use in later transactions.
            return 0
        # The name is PostgreSQL's own, quoted by regclass.
        cursor.execute(f"SELECT last_value, is_called FROM {sequence}")
        last_value, is_called = cursor.fetchone()
        horizon = last_value if is_called else last_value - 1
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(_OPEN_TRANSACTIONS)
        open_then = [vxid for (vxid,) in cursor.fetchall()]
        deadline = time.monotonic() + wait_seconds
        while open_then:
            cursor.execute(_STILL_OPEN, [open_then])
            if cursor.fetchone()[0] == 0:
                break
            if time.monotonic() >= deadline:
                return 0
            time.sleep(_POLL_SECONDS)
    return horizon


class Block(NamedTuple):
    """A seal to be written: ids first_id..last_id, chained on from `previous_link`."""

    first_id: int
    last_id: int
    never_committed: list[list[int]]
    row_digests: bytes
    previous_link: str
    link: str
    key_id: str


def block_build(
    *,
    first_id: int,
    previous_link: str,
    horizon: int,
    key: ChainKey,
    size: int = SEAL_ROWS,
) -> Block | None:
    """The next seal from `first_id` on: rows present and gaps proven final (below
    `horizon`), up to `size` rows; None when nothing from `first_id` on is final."""
    rows = rows_read(first_id=first_id, limit=size)
    link = bytes.fromhex(previous_link)
    expected = first_id
    gaps: list[list[int]] = []
    digests = bytearray()
    for row_id, canonical in rows:
        if row_id > expected:
            if row_id - 1 > horizon:
                break
            gaps.append([expected, row_id - 1])
            link = gap_link(key, link, expected, row_id - 1)
        digest = row_digest(key, canonical)
        link = row_link(key, link, row_id, digest)
        digests += digest
        expected = row_id + 1
    else:
        if len(rows) < size and horizon >= expected:
            # No row above: the ids up to the horizon were taken and rolled back.
            gaps.append([expected, horizon])
            link = gap_link(key, link, expected, horizon)
            expected = horizon + 1
    if expected == first_id:
        return None
    return Block(
        first_id=first_id,
        last_id=expected - 1,
        never_committed=gaps,
        row_digests=bytes(digests),
        previous_link=previous_link,
        link=link.hex(),
        key_id=key.key_id,
    )


class Break(NamedTuple):
    """The first broken link: what, in which seal (its number), at which row."""

    kind: ChainBreak
    seal: int | None = None
    row: int | None = None
    other_row: int | None = None


class ChainReport(NamedTuple):
    broken: Break | None
    seals_checked: int
    rows_checked: int
    # The end of the chain: the last row sealed and the link after it.
    sealed_up_to: int | None
    head_link: str
    unsealed_rows: int


def _runs(seal: AuditSeal) -> list[tuple[int, int]] | None:
    """The runs of ids of rows present in `seal`, or None if its gaps make no sense."""
    runs = []
    start = seal.first_id
    try:
        gaps = [(int(first), int(last)) for first, last in seal.never_committed]
    except (TypeError, ValueError):
        return None
    for number, (first, last) in enumerate(gaps):
        # Gaps in order, inside the block, each after at least one row but the first:
        # as `block_build` writes them.
        if first < start or last < first or last > seal.last_id:
            return None
        if first == start and number > 0:
            return None
        if first > start:
            runs.append((start, first - 1))
        start = last + 1
    if start <= seal.last_id:
        runs.append((start, seal.last_id))
    return runs


def _seal_link(seal: AuditSeal, key: ChainKey, runs: list[tuple[int, int]]) -> str:
    """The link after `seal` recomputed from its own gaps and stored digests."""
    digests = bytes(seal.row_digests)
    link = bytes.fromhex(seal.previous_link)
    position = 0
    gaps = iter(seal.never_committed)
    expected = seal.first_id
    for first, last in runs:
        if first > expected:
            gap_first, gap_last = next(gaps)
            link = gap_link(key, link, gap_first, gap_last)
        for row_id in range(first, last + 1):
            link = row_link(
                key, link, row_id, digests[position : position + DIGEST_SIZE]
            )
            position += DIGEST_SIZE
        expected = last + 1
    for gap_first, gap_last in gaps:
        link = gap_link(key, link, gap_first, gap_last)
    return link.hex()


def _seal_intact(seal: AuditSeal, key: ChainKey) -> list[tuple[int, int]] | None:
    runs = _runs(seal)
    if runs is None:
        return None
    present = sum(last - first + 1 for first, last in runs)
    if len(bytes(seal.row_digests)) != present * DIGEST_SIZE:
        return None
    if seal.scheme != SCHEME or _seal_link(seal, key, runs) != seal.link:
        return None
    return runs


def _sealed_ids(runs: list[tuple[int, int]]) -> Iterator[int]:
    for first, last in runs:
        yield from range(first, last + 1)


def _rows_against_seal(
    seal: AuditSeal, key: ChainKey, runs: list[tuple[int, int]]
) -> tuple[Break | None, int]:
    """Compare the rows in the seal's range with it; the first break and rows read."""
    digests = bytes(seal.row_digests)
    rows = rows_read(first_id=seal.first_id, last_id=seal.last_id)
    sealed = _sealed_ids(runs)
    position = 0
    expected = next(sealed, None)
    for row_id, canonical in rows:
        if expected is None or row_id < expected:
            return Break(ChainBreak.ROW_APPEARED, seal.pk, row_id), len(rows)
        if row_id > expected:
            return Break(ChainBreak.ROW_MISSING, seal.pk, expected), len(rows)
        digest = row_digest(key, canonical)
        if digest != digests[position : position + DIGEST_SIZE]:
            by_digest = {
                digests[i * DIGEST_SIZE : (i + 1) * DIGEST_SIZE]: sealed_id
                for i, sealed_id in enumerate(_sealed_ids(runs))
            }
            other = by_digest.get(digest)
            if other is not None and other != row_id:
                return (
                    Break(ChainBreak.ROWS_REORDERED, seal.pk, row_id, other),
                    len(rows),
                )
            return Break(ChainBreak.ROW_CHANGED, seal.pk, row_id), len(rows)
        position += DIGEST_SIZE
        expected = next(sealed, None)
    if expected is not None:
        return Break(ChainBreak.ROW_MISSING, seal.pk, expected), len(rows)
    return None, len(rows)


def chain_verify(*, anchors: Sequence[tuple[int, str]] = ()) -> ChainReport:
    """Recompute the chain from the rows and the seals; stop at the first break.

    `anchors` are ends of the chain known from earlier (last row sealed, link there):
    each must still be the end of one of the seals.
    """
    last_seal = AuditSeal.objects.order_by("-first_id").first()
    up_to = last_seal.last_id if last_seal is not None else 0
    seals_checked = rows_checked = 0
    link = GENESIS
    expected_first = 1
    ends: dict[int, str] = {}
    keys = known_keys()

    def report(broken: Break | None) -> ChainReport:
        unsealed = AuditEntry.objects.filter(id__gt=up_to).count()
        return ChainReport(
            broken,
            seals_checked,
            rows_checked,
            expected_first - 1 if expected_first > 1 else None,
            link if expected_first > 1 else "",
            unsealed,
        )

    stray = AuditEntry.objects.filter(id__lt=1).order_by("id").first()
    if stray is not None:
        return report(Break(ChainBreak.ROW_APPEARED, None, stray.pk))
    seals = AuditSeal.objects.filter(first_id__lte=up_to).order_by("first_id")
    for seal in seals.iterator(chunk_size=20):
        if seal.first_id != expected_first or seal.previous_link != link:
            return report(Break(ChainBreak.SEAL_BROKEN, seal.pk, expected_first))
        key = keys.get(seal.key_id)
        if key is None:
            return report(Break(ChainBreak.SEAL_OTHER_KEY, seal.pk))
        runs = _seal_intact(seal, key)
        if runs is None:
            return report(Break(ChainBreak.SEAL_ALTERED, seal.pk))
        broken, read = _rows_against_seal(seal, key, runs)
        rows_checked += read
        if broken is not None:
            return report(broken)
        seals_checked += 1
        link = seal.link
        expected_first = seal.last_id + 1
        ends[seal.last_id] = seal.link
    for row, anchor_link in anchors:
        if ends.get(row) != anchor_link:
            return report(Break(ChainBreak.HEAD_LOST, None, row))
    return report(None)
