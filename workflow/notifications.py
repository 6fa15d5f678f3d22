"""Who hears about what. Mail goes out through a task, and only after the commit."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction

from .models import ChangeProposal

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User

ASSIGNED = "assigned"
ESCALATED = "escalated"
APPLIED = "applied"
REJECTED = "rejected"
SENT_BACK = "sent_back"
CONFLICT = "conflict"


def notify(
    *,
    event: str,
    proposal: ChangeProposal,
    recipients: Iterable[User | None],
    comment: str = "",
) -> None:
    """Mail `recipients` about `event` once the current transaction commits."""
    from .tasks import send_notification

    user_ids = sorted({user.pk for user in recipients if user is not None})
    if not user_ids:
        return
    transaction.on_commit(
        partial(
            send_notification.enqueue,
            event=event,
            proposal_id=proposal.pk,
            user_ids=user_ids,
            comment=comment,
            # The step as it is now: by the time the mail goes out it may have moved on.
            step=proposal.current_step.name if proposal.current_step else "",
        )
    )


def notify_many(
    *, event: str, proposal_ids: list[int], recipients: Iterable[User | None]
) -> None:
    """One e-mail per recipient about many proposals at once (an import's, say)."""
    from .tasks import send_digest

    user_ids = sorted({user.pk for user in recipients if user is not None})
    if not user_ids or not proposal_ids:
        return
    transaction.on_commit(
        partial(
            send_digest.enqueue,
            event=event,
            proposal_ids=list(proposal_ids),
            user_ids=user_ids,
        )
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
