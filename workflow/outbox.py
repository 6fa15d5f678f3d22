"""The outbox: each e-mail a row, written with the decision that causes it and sent
afterwards, with retries.

`notifications` decides who hears about what and writes the rows here, in the
caller's transaction: a decision that rolls back takes its e-mails with it, and one
that commits has them. After the commit the task `deliver_outbox` sends what the
transaction wrote (inline with the immediate task backend, by the worker with the
database one); `manage.py process_outbox` sends whatever else is due: retries, and
e-mails whose task was lost.

Each e-mail is sent in a transaction of its own that holds its row (SELECT … FOR
UPDATE SKIP LOCKED on PostgreSQL), so several deliverers at once send each e-mail
once. A failed try is tried again after OUTBOX_BACKOFF_SECONDS, twice as long after
each further failure; after OUTBOX_MAX_ATTEMPTS tries the e-mail is failed with its
reason, for an administrator to see on Outgoing e-mails and send again.

The module sits below the services, as `audit` does: the services write rows here
through `notifications`, and the delivery the rows need must be reachable from there.
It writes nothing but the outbox's own rows.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import DatabaseError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_noop
from django_tasks import task

from . import selectors
from .models import ChangeProposal, OutboxEvent, OutboxMessage, OutboxState

logger = logging.getLogger(__name__)

# Reasons the outbox writes itself, in English like a mail server's; the Outgoing
# e-mails page shows them in the reader's language (`OWN_REASONS`).
NO_ADDRESS = gettext_noop("The recipient has no e-mail address.")
NOT_ACCEPTED = gettext_noop("The mail server accepted no message.")
OWN_REASONS = frozenset({NO_ADDRESS, NOT_ACCEPTED})

# E-mails one run sends at most; the next run goes on where it stopped.
DELIVERY_BATCH = 200

# Open proposals are acted on at Proposed changes; a closed one is read in History.
CLOSING_EVENTS = {OutboxEvent.APPLIED, OutboxEvent.REJECTED, OutboxEvent.CONFLICT}
# The mails that name who approved, with their comments.
APPROVAL_EVENTS = {OutboxEvent.APPLIED, OutboxEvent.CONFLICT}
# A digest lists its first proposals and counts the rest.
DIGEST_LISTED = 50


# --- Writing -----------------------------------------------------------------------


def outbox_messages_write(messages: Sequence[OutboxMessage]) -> list[OutboxMessage]:
    """Write the e-mails in one INSERT, in the caller's transaction, and have them
    sent once it commits."""
    if not messages:
        return []
    written = OutboxMessage.objects.bulk_create(messages)
    deliver_after_commit([m.pk for m in written if m.pk is not None])
    return written


class _DeliveryAfterCommit:
    """The one delivery of a transaction: the e-mails of every notification it wrote
    go out with one task, not one task each."""

    def __init__(self) -> None:
        self.message_ids: list[int] = []
        self.done = False
        # Django names a failing callback by its __qualname__ when it logs it.
        self.__qualname__ = "deliver_outbox after commit"

    def __call__(self) -> None:
        self.done = True
        deliver_outbox.enqueue(message_ids=self.message_ids)


def deliver_after_commit(message_ids: Iterable[int]) -> None:
    """Send these e-mails once the current transaction commits (at once outside one).

    A failure to queue the task is logged and does not fail the request that
    committed: `process_outbox` sends the e-mails all the same.
    """
    ids = list(message_ids)
    if not ids:
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        # Joins a delivery registered here or in a savepoint around this one: it is
        # run when these rows commit (and one that names rows rolled back since
        # finds them gone). One of a savepoint since released would be run too, but
        # is left alone for the sake of tests that run callbacks as they capture them.
        here = set(connection.savepoint_ids)
        for savepoints, callback, _robust in connection.run_on_commit:
            if (
                isinstance(callback, _DeliveryAfterCommit)
                and not callback.done
                and savepoints <= here
            ):
                callback.message_ids.extend(ids)
                return
    delivery = _DeliveryAfterCommit()
    delivery.message_ids.extend(ids)
    transaction.on_commit(delivery, robust=True)


@task()
def deliver_outbox(*, message_ids: list[int] | None = None) -> int:
    """Send the due e-mails among `message_ids` (all due ones without); return how
    many were sent."""
    return outbox_deliver(message_ids=message_ids).sent


# --- Sending -----------------------------------------------------------------------


@dataclass
class OutboxDelivery:
    """What one run did: e-mails sent, tried again later, and failed for good."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


def retry_delay(attempts: int) -> timedelta | None:
    """How long after its `attempts`-th failed try an e-mail is tried again; None
    when that was the last try."""
    if attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        return None
    return timedelta(seconds=settings.OUTBOX_BACKOFF_SECONDS * 2 ** (attempts - 1))


