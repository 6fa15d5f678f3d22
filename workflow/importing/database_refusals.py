"""What to tell the importer when the database refuses an import's writes.

The planner checks every row against the records it read (and locked) for the row's
batch, so the database refuses only what someone else saved in the meantime: above
all a record created by another user with a key the file creates too (a row that does
not exist yet cannot be locked). That one is told by its key and line; anything else
in plain words, with what the database said.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.db import IntegrityError
from django.utils.text import capfirst

from ..exceptions import (
    IMPORT_REFUSED_BY_DATABASE,
    RECORD_CREATED_WHILE_IMPORTING,
    REFERENCE_DELETED_WHILE_IMPORTING,
)

if TYPE_CHECKING:
    from .plan import ImportPlanner

# PostgreSQL's SQLSTATE for a unique violation, and how its detail names the value:
# Key (lower((account)::text))=(c00001) already exists.
_UNIQUE_VIOLATION = "23505"
_TAKEN_VALUE = re.compile(
    r"^Key \((?P<columns>.*)\)=\((?P<value>.*)\) already exists\.$"
)
# A foreign key violation, and how its detail names the reference:
# Key (customer_group_id)=(3) is not present in table "customers_customergroup".
_FOREIGN_KEY_VIOLATION = "23503"
_MISSING_VALUE = re.compile(
    r"^Key \((?P<column>[^)]*)\)=\((?P<value>.*)\) is not present in table "
)


def database_refusal(error: IntegrityError, planner: ImportPlanner) -> str:
    """The refusal to show for an import the database refused with `error`."""
    cause = error.__cause__
    diagnosis = getattr(cause, "diag", None)
    if (
        diagnosis is not None
        and getattr(cause, "pgcode", None) == _UNIQUE_VIOLATION
        and diagnosis.table_name == planner.model._meta.db_table
    ):
        taken = _TAKEN_VALUE.match(diagnosis.message_detail or "")
        if taken and re.search(rf"\b{re.escape(planner.key)}\b", taken["columns"]):
            written = planner.row_of_key(taken["value"])
            if written is not None:
                key, line = written
                return str(
                    RECORD_CREATED_WHILE_IMPORTING
                    % {
                        "record": f"{capfirst(planner.model._meta.verbose_name)} {key}",
                        "line": line,
                    }
                )
    if (
        diagnosis is not None
        and getattr(cause, "pgcode", None) == _FOREIGN_KEY_VIOLATION
        and diagnosis.table_name == planner.model._meta.db_table
    ):
        deleted = _deleted_reference(diagnosis.message_detail or "", planner)
        if deleted:
            return deleted
    reason = getattr(diagnosis, "message_primary", None) or str(error)
    return str(IMPORT_REFUSED_BY_DATABASE % {"reason": reason})


def _deleted_reference(detail: str, planner: ImportPlanner) -> str:
    """The refusal for a reference the file names by its code, deleted after the
    import looked it up; "" when the detail names no such reference."""
    missing = _MISSING_VALUE.match(detail)
    if not missing:
        return ""
    for model_field in planner.model._meta.concrete_fields:
        if model_field.column != missing["column"] or not model_field.is_relation:
            continue
        known = planner.references.get(model_field.name, {})
        for code, pk in known.items():
            if pk is not None and str(pk) == missing["value"]:
                return str(
                    REFERENCE_DELETED_WHILE_IMPORTING
                    % {
                        "reference": capfirst(
                            model_field.related_model._meta.verbose_name
                        ),
                        "code": code,
                    }
                )
    return ""
