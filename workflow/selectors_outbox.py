"""Reads of the outbox: the Outgoing e-mails page, and the backlog monitoring asks for."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from .models import OutboxMessage, OutboxState


def outbox_messages() -> QuerySet[OutboxMessage]:
    """Every e-mail, newest first, with what its row on the page names."""
    return OutboxMessage.objects.select_related("recipient", "proposal").order_by(
        "-created_at", "-id"
    )


class OutboxBacklog(NamedTuple):
    """E-mails due and not sent yet, and how long the oldest of them has waited
    since it was written (None when there are none)."""

    due: int
    oldest_age: timedelta | None


def outbox_backlog(*, now: datetime | None = None) -> OutboxBacklog:
    """The e-mails due now that are not sent, in one query: a growing count or an old
    oldest one means nothing sends them (no worker, no `process_outbox`). E-mails
    waiting for their next try after a failure are not due yet and not counted."""
    now = now if now is not None else timezone.now()
    found = OutboxMessage.objects.filter(
        state=OutboxState.PENDING, next_attempt_at__lte=now
    ).aggregate(count=Count("pk"), oldest=Min("created_at"))
    oldest = found["oldest"]
    return OutboxBacklog(found["count"], now - oldest if oldest else None)
