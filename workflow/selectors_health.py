"""What the health endpoint reads about the background processes."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils import timezone

from .models import ProcessHeartbeat


@dataclass(frozen=True)
class ProcessHealth:
    """How many processes of one kind are on time, and since when the kind was last
    heard of (None: never, or forgotten)."""

    process: str
    on_time: int
    last_beat_at: datetime.datetime | None

    @property
    def ok(self) -> bool:
        return self.on_time > 0


def processes_health(
    *, processes: Iterable[str], now: datetime.datetime | None = None
) -> dict[str, ProcessHealth]:
    """For each kind of process, its processes that beat within their allowance; one
    query."""
    now = now or timezone.now()
    kinds = list(processes)
    seen = {
        row["process"]: row
        for row in ProcessHeartbeat.objects.filter(process__in=kinds)
        .values("process")
        .annotate(last=Max("beat_at"), on_time=Count("pk", filter=Q(late_at__gt=now)))
    }
    return {
        kind: ProcessHealth(
            process=kind,
            on_time=seen[kind]["on_time"] if kind in seen else 0,
            last_beat_at=seen[kind]["last"] if kind in seen else None,
        )
        for kind in kinds
    }
