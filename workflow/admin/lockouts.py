"""Paused sign-ins in the admin: who may not sign in now, and lifting a pause.

One page instead of django-axes' own admin (switched off by AXES_ENABLE_ADMIN), which
shows every raw attempt with its form data: this page shows each paused user name and
address once, to whoever holds `workflow.view_pausedsignin`, and lifts a pause
through `services.lockouts` for whoever holds `workflow.lift_pausedsignin`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import selectors_lockouts
from ..exceptions import PermissionRefused
from ..models import PausedSignIn
from ..selectors_lockouts import ADDRESS, USER_NAME
from ..services import lockouts as lockout_services


@admin.register(PausedSignIn)
class PausedSignInAdmin(admin.ModelAdmin):
    """The list of paused sign-ins and the Lift button; no page shows a raw row."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_lift_permission(self, request) -> bool:
        return request.user.has_perm(lockout_services.LIFT_PERMISSION)

    def get_urls(self):
        """Only the list and the lift; the change, history and delete pages of a
        ModelAdmin would show or remove django-axes' rows one by one."""
        wrap = self.admin_site.admin_view
        return [
            path(
                "", wrap(self.changelist_view), name="workflow_pausedsignin_changelist"
            ),
            path(
                "lift/",
                wrap(require_POST(self.lift_view)),
                name="workflow_pausedsignin_lift",
            ),
        ]

    def changelist_view(self, request, extra_context=None):
        """The user names and addresses paused now, with the limits that paused them."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        search = request.GET.get("q", "")[:255]
        minutes = int(selectors_lockouts.cool_off().total_seconds() // 60)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Paused sign-ins"),
            "pauses": selectors_lockouts.sign_in_pauses(search=search),
            "shown": selectors_lockouts.PAUSES_SHOWN,
            "search": search,
            "can_lift": self.has_lift_permission(request),
            "user_name_limit": selectors_lockouts.user_name_failure_limit(),
            "address_limit": selectors_lockouts.address_failure_limit(),
            "minutes": minutes,
            "USER_NAME": USER_NAME,
            "ADDRESS": ADDRESS,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/workflow/paused_sign_ins.html", context)

    def lift_view(self, request):
        """Lift one pause (POST kind and key); the service checks the permission again."""
        if not self.has_lift_permission(request):
            raise PermissionDenied
        kind, key = request.POST.get("kind", ""), request.POST.get("key", "")
        if kind not in (USER_NAME, ADDRESS) or not key:
            raise PermissionDenied
        try:
            forgotten = lockout_services.sign_in_pause_lift(
                actor=request.user, kind=kind, key=key
            )
        except PermissionRefused as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            if not forgotten:
                self.message_user(
                    request,
                    _("“%(key)s” was no longer paused.") % {"key": key},
                    messages.WARNING,
                )
            elif kind == USER_NAME:
                self.message_user(
                    request,
                    _("Sign-in with the user name “%(key)s” works again.")
                    % {"key": key},
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    _("Sign-in from the address %(key)s works again.") % {"key": key},
                    messages.SUCCESS,
                )
        url = reverse("admin:workflow_pausedsignin_changelist")
        search = request.POST.get("q", "")
        return redirect(f"{url}?{urlencode({'q': search})}" if search else url)
