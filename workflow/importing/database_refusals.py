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

from ..exceptions import IMPORT_REFUSED_BY_DATABASE, RECORD_CREATED_WHILE_IMPORTING

if TYPE_CHECKING:
    from .plan import ImportPlanner

# PostgreSQL's SQLSTATE for a unique violation, and how its detail names the value:
# Key (lower((account)::text))=(c00001) already exists.
_UNIQUE_VIOLATION = "23505"
_TAKEN_VALUE = re.compile(
    r"^Key \((?P<columns>.*)\)=\((?P<value>.*)\) already exists\.$"
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
    reason = getattr(diagnosis, "message_primary", None) or str(error)
    return str(IMPORT_REFUSED_BY_DATABASE % {"reason": reason})
