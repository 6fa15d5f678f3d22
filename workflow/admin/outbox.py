"""Outgoing e-mails: every e-mail of the outbox, its tries and why it failed, and
Send again for the failed ones.

Whoever holds `workflow.view_outboxmessage` reads the list; Send again (on the list
as an action, and on an e-mail's page) needs `workflow.resend_outboxmessage` and goes
through `services.outbox_messages_send_again`, which checks it again.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from .. import selectors_outbox, services
from ..exceptions import PermissionRefused
from ..models import OutboxMessage, OutboxState
from ..outbox import OWN_REASONS
from ..services.outbox import SEND_AGAIN_PERMISSION
from .pagination import EstimatedCountPaginator
from .work_items import ReadOnlyAdmin


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "recipient",
        "address",
        "event",
        "about",
        "state",
        "attempts",
        "next_attempt_at",
        "error_for_reader",
        "sent_at",
    ]
    list_filter = ["state", "event"]
    search_fields = [
        "recipient__username",
        "recipient__email",
        "proposal__object_repr",
        "subject",
    ]
    list_select_related = ["recipient", "proposal"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = ["send_again_selected"]
    fields = [
        "created_at",
        "recipient",
        "address",
        "event",
        "about",
        "comment",
        "step",
        "state",
        "attempts",
        "next_attempt_at",
        "error_for_reader",
        "language",
        "subject",
        "sent_at",
    ]
    readonly_fields = fields
    change_form_template = "admin/workflow/outboxmessage/change_form.html"

    def get_queryset(self, request):
        return selectors_outbox.outbox_messages()

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm(SEND_AGAIN_PERMISSION)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/send-again/",
                self.admin_site.admin_view(require_POST(self.send_again_view)),
                name="workflow_outboxmessage_send_again",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=gettext_lazy("e-mail address"))
    def address(self, message: OutboxMessage) -> str:
        return message.recipient.email or self.get_empty_value_display()

    @admin.display(description=gettext_lazy("proposal"))
    def about(self, message: OutboxMessage) -> str:
        if message.proposal is None:
            count = len(message.proposal_ids or [])
            return ngettext("%(count)d proposal", "%(count)d proposals", count) % {
                "count": count
            }
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:workflow_changeproposal_change", args=[message.proposal.pk]),
            message.proposal.object_repr,
        )

    @admin.display(description=gettext_lazy("last error"))
    def error_for_reader(self, message: OutboxMessage) -> str:
        # The outbox's own reasons read in the reader's language; a mail server's as
        # it gave them.
        if message.last_error in OWN_REASONS:
            return _(message.last_error)
        return message.last_error or self.get_empty_value_display()

    @admin.action(
        description=gettext_lazy("Send the selected failed e-mails again"),
        permissions=["resend"],
    )
    def send_again_selected(self, request, queryset):
        selected = list(queryset.values_list("pk", flat=True))
        self._send_again(request, selected)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        message = self.get_object(request, unquote(object_id))
        extra_context = {
            **(extra_context or {}),
            "may_send_again": message is not None
            and message.state == OutboxState.FAILED
            and self.has_resend_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def send_again_view(self, request, object_id):
        """Send Again on an e-mail's page; the service checks the permission again."""
        message = self.get_object(request, unquote(object_id))
        if message is None:
            raise Http404
        if not self.has_resend_permission(request):
            raise PermissionDenied
        self._send_again(request, [message.pk])
        return redirect(
            reverse("admin:workflow_outboxmessage_change", args=[message.pk])
        )

    def _send_again(self, request, message_ids: list[int]) -> None:
        try:
            again = services.outbox_messages_send_again(
                message_ids=message_ids, actor=request.user
            )
        except PermissionRefused as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        if again:
            self.message_user(
                request,
                ngettext(
                    "%(count)d e-mail was put back in the outbox to be sent again.",
                    "%(count)d e-mails were put back in the outbox to be sent again.",
                    len(again),
                )
                % {"count": len(again)},
                messages.SUCCESS,
            )
        left = len(message_ids) - len(again)
        if left:
            self.message_user(
                request,
                ngettext(
                    "%(count)d e-mail had not failed and was left as it is.",
                    "%(count)d e-mails had not failed and were left as they are.",
                    left,
                )
                % {"count": left},
                messages.WARNING,
            )
