"""Signs of life of the background processes, which the health endpoint reads."""

from __future__ import annotations

import datetime

from django.utils import timezone

from ..models import ProcessHeartbeat

# A process silent this long is forgotten (a container replaced, a worker scaled away).
FORGET_AFTER = datetime.timedelta(days=1)


def process_heartbeat_record(
    *,
    process: str,
    name: str,
    started_at: datetime.datetime,
    late_after: datetime.timedelta,
    now: datetime.datetime | None = None,
) -> ProcessHeartbeat:
    """Record that the process `name` (of the kind `process`: worker, escalations,
    imports) lives now and is late if it says nothing more for `late_after`; forget
    processes silent for a day."""
    now = now or timezone.now()
    heartbeat, _created = ProcessHeartbeat.objects.update_or_create(
        name=name,
        defaults={
            "process": process,
            "started_at": started_at,
            "beat_at": now,
            "late_at": now + late_after,
        },
    )
    ProcessHeartbeat.objects.filter(beat_at__lt=now - FORGET_AFTER).delete()
    return heartbeat


def process_heartbeat_forget(*, name: str) -> None:
    """A process that stops on purpose (scaled down, restarted) leaves no heartbeat
    that would keep saying it runs."""
    ProcessHeartbeat.objects.filter(name=name).delete()
