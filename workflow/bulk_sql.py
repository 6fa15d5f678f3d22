"""Many rows in one statement, for the bulk paths (imports, bulk approval, audit rows).

Django's bulk_create and bulk_update compile every value through the query compiler and
bulk_update builds a CASE per field and row; at hundreds of thousands of rows that costs
far more in Python than the write costs PostgreSQL. On PostgreSQL these functions let
the driver quote each row (psycopg2's `mogrify`, in C) and send one INSERT … VALUES or
UPDATE … FROM (VALUES …) per chunk, through Django's cursor so that query counting and
logging still see it. Elsewhere they fall back to Django's own bulk methods.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models

CHUNK_ROWS = 2000


def _quoted_rows(cursor, rows: Sequence[Sequence[object]], width: int) -> str:
    placeholders = "(" + ", ".join(["%s"] * width) + ")"
    mogrify = cursor.cursor.mogrify
    return ", ".join(mogrify(placeholders, row).decode() for row in rows)


def _execute_literal(cursor, statement: str) -> None:
    # No parameters: the values are already quoted by the driver, so no % is read twice.
    cursor.execute(statement)


def instances_insert(model: type[models.Model], instances: list[models.Model]) -> None:
    """Insert new model instances and give each its primary key, like bulk_create."""
    if not instances:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(instances, batch_size=500)
        return
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.primary_key]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    with connection.cursor() as cursor:
        for start in range(0, len(instances), CHUNK_ROWS):
            chunk = instances[start : start + CHUNK_ROWS]
            rows = [
                [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
                for obj in chunk
            ]
            _execute_literal(
                cursor,
                f'INSERT INTO "{opts.db_table}" ({columns}) VALUES '
                f"{_quoted_rows(cursor, rows, len(fields))} "
                f'RETURNING "{opts.pk.column}"',
            )
            # PostgreSQL returns the rows of a multi-row VALUES insert in order.
            for obj, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias


def rows_insert(
    model: type[models.Model], attnames: Sequence[str], rows: list[Sequence[object]]
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
        for row in rows:
            for i in json_positions:
                row[i] = fields[i].get_db_prep_save(row[i], connection)
    columns = ", ".join(f'"{f.column}"' for f in fields)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK_ROWS):
            _execute_literal(
                cursor,
                f'INSERT INTO "{model._meta.db_table}" ({columns}) VALUES '
                f"{_quoted_rows(cursor, rows[start : start + CHUNK_ROWS], len(fields))}",
            )


def rows_update(
    model: type[models.Model], instances: list[models.Model], field_names: list[str]
) -> None:
    """Write `field_names` of many existing rows; every one of them must be found."""
    if not instances:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(instances, field_names, batch_size=500)
        return
    fields = [model._meta.get_field(name) for name in field_names]
    pk = model._meta.pk
    columns = [pk.column] + [f.column for f in fields]

    def cast(model_field) -> str:
        # Text is cast to text, not varchar(n): an over-long value must fail, not be cut.
        if isinstance(model_field, (models.CharField, models.TextField)):
            return "text"
        return model_field.db_type(connection)

    assignments = ", ".join(f'"{f.column}" = v."{f.column}"::{cast(f)}' for f in fields)
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        for start in range(0, len(instances), CHUNK_ROWS):
            chunk = instances[start : start + CHUNK_ROWS]
            rows = [
                [obj.pk]
                + [
                    f.get_db_prep_save(getattr(obj, f.attname), connection)
                    for f in fields
                ]
                for obj in chunk
            ]
            _execute_literal(
                cursor,
                f'UPDATE "{model._meta.db_table}" AS t SET {assignments} FROM '
                f"(VALUES {_quoted_rows(cursor, rows, len(columns))}) AS v({names}) "
                f'WHERE t."{pk.column}" = v."{pk.column}"::{pk.db_type(connection)}',
            )
            if cursor.rowcount != len(rows):
                raise RuntimeError(
                    f"{model._meta.db_table}: {cursor.rowcount} of {len(rows)} rows "
                    "were updated"
                )
