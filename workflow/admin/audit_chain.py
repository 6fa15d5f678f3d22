"""The audit trail's integrity: the last verification of its hash chain, how far it is
sealed, and a button to verify it now.

Shown to holders of `workflow.view_auditverification`; the button to holders of
`workflow.run_auditverification`, and the service checks that permission again.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_tasks import TaskResultStatus

from .. import selectors_audit_chain, tasks
from ..models import AuditVerification
from ..services.audit_chain import VERIFY_PERMISSION

# Verifications listed under the status, the latest first.
RECENT_VERIFICATIONS = 20
VERIFIED_INTACT = gettext_lazy("The audit trail was verified: it is intact.")
VERIFIED_BROKEN = gettext_lazy(
    "The audit trail was verified: it is broken. The first broken link is shown below."
)
VERIFICATION_FAILED = gettext_lazy(
    "The verification stopped with an error and found nothing; try again later."
)
VERIFICATION_STARTED = gettext_lazy(
    "The verification has started. Its result is shown on this page when it is done."
)


@admin.register(AuditVerification)
class AuditVerificationAdmin(admin.ModelAdmin):
    """One page instead of a list: verifications are written by the service only."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_run_permission(self, request) -> bool:
        return request.user.has_perm(VERIFY_PERMISSION)

    def get_urls(self):
        """The status page and the verify button only."""
        wrap = self.admin_site.admin_view
        return [
            path(
                "",
                wrap(self.changelist_view),
                name="workflow_auditverification_changelist",
            ),
            path(
                "verify/",
                wrap(require_POST(self.verify_view)),
                name="workflow_auditverification_verify",
            ),
        ]

    def changelist_view(self, request, extra_context=None):
        """The chain's status and the latest verifications, each with its finding."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        recent = AuditVerification.objects.order_by("-finished_at", "-id")[
            :RECENT_VERIFICATIONS
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Audit trail integrity"),
            "status": selectors_audit_chain.audit_chain_status(),
            "recent": [
                (verification, selectors_audit_chain.verification_result(verification))
                for verification in recent
            ],
            "can_run": self.has_run_permission(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/workflow/audit_chain.html", context)

    def verify_view(self, request):
        """Verify now: in the request where tasks run inline, else by the worker."""
        if not self.has_run_permission(request):
            raise PermissionDenied
        result = tasks.verify_audit_trail.enqueue(actor_id=request.user.pk)
        if result.status == TaskResultStatus.SUCCESSFUL and result.return_value:
            self.message_user(request, str(VERIFIED_INTACT), messages.SUCCESS)
        elif result.status == TaskResultStatus.SUCCESSFUL:
            self.message_user(request, str(VERIFIED_BROKEN), messages.ERROR)
        elif result.status == TaskResultStatus.FAILED:
            self.message_user(request, str(VERIFICATION_FAILED), messages.ERROR)
        else:
            self.message_user(request, str(VERIFICATION_STARTED), messages.INFO)
        return redirect(reverse("admin:workflow_auditverification_changelist"))
