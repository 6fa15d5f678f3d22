"""Many rows in one statement, for the bulk paths (imports, bulk approval, audit rows).

Django's bulk_create and bulk_update compile every value through the query compiler and
bulk_update builds a CASE per field and row; at hundreds of thousands of rows that costs
far more in Python than the write costs PostgreSQL. On PostgreSQL new rows go in by
COPY (primary keys taken from the table's sequence first), and updates as one
UPDATE … FROM (VALUES …) per chunk with the values quoted by the driver. Every statement
passes Django's execute wrappers and query log, so query counts still see it.
Elsewhere these functions fall back to Django's own bulk methods.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import io
import json
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii

from django.db import connection, models, transaction
from django.utils import timezone
from psycopg2.extras import Json

from . import write_behind

CHUNK_ROWS = 5000
# Types whose values pass to the database as they are once the model has cleaned them:
# their own get_db_prep_save would only return the same value, slower.
_PLAIN_FIELDS = {
    models.CharField,
    models.TextField,
    models.EmailField,
    models.IntegerField,
    models.SmallIntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
    models.BooleanField,
    models.DecimalField,
}
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


_NEEDS_ESCAPE = re.compile(r"[\\\n\r\t]")


def _copy_escaped(value: str) -> str:
    # Most values have nothing to escape; finding that out is five times cheaper
    # than translating them.
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return value.translate(_COPY_ESCAPES)


class _CopyText(str):
    """Text already in COPY's form (escaped once for the many rows that share it)."""


def _copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return _copy_escaped(value)
    if isinstance(value, (int, decimal.Decimal, float, uuid.UUID)):
        return str(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, Json):
        return _copy_escaped(value.dumps(value.adapted))
    raise TypeError(f"no COPY form for {type(value).__name__}")


# The common exact types, looked up by class: one dict lookup per value instead of a
# chain of isinstance checks (a million values per 100k-row import).
_COPY_BY_TYPE = {
    str: _copy_escaped,
    _CopyText: str.__str__,
    type(None): lambda value: "\\N",
    bool: lambda value: "t" if value else "f",
    int: str,
    decimal.Decimal: str,
    datetime.datetime: datetime.datetime.isoformat,
}


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    """COPY `rows` (database values) into `table`, logged and wrapped like a query."""
    buffer = io.StringIO()
    by_type = _COPY_BY_TYPE.get
    for row in rows:
        buffer.write("\t".join([(by_type(v.__class__) or _copy_text)(v) for v in row]))
        buffer.write("\n")
    # The driver reads the rows in pieces of `size` characters: all at once.
    size = max(8192, buffer.tell())
    buffer.seek(0)
    names = ", ".join(f'"{c}"' for c in columns)
    statement = f'COPY "{table}" ({names}) FROM STDIN'
    write_behind.execute(
        cursor, statement, lambda driver: driver.copy_expert(statement, buffer, size)
    )


_NOTHING = object()


def _db_value_getter(model_field: models.Field, *, adding: bool | None):
    """How to read one field of an instance as the database value, fast where safe.

    `adding` is passed to the field's pre_save (automatic timestamps); None reads the
    value as it stands.
    """
    if type(model_field) in _PLAIN_FIELDS and not getattr(
        model_field, "auto_now", False
    ):
        attname = model_field.attname
        return lambda obj: getattr(obj, attname)
    if type(model_field) is models.ForeignKey and type(model_field.target_field) in (
        models.AutoField,
        models.BigAutoField,
    ):
        attname = model_field.attname
        return lambda obj: getattr(obj, attname)
    if adding is None:
        attname = model_field.attname
        if type(model_field) in (models.DateTimeField, models.DateField):
            # The rows written together mostly hold one and the same time (the
            # batch's): converted once for each run of it, not once per row.
            last: list[object] = [_NOTHING, None]

            def converted(obj):
                value = getattr(obj, attname)
                if value is not last[0]:
                    last[:] = value, model_field.get_db_prep_save(value, connection)
                return last[1]

            return converted
        return lambda obj: model_field.get_db_prep_save(
            getattr(obj, attname), connection
        )
    if type(model_field) is models.DateTimeField and (
        model_field.auto_now or (adding and model_field.auto_now_add)
    ):
        # One time for every row of the statement, as PostgreSQL's now() is one time
        # for a transaction: read and converted once, not once per row.
        attname = model_field.attname
        now = timezone.now()
        db_now = model_field.get_db_prep_save(now, connection)

        def stamped(obj):
            setattr(obj, attname, now)
            return db_now

        return stamped
    if type(model_field) is models.DateTimeField and _passes_aware_times(model_field):
        # A time given with its zone goes to the database as it is: not converted
        # through the field once per row (a new record's creation time, say).
        attname = model_field.attname
        prepared = model_field.get_db_prep_save

        def as_given(obj):
            value = getattr(obj, attname)
            if value.__class__ is datetime.datetime and value.utcoffset() is not None:
                return value
            return prepared(value, connection)

        return as_given
    return lambda obj: model_field.get_db_prep_save(
        model_field.pre_save(obj, adding), connection
    )


