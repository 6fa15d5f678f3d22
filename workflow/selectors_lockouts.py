"""Paused sign-ins: django-axes' counts of wrong passwords, read as the pauses they cause.

django-axes keeps one row per user name, address and browser with its number of wrong
passwords and the time of the latest; a row counts while that time is within the
cool-off (AXES_COOLOFF_TIME). A user name is paused when its rows count
AXES_FAILURE_LIMIT wrong passwords, an address when its rows count
AXES_ADDRESS_FAILURE_LIMIT, whichever user names were typed from it.

While paused, further attempts are refused without being counted
(AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False), so the latest wrong password
of a pause is the one that started it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from axes.helpers import get_cool_off
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from .models import PausedSignIn

# The page lists at most this many pauses of each kind, the latest first; a search
# finds the others.
PAUSES_SHOWN = 100

USER_NAME = "user_name"
ADDRESS = "address"


@dataclass(frozen=True)
class SignInPause:
    """One user name or one address that may not sign in until `until`."""

    kind: str  # USER_NAME or ADDRESS
    user_name: str | None
    address: str | None
    failures: int
    since: datetime.datetime
    until: datetime.datetime
    # A user name's pause: the addresses its wrong passwords came from.
    addresses: tuple[str, ...] = ()
    # An address's pause: how many user names were typed from it.
    user_name_count: int = 0

    @property
    def key(self) -> str:
        return (self.user_name if self.kind == USER_NAME else self.address) or ""


def cool_off() -> datetime.timedelta:
    return get_cool_off() or datetime.timedelta(0)


def address_failure_limit() -> int:
    return int(settings.AXES_ADDRESS_FAILURE_LIMIT)


def user_name_failure_limit() -> int:
    return int(settings.AXES_FAILURE_LIMIT)


def _counted(now: datetime.datetime | None) -> QuerySet[PausedSignIn]:
    start = (now or timezone.now()) - cool_off()
    return PausedSignIn.objects.filter(attempt_time__gte=start)


def address_failures(*, address: str, now: datetime.datetime | None = None) -> int:
    """Wrong passwords typed from `address` within the cool-off, for any user name."""
    total = (
        _counted(now)
        .filter(ip_address=address)
        .aggregate(n=Sum("failures_since_start"))
    )
    return int(total["n"] or 0)


def pause_end(
    failures: Iterable[tuple[datetime.datetime, int]],
    *,
    limit: int,
    cool_off: datetime.timedelta,
) -> datetime.datetime | None:
    """When a pause counted from rows of (latest wrong password, wrong passwords) ends:
    rows stop counting one by one, the oldest first, a cool-off after their time; the
    pause ends when the rows still counting fall below `limit`. None: no pause."""
    rows = sorted(failures)
    remaining = sum(count for _time, count in rows)
    if remaining < limit:
        return None
    for time, count in rows:
        remaining -= count
        if remaining < limit:
            return time + cool_off
    raise AssertionError("unreachable: the last row brings the count to zero")


def _user_name_pauses(
    counted: QuerySet[PausedSignIn], names: Sequence[str]
) -> list[SignInPause]:
    rows: dict[str, list[tuple[datetime.datetime, int, str | None]]] = {}
    for name, time, count, address in counted.filter(username__in=names).values_list(
        "username", "attempt_time", "failures_since_start", "ip_address"
    ):
        rows.setdefault(name, []).append((time, count, address))
    pauses = []
    for name, found in rows.items():
        until = pause_end(
            [(time, count) for time, count, _a in found],
            limit=user_name_failure_limit(),
            cool_off=cool_off(),
        )
        if until is None:
            continue
        pauses.append(
            SignInPause(
                kind=USER_NAME,
                user_name=name,
                address=None,
                failures=sum(count for _t, count, _a in found),
                since=max(time for time, _c, _a in found),
                until=until,
                addresses=tuple(sorted({a for _t, _c, a in found if a})),
            )
        )
    return pauses


def _address_pauses(
    counted: QuerySet[PausedSignIn], addresses: Sequence[str]
) -> list[SignInPause]:
    rows: dict[str, list[tuple[datetime.datetime, int, str | None]]] = {}
    for address, time, count, name in counted.filter(
        ip_address__in=addresses
    ).values_list("ip_address", "attempt_time", "failures_since_start", "username"):
        rows.setdefault(address, []).append((time, count, name))
    pauses = []
    for address, found in rows.items():
        until = pause_end(
            [(time, count) for time, count, _n in found],
            limit=address_failure_limit(),
            cool_off=cool_off(),
        )
        if until is None:
            continue
        pauses.append(
            SignInPause(
                kind=ADDRESS,
                user_name=None,
                address=address,
                failures=sum(count for _t, count, _n in found),
                since=max(time for time, _c, _n in found),
                until=until,
                user_name_count=len({n for _t, _c, n in found}),
            )
        )
    return pauses


def sign_in_pauses(
    *, search: str = "", now: datetime.datetime | None = None
) -> list[SignInPause]:
    """The user names and addresses paused now, the latest pause first; `search`
    keeps the user names containing it and the address equal to it."""
    counted = _counted(now)
    by_name = (
        counted.exclude(username=None)
        .values("username")
        .annotate(n=Sum("failures_since_start"), latest=Max("attempt_time"))
        .filter(n__gte=user_name_failure_limit())
    )
    by_address = (
        counted.exclude(ip_address=None)
        .values("ip_address")
        .annotate(n=Sum("failures_since_start"), latest=Max("attempt_time"))
        .filter(n__gte=address_failure_limit())
    )
    search = search.strip()
    if search:
        by_name = by_name.filter(username__icontains=search)
        by_address = (
            by_address.filter(ip_address=search)
            if _is_address(search)
            else by_address.none()
        )
    names = [row["username"] for row in by_name.order_by("-latest")[:PAUSES_SHOWN]]
    addresses = [
        row["ip_address"] for row in by_address.order_by("-latest")[:PAUSES_SHOWN]
    ]
    pauses = _user_name_pauses(counted, names) + _address_pauses(counted, addresses)
    return sorted(pauses, key=lambda p: (p.since, p.kind, p.key), reverse=True)


def sign_in_pauses_of(
    *,
    user_name: str | None,
    address: str | None,
    now: datetime.datetime | None = None,
) -> list[SignInPause]:
    """The pauses that stop a sign-in with `user_name` from `address`: the user
    name's, the address's, both or none."""
    counted = _counted(now)
    pauses = []
    if user_name:
        pauses += _user_name_pauses(counted, [user_name])
    if address:
        pauses += _address_pauses(counted, [address])
    return pauses


def _is_address(text: str) -> bool:
    try:
        validate_ipv46_address(text)
    except ValidationError:
        return False
    return True
