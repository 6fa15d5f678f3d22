"""The sign-in door: what django-axes counts wrong passwords by, and the login page
that tells a paused user what happened.

django-axes compares one count with one limit (AXES_FAILURE_LIMIT). Counted by user
name alone, strangers typing made-up names pause only those names; a real user behind
the same address signs in as before. An address is counted as well, but only once it
has reached the much higher AXES_ADDRESS_FAILURE_LIMIT within the cool-off: the
callable AXES_LOCKOUT_PARAMETERS of django-axes' documentation, returning the
parameters for each request. The counts are read in `selectors_lockouts`; lifting a
pause is `services.lockouts`.
"""

from __future__ import annotations

import datetime

from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from . import selectors_lockouts
from .selectors_lockouts import USER_NAME, SignInPause

# What the login page says; a made-up user name reads the same as a real one.
USER_NAME_PAUSED = ngettext_lazy(
    "Sign-in with this user name is paused for %(minutes)d minute, until %(until)s, "
    "after too many wrong passwords. If it is urgent, ask an administrator to lift "
    "the pause.",
    "Sign-in with this user name is paused for %(minutes)d minutes, until %(until)s, "
    "after too many wrong passwords. If it is urgent, ask an administrator to lift "
    "the pause.",
    "minutes",
)
ADDRESS_PAUSED = ngettext_lazy(
    "Sign-in from your network address is paused for %(minutes)d minute, until "
    "%(until)s, after too many wrong passwords from it, whatever the user name. If it "
    "is urgent, ask an administrator to lift the pause.",
    "Sign-in from your network address is paused for %(minutes)d minutes, until "
    "%(until)s, after too many wrong passwords from it, whatever the user name. If it "
    "is urgent, ask an administrator to lift the pause.",
    "minutes",
)
# When the pause ended or was lifted between the refusal and this page.
SIGN_IN_PAUSED = gettext_lazy(
    "Sign-in is paused after too many wrong passwords. Try again in a few minutes, or "
    "ask an administrator to lift the pause if it is urgent."
)


def lockout_parameters(request_or_attempt, credentials=None) -> list[str]:
    """What django-axes counts a sign-in's wrong passwords by (AXES_LOCKOUT_PARAMETERS):
    the user name, and the address too once that address has reached
    AXES_ADDRESS_FAILURE_LIMIT. django-axes compares the larger count with
    AXES_FAILURE_LIMIT, which an address at its own, higher limit has passed."""
    if isinstance(request_or_attempt, AccessAttempt):
        address, now = request_or_attempt.ip_address, None
    else:
        address = getattr(request_or_attempt, "axes_ip_address", None)
        now = getattr(request_or_attempt, "axes_attempt_time", None)
    if (
        address
        and selectors_lockouts.address_failures(address=address, now=now)
        >= selectors_lockouts.address_failure_limit()
    ):
        return ["username", "ip_address"]
    return ["username"]


def _moment(value: datetime.datetime) -> str:
    """The time of day for a pause of hours at most, else the date as well."""
    local = timezone.localtime(value)
    if value - timezone.now() < datetime.timedelta(hours=12):
        return formats.time_format(local)
    return formats.date_format(local, "DATETIME_FORMAT")


def pause_message(pause: SignInPause) -> str:
    """The sentence the login page shows for `pause`, in the current language."""
    minutes = int(selectors_lockouts.cool_off().total_seconds() // 60)
    message = USER_NAME_PAUSED if pause.kind == USER_NAME else ADDRESS_PAUSED
    return message % {"minutes": minutes, "until": _moment(pause.until)}


def sign_in_paused_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """The admin's login page with what stops this sign-in and until when
    (AXES_LOCKOUT_CALLABLE), in the status django-axes answers with (429)."""
    user_name = get_client_username(request, credentials) or ""
    pauses = selectors_lockouts.sign_in_pauses_of(
        user_name=user_name, address=getattr(request, "axes_ip_address", None)
    )
    context = {
        **admin.site.each_context(request),
        "title": _("Log in"),
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        "form": AdminAuthenticationForm(request, initial={"username": user_name}),
        REDIRECT_FIELD_NAME: request.POST.get(REDIRECT_FIELD_NAME)
        or request.GET.get(REDIRECT_FIELD_NAME)
        or reverse("admin:index"),
        "pause_messages": [pause_message(p) for p in pauses] or [str(SIGN_IN_PAUSED)],
    }
    return render(
        request,
        "admin/lockout.html",
        context,
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
