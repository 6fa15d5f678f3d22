"""Writes of customer master data and of the governed reference tables; every path
(admin, import, tasks) comes through here."""

from __future__ import annotations

from collections.abc import Mapping

from workflow.models import Source
from workflow.services import (
    RecordChangeOutcome,
    governed_record_create,
    governed_record_update,
    governed_record_update_as_entity,
)

from .models import CashDiscount, Customer, PaymentTerms


def customer_create(
    *, values: dict[str, object], actor, source: Source = Source.BROWSER
) -> Customer:
    """Create a customer: active, or awaiting approval where the parameters say new
    customers wait for it (the creation is then a proposal the workflow decides)."""
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
    loaded: Mapping[str, object] | None = None,
) -> RecordChangeOutcome:
    """Change a customer: fields under approval become a proposal, the others save now.

    `expected_version` refuses the change if the customer changed since the form
    loaded; with `loaded` (the values the form was loaded with) only the fields
    someone else changed too are held back, for the user to choose.
    """
    return governed_record_update(
        model=Customer,
        pk=customer_id,
        values=values,
        actor=actor,
        source=source,
        expected_version=expected_version,
        loaded=loaded,
    )


def customer_update_as_entity(
    *,
    customer_id: int,
    values: dict[str, object],
    actor,
    source: Source = Source.API,
    expected_version: str | None = None,
    justification: str = "",
) -> RecordChangeOutcome:
    """Change a customer through the API: fields under approval follow the data
    entity behaviour of the parameters (write, refuse, or propose and submit)."""
    return governed_record_update_as_entity(
        model=Customer,
        pk=customer_id,
        values=values,
        actor=actor,
        source=source,
        expected_version=expected_version,
        justification=justification,
    )


def payment_terms_create(
    *, values: dict[str, object], actor, source: Source = Source.BROWSER
) -> PaymentTerms:
    """Create terms of payment. A new code needs no approval: no customer uses it yet."""
    return governed_record_create(
        model=PaymentTerms, values=values, actor=actor, source=source
    )


def payment_terms_update(
    *,
    payment_terms_id: int,
    values: dict[str, object],
    actor,
    source: Source = Source.BROWSER,
    expected_version: str | None = None,
    loaded: Mapping[str, object] | None = None,
) -> RecordChangeOutcome:
    """Change terms of payment: the days, when under approval, become a proposal (they
    change when every customer on these terms must pay); the description saves now."""
    return governed_record_update(
        model=PaymentTerms,
        pk=payment_terms_id,
        values=values,
        actor=actor,
        source=source,
        expected_version=expected_version,
        loaded=loaded,
    )


def cash_discount_create(
    *, values: dict[str, object], actor, source: Source = Source.BROWSER
) -> CashDiscount:
    """Create a cash discount. A new code needs no approval: no customer uses it yet."""
    return governed_record_create(
        model=CashDiscount, values=values, actor=actor, source=source
    )


def cash_discount_update(
    *,
    cash_discount_id: int,
    values: dict[str, object],
    actor,
    source: Source = Source.BROWSER,
    expected_version: str | None = None,
    loaded: Mapping[str, object] | None = None,
) -> RecordChangeOutcome:
    """Change a cash discount: its days and percentage, when under approval, become a
    proposal; the description saves now."""
    return governed_record_update(
        model=CashDiscount,
        pk=cash_discount_id,
        values=values,
        actor=actor,
        source=source,
        expected_version=expected_version,
        loaded=loaded,
    )