def outbox_deliver(
    *,
    now: datetime | None = None,
    limit: int = DELIVERY_BATCH,
    message_ids: Iterable[int] | None = None,
) -> OutboxDelivery:
    """Send up to `limit` due e-mails (only those among `message_ids` if given), the
    longest due first, each in a transaction of its own that holds its row.

    An e-mail sent is marked sent; one that fails is due again after `retry_delay`,
    or failed for good after the last try, with the reason. Rows another deliverer
    holds are skipped (PostgreSQL). A database error ends the run: the row being
    sent stays due, for the next one.
    """
    ids = None if message_ids is None else list(message_ids)
    outcome = OutboxDelivery()
    for _ in range(limit):
        at = now if now is not None else timezone.now()
        with transaction.atomic():
            message = _next_due(at, ids)
            if message is None:
                break
            state = _send(message, at)
        if state == OutboxState.SENT:
            outcome.sent += 1
        elif state == OutboxState.FAILED:
            outcome.failed += 1
        else:
            outcome.retrying += 1
    return outcome


def _next_due(at: datetime, ids: list[int] | None) -> OutboxMessage | None:
    due = (
        OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related(
            "recipient",
            "proposal__content_type",
            "proposal__submitted_by",
            "proposal__current_step",
        )
        .filter(state=OutboxState.PENDING, next_attempt_at__lte=at)
    )
    if ids is not None:
        due = due.filter(pk__in=ids)
    return due.order_by("next_attempt_at", "pk").first()


def _send(message: OutboxMessage, at: datetime) -> str:
    """Try `message` once and record the outcome on its row; returns its state."""
    user = message.recipient
    language = selectors.user_languages([user.pk]).get(user.pk, settings.LANGUAGE_CODE)
    subject = ""
    try:
        if not user.email:
            raise _Undeliverable(NO_ADDRESS)
        subject, body = message_text(message, language)
        if not send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]):
            raise _Undeliverable(NOT_ACCEPTED)
    except DatabaseError:
        raise
    except Exception as error:
        final = isinstance(error, _Undeliverable) and error.reason == NO_ADDRESS
        retry_in = None if final else retry_delay(message.attempts + 1)
        reason = error.reason if isinstance(error, _Undeliverable) else _reason(error)
        message.mark_attempt_failed(
            at=at, error=reason, retry_in=retry_in, language=language, subject=subject
        )
        log = logger.warning if retry_in is not None else logger.error
        log(
            "E-mail %s to user %s failed (try %s): %s",
            message.pk,
            user.pk,
            message.attempts,
            reason,
        )
    else:
        message.mark_sent(at=at, language=language, subject=subject)
    message.save(
        update_fields=[
            "state",
            "attempts",
            "next_attempt_at",
            "last_error",
            "language",
            "subject",
            "sent_at",
        ]
    )
    return message.state


class _Undeliverable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _reason(error: Exception) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --- The text ----------------------------------------------------------------------


def message_text(message: OutboxMessage, language: str) -> tuple[str, str]:
    """The subject and body of `message` in `language`, made from the proposals as
    they are now."""
    if message.proposal_ids is not None:
        context = _digest_context(message)
        names = ("digest_subject", "digest_body")
    else:
        context = _single_context(message)
        names = ("subject", "body")
    context.update(event=message.event, user=message.recipient)
    with translation.override(language):
        subject = render_to_string(f"workflow/email/{names[0]}.txt", context)
        body = render_to_string(f"workflow/email/{names[1]}.txt", context)
    return " ".join(subject.split()), body


def _single_context(message: OutboxMessage) -> dict[str, object]:
    proposal = message.proposal
    assert proposal is not None
    content_type = proposal.content_type
    page = "history" if message.event in CLOSING_EVENTS else "proposed_changes"
    link = settings.SITE_URL.rstrip("/") + reverse(
        f"admin:{content_type.app_label}_{content_type.model}_{page}",
        args=[proposal.object_id],
    )
    approvals = (
        selectors.approvals_of([proposal.pk]).get(proposal.pk, [])
        if message.event in APPROVAL_EVENTS
        else []
    )
    return {
        "proposal": proposal,
        "link": link,
        "comment": message.comment,
        "step": message.step or getattr(proposal.current_step, "name", ""),
        "approvals": approvals,
    }


def _digest_context(message: OutboxMessage) -> dict[str, object]:
    proposal_ids: list[int] = list(message.proposal_ids or [])
    proposals = list(
        ChangeProposal.objects.filter(pk__in=proposal_ids[:DIGEST_LISTED]).order_by(
            "object_repr"
        )
    )
    if message.event in APPROVAL_EVENTS:
        approvals = selectors.approvals_of([p.pk for p in proposals])
        for proposal in proposals:
            # For the template: who approved each one (not a model field).
            proposal.approvals = approvals.get(proposal.pk, [])
    return {
        "proposals": proposals,
        "total": len(proposal_ids),
        "more": max(0, len(proposal_ids) - len(proposals)),
        "link": settings.SITE_URL.rstrip("/")
        + reverse("admin:workflow_workitem_changelist"),
    }
