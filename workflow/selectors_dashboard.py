"""Reads of the approvals dashboard on the admin index: counts, not rows.

Each read is one aggregate query whatever the number of proposals, so the index page
costs the same at 100 proposals as at 100,000. Days are days in the current time zone.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from . import registry
from .models import (
    ChangeProposal,
    DashboardTally,
    ProposalState,
    TallyKind,
    WorkItem,
    WorkItemState,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User

# Users who may see the dashboard need both: it counts every proposal (change
# proposals) and shows how the approval process runs (the audit trail). Clerks may view
# proposals but not the audit trail, so they see no dashboard.
DASHBOARD_PERMISSIONS = ("workflow.view_changeproposal", "workflow.view_auditentry")

RECENT_DAYS = 30
TOP_FIELDS = 5

# Open proposals in the order an approver cares about them.
STATE_ORDER = (
    ProposalState.PENDING,
    ProposalState.CHANGES_REQUESTED,
    ProposalState.DRAFT,
)

# (key, label, age from, age up to): the age of an open proposal is the time since it
# was last submitted, or for a draft since it was created.
AGE_BUCKETS: tuple[tuple[str, Promise, timedelta, timedelta | None], ...] = (
    ("day", _("Less than 1 day"), timedelta(0), timedelta(days=1)),
    ("week", _("1 to 7 days"), timedelta(days=1), timedelta(days=7)),
    ("month", _("7 to 30 days"), timedelta(days=7), timedelta(days=30)),
    ("older", _("More than 30 days"), timedelta(days=30), None),
)


@dataclass(frozen=True)
class StateCount:
    state: str
    label: str
    count: int


@dataclass(frozen=True)
class LabelCount:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class OpenProposals:
    by_state: list[StateCount]
    by_age: list[LabelCount]
    recent_conflicts: int

    @property
    def total(self) -> int:
        return sum(s.count for s in self.by_state)


@dataclass(frozen=True)
class OverdueWorkItems:
    work_items: int
    proposals: int


@dataclass(frozen=True)
class ApprovalsDashboard:
    as_of: datetime.datetime
    days: int
    open_proposals: OpenProposals
    approvals_per_day: list[tuple[datetime.date, int]]
    median_time_to_apply: timedelta | None
    overdue: OverdueWorkItems
    top_fields: list[LabelCount]

    @property
    def approvals(self) -> int:
        return sum(count for _day, count in self.approvals_per_day)


def dashboard_visible_to(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.has_perms(DASHBOARD_PERMISSIONS))


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def recent_window(
    now: datetime.datetime, days: int = RECENT_DAYS
) -> tuple[list[datetime.date], datetime.datetime, datetime.datetime]:
    """The last `days` local days up to and including today, and their start and end."""
    today = timezone.localdate(now)
    dates = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    return dates, _local_midnight(dates[0]), _local_midnight(today + timedelta(days=1))


def _tallies(kind: str, **lookups: Any) -> QuerySet[DashboardTally]:
    return DashboardTally.objects.filter(kind=kind, **lookups).exclude(count=0)


def open_proposals(*, now: datetime.datetime, days: int = RECENT_DAYS) -> OpenProposals:
    """Open proposals by state and by age, and the conflicts of the last `days` days.

    One query on the dashboard's tallies (an hour's count per state and kind), so it
    costs the same whatever the number of proposals. Ages are counted to the hour: a
    proposal counts by the start of the hour (UTC) it started in.
    """
    _dates, since, _until = recent_window(now, days)
    rows = DashboardTally.objects.filter(
        Q(kind=TallyKind.OPEN) | Q(kind=TallyKind.CONFLICT, hour__gte=since)
    ).values_list("kind", "label", "hour", "count")
    totals: dict[str, int] = {}
    ages = dict.fromkeys((key for key, *_rest in AGE_BUCKETS), 0)
    conflicts = 0
    for kind, state, hour, count in rows:
        if kind == TallyKind.CONFLICT:
            conflicts += count
            continue
        totals[state] = totals.get(state, 0) + count
        age = now - hour
        for key, _label, younger, older in AGE_BUCKETS:
            # The youngest bucket has no lower bound, so every open proposal is
            # counted once even if a clock ran ahead.
            if (not younger or age >= younger) and (older is None or age < older):
                ages[key] += count
                break
    return OpenProposals(
        by_state=[
            StateCount(
                state=state,
                label=str(ProposalState(state).label),
                count=totals.get(state, 0),
            )
            for state in STATE_ORDER
        ],
        by_age=[
            LabelCount(key=key, label=str(label), count=ages[key])
            for key, label, _younger, _older in AGE_BUCKETS
        ],
        recent_conflicts=conflicts,
    )


def _recently_applied(
    since: datetime.datetime, until: datetime.datetime
) -> QuerySet[ChangeProposal]:
    return ChangeProposal.objects.filter(
        state=ProposalState.APPLIED,
        closed_at__gte=since,
        closed_at__lt=until,
        submitted_at__isnull=False,
    )


def approvals_per_day(
    *, now: datetime.datetime, days: int = RECENT_DAYS
) -> list[tuple[datetime.date, int]]:
    """Proposals applied on each of the last `days` local days, oldest day first.

    Read from the hourly tallies of applied proposals: at most 24 rows a day.
    """
    dates, since, until = recent_window(now, days)
    counts: dict[datetime.date, int] = {}
    for hour, count in _tallies(
        TallyKind.APPLIED, hour__gte=since, hour__lt=until
    ).values_list("hour", "count"):
        day = timezone.localdate(hour)
        counts[day] = counts.get(day, 0) + count
    return [(day, counts.get(day, 0)) for day in dates]


def median_time_to_apply(
    *, now: datetime.datetime, days: int = RECENT_DAYS, applied: int | None = None
) -> timedelta | None:
    """The median time from (last) submission to apply of the proposals applied in the
    last `days` days; None when there were none.

    `applied` is their number when the caller has counted them already. The median is
    read with OFFSET from the rows sorted by duration: one or two rows leave the
    database, never all of them, on SQLite and PostgreSQL alike.
    """
    _dates, since, until = recent_window(now, days)
    recent = _recently_applied(since, until)
    if applied is None:
        applied = recent.count()
    if not applied:
        return None
    middle = (applied - 1) // 2
    taken = 1 if applied % 2 else 2
    durations = list(
        recent.annotate(duration=F("closed_at") - F("submitted_at"))
        .order_by("duration", "pk")
        .values_list("duration", flat=True)[middle : middle + taken]
    )
    return sum(durations, timedelta()) / len(durations)


def overdue_work_items(*, now: datetime.datetime) -> OverdueWorkItems:
    """Open work items of pending proposals past their due time, and their proposals."""
    # Late items only, found by the (state, due_at) index: the cost follows the number
    # overdue, not the number open.
    counts = WorkItem.objects.filter(
        state=WorkItemState.OPEN,
        due_at__lt=now,
        proposal__state=ProposalState.PENDING,
    ).aggregate(
        work_items=Count("pk"),
        proposals=Count("proposal", distinct=True),
    )
    return OverdueWorkItems(**counts)


def _field_label(label_lower: str, field_name: str) -> str:
    try:
        return registry.get(label_lower).field_label(field_name)
    except (registry.NotGoverned, FieldDoesNotExist):
        return field_name


def top_changed_fields(
    *, now: datetime.datetime, days: int = RECENT_DAYS, limit: int = TOP_FIELDS
) -> list[LabelCount]:
    """The fields changed most often in proposals of the last `days` days, with the
    governed model's label ("Credit limit"); the model's name is added when proposals
    of more than one model are among them."""
    _dates, since, _until = recent_window(now, days)
    totals: dict[str, int] = {}
    for label, count in _tallies(TallyKind.FIELD, hour__gte=since).values_list(
        "label", "count"
    ):
        totals[label] = totals.get(label, 0) + count
    # label is "app_label.model.field".
    top = sorted(
        totals.items(), key=lambda item: (-item[1], item[0].rsplit(".", 1)[1])
    )[:limit]
    keyed: list[tuple[str, str, int]] = []
    for label, count in top:
        model, field_name = label.rsplit(".", 1)
        keyed.append((model, field_name, count))
    several_models = len({model for model, _field, _count in keyed}) > 1
    fields = []
    for model, field_name, count in keyed:
        label = _field_label(model, field_name)
        if several_models:
            try:
                label = f"{label} ({registry.get(model).model._meta.verbose_name})"
            except registry.NotGoverned:
                label = f"{label} ({model})"
        fields.append(LabelCount(key=f"{model}.{field_name}", label=label, count=count))
    return fields


def approvals_dashboard(
    *, now: datetime.datetime | None = None, days: int = RECENT_DAYS
) -> ApprovalsDashboard:
    """Everything the dashboard shows, in at most five queries."""
    now = now or timezone.now()
    per_day = approvals_per_day(now=now, days=days)
    return ApprovalsDashboard(
        as_of=now,
        days=days,
        open_proposals=open_proposals(now=now, days=days),
        approvals_per_day=per_day,
        median_time_to_apply=median_time_to_apply(
            now=now, days=days, applied=sum(count for _day, count in per_day)
        ),
        overdue=overdue_work_items(now=now),
        top_fields=top_changed_fields(now=now, days=days),
    )


def approvals_dashboard_recent(*, days: int = RECENT_DAYS) -> ApprovalsDashboard:
    """The dashboard as computed at most DASHBOARD_CACHE_SECONDS ago (one per language,
    since its labels are translated): with 100,000 open proposals the counts take a
    tenth of a second, which the home page should not pay on every visit."""
    seconds = settings.DASHBOARD_CACHE_SECONDS
    if not seconds:
        return approvals_dashboard(days=days)
    key = f"workflow:approvals-dashboard:{days}:{translation.get_language()}"
    dashboard = cache.get(key)
    if dashboard is None:
        dashboard = approvals_dashboard(days=days)
        cache.set(key, dashboard, seconds)
    return dashboard
