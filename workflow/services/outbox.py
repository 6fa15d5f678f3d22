"""The outbox's services: sending the due e-mails, and sending failed ones again.

The rows are written by `notifications` in the transaction of each decision and sent
by `workflow.outbox` (which sits below the services, so that the notifications can
reach it); an approval administrator sends a failed e-mail again from Outgoing e-mails,
once its cause (a wrong address, the mail server) is put right.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import ngettext

from ..audit import audit_entry_build, audit_write
from ..exceptions import NO_PERMISSION, PermissionRefused
from ..models import AuditAction, AuditEntry, OutboxMessage, OutboxState, Source
from ..outbox import OutboxDelivery, deliver_after_commit, outbox_deliver

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User

SEND_AGAIN_PERMISSION = "workflow.resend_outboxmessage"

__all__ = [
    "OutboxDelivery",
    "SEND_AGAIN_PERMISSION",
    "outbox_deliver",
    "outbox_messages_send_again",
]


def outbox_messages_send_again(
    *,
    message_ids: Iterable[int],
    actor: User,
    source: Source | str = Source.BROWSER,
) -> list[OutboxMessage]:
    """Put the failed e-mails among `message_ids` back in the outbox with all their
    tries again, write an audit row for each, and send them after the commit.

    Needs `workflow.resend_outboxmessage`. E-mails that are not failed (sent, or
    sent again by someone else meanwhile) are left as they are; returns the ones
    put back.
    """
    if not actor.is_active or not actor.has_perm(SEND_AGAIN_PERMISSION):
        raise PermissionRefused(str(NO_PERMISSION))
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .filter(pk__in=list(message_ids), state=OutboxState.FAILED)
            .order_by("pk")
        )
        now = timezone.now()
        entries = []
        for message in messages:
            entries.append(_sent_again_entry(message, actor, source))
            message.send_again(at=now)
            message.save(
                update_fields=["state", "attempts", "next_attempt_at", "last_error"]
            )
        audit_write(entries)
        deliver_after_commit([m.pk for m in messages])
    return messages


def _sent_again_entry(
    message: OutboxMessage, actor: User, source: Source | str
) -> AuditEntry:
    tries = message.attempts

    def comment() -> str:
        return ngettext(
            "Sent again after %(count)d failed try.",
            "Sent again after %(count)d failed tries.",
            tries,
        ) % {"count": tries}

    return audit_entry_build(
        action=AuditAction.EMAIL_SENT_AGAIN,
        actor=actor,
        source=source,
        content_type=ContentType.objects.get_for_model(OutboxMessage),
        object_id=message.pk,
        object_repr=Truncator(
            f"{message.recipient.get_username()}: {message.subject}".rstrip(": ")
        ).chars(200),
        field_name="last_error",
        field_label=str(OutboxMessage._meta.get_field("last_error").verbose_name),
        old_value={"attempts": tries, "error": message.last_error},
        old_display=message.last_error,
        comment=comment,
    )
