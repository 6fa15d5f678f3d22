"""Changes that arrive through a data entity (the REST API): the parameters' data entity
behaviour decides what becomes of fields under approval, as it does for an import."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models, transaction

from .. import selectors
from ..core import changes
from ..models import Source
from .decisions import proposal_submit
from .records import RecordChangeOutcome, governed_record_update

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User


def governed_record_update_as_entity(
    *,
    model: type[models.Model],
    pk: int,
    values: dict[str, object],
    actor: User,
    source: Source = Source.API,
    expected_version: str | None = None,
    justification: str = "",
) -> RecordChangeOutcome:
    """Change a record as a data entity does: under "Allow changes without approval"
    every field is written; under "Reject changes" a change of a field under approval
    refuses the whole change (a ValidationError naming each field) and nothing is
    written; under "Create change proposals" the other fields are written and the
    governed ones become a proposal, submitted on the actor's behalf with
    `justification`. A proposal that cannot be submitted (no active workflow, a
    justification required, the actor may not submit) undoes the whole change.

    `expected_version` refuses a record changed since the caller read it (StaleRecord).
    """
    behaviour = selectors.approval_settings_for(model).data_entity_behavior
    with transaction.atomic():
        outcome = governed_record_update(
            model=model,
            pk=pk,
            values=values,
            actor=actor,
            source=source,
            expected_version=expected_version,
            behaviour=behaviour,
        )
        if (
            behaviour == changes.PROPOSE
            and outcome.proposal is not None
            and outcome.proposed_fields
        ):
            outcome.proposal = proposal_submit(
                proposal=outcome.proposal,
                actor=actor,
                source=source,
                justification=justification,
            )
    return outcome