def _passes_aware_times(model_field: models.DateTimeField) -> bool:
    """Whether the field stores a time with its zone unchanged (no automatic time of
    its own, and this connection's driver takes the datetime itself)."""
    if model_field.auto_now or model_field.auto_now_add:
        return False
    probe = timezone.now()
    return model_field.get_db_prep_save(probe, connection) is probe


def _quoted_rows(cursor, rows: Sequence[Sequence[object]], width: int) -> str:
    placeholders = "(" + ", ".join(["%s"] * width) + ")"
    mogrify = cursor.cursor.mogrify
    return ", ".join(mogrify(placeholders, row).decode() for row in rows)


def _update_all(statement: str, table: str, count: int, driver_cursor) -> None:
    # No parameters: the values are already quoted by the driver, so no % is read twice.
    driver_cursor.execute(statement)
    if driver_cursor.rowcount != count:
        raise RuntimeError(
            f"{table}: {driver_cursor.rowcount} of {count} rows were updated"
        )


def instances_insert(
    model: type[models.Model], instances: Sequence[models.Model], *, keys: bool = True
) -> None:
    """Insert new model instances, like bulk_create; with `keys`, each gets its primary
    key (taken from the table's sequence first, one query), else the table assigns them."""
    if not instances:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(instances, batch_size=500)
        return
    if keys:
        _keys_given(model, instances)
    _copy_instances(model, instances, with_keys=keys)


@contextmanager
def instances_inserted_as_left(
    model: type[models.Model],
    instances: Sequence[models.Model],
    *,
    changing: list[str],
) -> Iterator[None]:
    """New instances with their primary keys at once, written as the block leaves them.

    For rows that move on before they are written (an import's proposals are
    submitted, and some applied, in the same batch): on PostgreSQL one COPY of their
    last values when the block ends, not a COPY and then an UPDATE of `changing`.
    Elsewhere they are inserted at once and `changing` updated at the end. Rows that
    name these (their changes, work items) are written after the block.
    """
    if not instances:
        yield
        return
    if connection.vendor != "postgresql":
        instances_insert(model, instances)
        yield
        rows_update(model, instances, changing)
        return
    _keys_given(model, instances)
    yield
    _copy_instances(model, instances, with_keys=True)


def _keys_given(model: type[models.Model], instances: Sequence[models.Model]) -> None:
    with connection.cursor() as cursor:
        for obj, pk in zip(
            instances, _new_keys(cursor, model._meta, len(instances)), strict=True
        ):
            obj.pk = pk


def _copy_instances(
    model: type[models.Model], instances: Sequence[models.Model], *, with_keys: bool
) -> None:
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.primary_key]
    getters = [_db_value_getter(f, adding=True) for f in fields]
    columns = [f.column for f in fields]
    if with_keys:
        getters = [lambda obj: obj.pk, *getters]
        columns = [opts.pk.column, *columns]
    with connection.cursor() as cursor:
        _copy(
            cursor,
            opts.db_table,
            columns,
            ([get(obj) for get in getters] for obj in instances),
        )
    if with_keys:
        for obj in instances:
            obj._state.adding = False
            obj._state.db = connection.alias


@dataclass
class _KeysTaken:
    """Keys taken from a table's sequence and not yet used, in a write-behind block."""

    keys: list[int] = field(default_factory=list)


def keys_ahead(model: type[models.Model], count: int) -> None:
    """In a write-behind block (an import), have `count` new keys of `model` at hand,
    taken now: called where the import reads a batch, when no write of the batch
    before waits to run, so that the insert that uses them does not wait for those
    writes. A key taken and not used is a gap in the numbering, as a rolled-back
    insert leaves one."""
    taken = write_behind.kept(("keys", model._meta.db_table), _KeysTaken)
    if taken is None or len(taken.keys) >= count or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        taken.keys += _next_values(cursor, model._meta, count - len(taken.keys))


def _new_keys(cursor, opts, count: int) -> list[int]:
    """`count` new primary keys from the table's sequence, those taken ahead first."""
    taken = write_behind.kept(("keys", opts.db_table), _KeysTaken)
    if taken is None:
        return _next_values(cursor, opts, count)
    if len(taken.keys) < count:
        taken.keys += _next_values(cursor, opts, count - len(taken.keys))
    keys, taken.keys = taken.keys[:count], taken.keys[count:]
    return keys


