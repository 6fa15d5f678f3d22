"""Writes of customer master data; every path (admin, import, tasks) comes through here."""

from __future__ import annotations

from workflow.models import Source
from workflow.services import (
    RecordChangeOutcome,
    governed_record_create,
    governed_record_update,
)

from .models import Customer


def customer_create(
    *, values: dict[str, object], actor, source: Source = Source.BROWSER
) -> Customer:
    """Create a customer. Approval governs changes of existing customers only."""
    return governed_record_create(
        model=Customer, values=values, actor=actor, source=source
    )


def customer_update(
    *,
    customer_id: int,
    values: dict[str, object],
    actor,
    source: Source = Source.BROWSER,
    expected_version: str | None = None,
) -> RecordChangeOutcome:
    """Change a customer: fields under approval become a proposal, the others save now.

    `expected_version` refuses the change if the customer changed since the form loaded.
    """
    return governed_record_update(
        model=Customer,
        pk=customer_id,
        values=values,
        actor=actor,
        source=source,
        expected_version=expected_version,
    )
