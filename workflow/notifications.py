"""Who hears about what: each e-mail a row of the outbox, written in the transaction
of the decision that causes it (`workflow.outbox` sends it after the commit)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .models import ChangeProposal, OutboxEvent, OutboxMessage
from .outbox import outbox_messages_write

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User

ASSIGNED = OutboxEvent.ASSIGNED
ESCALATED = OutboxEvent.ESCALATED
APPLIED = OutboxEvent.APPLIED
REJECTED = OutboxEvent.REJECTED
SENT_BACK = OutboxEvent.SENT_BACK
CONFLICT = OutboxEvent.CONFLICT
RECALLED = OutboxEvent.RECALLED


def _user_ids(recipients: Iterable[User | None]) -> list[int]:
    return sorted({user.pk for user in recipients if user is not None})


def notify(
    *,
    event: str,
    proposal: ChangeProposal,
    recipients: Iterable[User | None],
    comment: str = "",
) -> None:
    """Mail each of `recipients` about `event` on the proposal: one outbox row each,
    in the current transaction, sent after it commits."""
    # The step as it is now: by the time the mail goes out it may have moved on.
    step = proposal.current_step.name if proposal.current_step else ""
    outbox_messages_write(
        [
            OutboxMessage(
                event=event,
                proposal=proposal,
                recipient_id=user_id,
                comment=comment,
                step=step,
            )
            for user_id in _user_ids(recipients)
        ]
    )


def notify_many(
    *, event: str, proposal_ids: list[int], recipients: Iterable[User | None]
) -> None:
    """One e-mail per recipient about many proposals at once (an import's, say)."""
    if not proposal_ids:
        return
    outbox_messages_write(
        [
            OutboxMessage(
                event=event, proposal_ids=list(proposal_ids), recipient_id=user_id
            )
            for user_id in _user_ids(recipients)
        ]
    )


def notify_submitter(
    *, event: str, proposal: ChangeProposal, comment: str = ""
) -> None:
    notify(
        event=event,
        proposal=proposal,
        recipients=[proposal.submitted_by],
        comment=comment,
    )