def _next_values(cursor, opts, count: int) -> list[int]:
    # A sequence's next keys do not depend on the writes still queued.
    with write_behind.reads_ahead():
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
            "FROM generate_series(1, %s)",
            [opts.db_table, opts.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def rows_insert(
    model: type[models.Model],
    attnames: Sequence[str],
    rows: Sequence[Sequence[object]],
) -> None:
    """Insert plain rows (values in the order of `attnames`), when no instance is needed.

    Values are what the model attributes would hold; JSON fields take Python values.
    """
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in attnames]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            [model(**dict(zip(attnames, row, strict=True))) for row in rows],
            batch_size=500,
        )
        return
    json_positions = [
        i for i, f in enumerate(fields) if isinstance(f, models.JSONField)
    ]
    if json_positions:
        rows = [list(row) for row in rows]
        # Rows often share one value (an import's note in every language): dumped once.
        # (Each value is kept with its text, so that its id cannot be reused meanwhile.)
        dumped: dict[tuple[int, int], tuple[object, str]] = {}
        # Text (an old or new value) is mostly new on every row: encoded as json.dumps
        # would, without building an encoder per value (ten times the cost).
        plain_text = {i for i in json_positions if _encodes_text_plainly(fields[i])}
        for row in rows:
            for i in json_positions:
                value = row[i]
                if value.__class__ is str and i in plain_text:
                    row[i] = _CopyText(_copy_escaped(encode_basestring_ascii(value)))
                elif value is not None:
                    seen = dumped.get((i, id(value)))
                    if seen is None:
                        seen = dumped[i, id(value)] = (
                            value,
                            _CopyText(
                                _copy_escaped(json.dumps(value, cls=fields[i].encoder))
                            ),
                        )
                    row[i] = seen[1]
    with connection.cursor() as cursor:
        _copy(cursor, model._meta.db_table, [f.column for f in fields], rows)


def _encodes_text_plainly(model_field: models.JSONField) -> bool:
    """Whether the field's encoder writes a string as json.JSONEncoder does."""
    encoder = model_field.encoder or json.JSONEncoder
    return (
        issubclass(encoder, json.JSONEncoder)
        and encoder.encode is json.JSONEncoder.encode
        and encoder.iterencode is json.JSONEncoder.iterencode
    )


def rows_update(
    model: type[models.Model],
    instances: Sequence[models.Model],
    field_names: list[str],
) -> None:
    """Write `field_names` of many existing rows; every one of them must be found."""
    if not instances:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(instances, field_names, batch_size=500)
        return
    fields = [model._meta.get_field(name) for name in field_names]
    getters = [_db_value_getter(f, adding=None) for f in fields]
    pk = model._meta.pk

    def cast(model_field) -> str:
        # Text is cast to text, not varchar(n): an over-long value must fail, not be cut.
        if isinstance(model_field, (models.CharField, models.TextField)):
            return "text"
        return model_field.db_type(connection)

    casts = [cast(f) for f in fields]
    table = model._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(instances), CHUNK_ROWS):
            chunk = instances[start : start + CHUNK_ROWS]
            rows = [[get(obj) for get in getters] for obj in chunk]
            # A value every row shares (the batch's time, say) is quoted once, in the
            # SET, not once per row in the VALUES list.
            first = rows[0]
            shared = {
                i for i, value in enumerate(first) if all(r[i] is value for r in rows)
            }
            varying = [i for i in range(len(fields)) if i not in shared]
            mogrify = cursor.cursor.mogrify
            assignments = ", ".join(
                f'"{fields[i].column}" = '
                + (
                    f"{mogrify('%s', [first[i]]).decode()}::{casts[i]}"
                    if i in shared
                    else f'v."{fields[i].column}"::{casts[i]}'
                )
                for i in range(len(fields))
            )
            names = ", ".join(
                f'"{c}"' for c in [pk.column, *(fields[i].column for i in varying)]
            )
            values = [
                [obj.pk, *(row[i] for i in varying)]
                for obj, row in zip(chunk, rows, strict=True)
            ]
            statement = (
                f'UPDATE "{table}" AS t SET {assignments} FROM '
                f"(VALUES {_quoted_rows(cursor, values, 1 + len(varying))}) AS v({names}) "
                f'WHERE t."{pk.column}" = v."{pk.column}"::{pk.db_type(connection)}'
            )
            write_behind.execute(
                cursor,
                statement,
                functools.partial(_update_all, statement, table, len(values)),
            )


def references_checked_as_written() -> None:
    """In the transaction of a bulk write on PostgreSQL: each foreign key checked when
    the statement that writes it ends, not all at COMMIT.

    Django declares its foreign keys DEFERRABLE INITIALLY DEFERRED, so an import's
    many checks (a proposed change names its proposal, a work item its proposal,
    step and approver) would all run at COMMIT, one after the other, while the
    import waits. Checked per statement they run where the statements run: beside
    the import's Python, in write-behind's thread. The bulk paths write a row only
    after the rows it names, so no check needs the end of the transaction. (The
    audit trail's references are checked once per statement by a trigger of its own:
    migration workflow 0024.)
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@contextmanager
def key_lookups_by_index() -> Iterator[None]:
    """Around an import or its preview: PostgreSQL finds each batch's rows by their
    unique indexes, never by scanning the table (in a transaction, begun here if none
    is open: the setting lasts until it ends).

    A batch looks its keys up (folded, and as written when not all ASCII), its open
    proposals by record, and its UPDATE … FROM joins its rows by primary key.
    PostgreSQL's cost model prices those probes so high against a scan that it scans a
    table of up to some hundred thousand rows once per batch, and more often when the
    table has grown since it was last analyzed (a large import creates the rows it will
    look up next): on 2 cores, one batch of 500 rows of a file creating 100,000
    customers took 26 ms near the end by scanning, 1.4 ms by its indexes. A statement
    that no index can serve still scans.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        yield
