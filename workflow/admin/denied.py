"""The page of a refusal: the admin's own page, saying why, instead of Django's bare
"403 Forbidden"."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

NOT_PERMITTED = gettext_lazy(
    "You do not have the permission this page needs. If your work needs it, ask an "
    "approval administrator."
)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's handler403. A refusal raised with a message (PermissionDenied(…)) says
    that message; Django's own refusals carry none and get the general one."""
    reason = str(exception) if exception is not None and str(exception) else ""
    context = {
        **admin.site.each_context(request),
        "title": _("Not permitted"),
        "reason": reason or NOT_PERMITTED,
    }
    return render(request, "admin/workflow/permission_denied.html", context, status=403)
