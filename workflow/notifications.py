"""Who hears about what, and the e-mails themselves: each goes out through a task,
and only after the commit."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django_tasks import task

from . import selectors
from .models import ChangeProposal

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User

ASSIGNED = "assigned"
ESCALATED = "escalated"
APPLIED = "applied"
REJECTED = "rejected"
SENT_BACK = "sent_back"
CONFLICT = "conflict"
RECALLED = "recalled"


# --- The e-mail tasks -------------------------------------------------------------

CLOSING_EVENTS = {APPLIED, REJECTED, CONFLICT}
# The mails that name who approved, with their comments.
APPROVAL_EVENTS = {APPLIED, CONFLICT}


def _recipients(user_ids: list[int]) -> list[tuple[User, str]]:
    """Users with an e-mail address, each with the language they last worked in."""
    users = list(
        get_user_model()._default_manager.filter(pk__in=user_ids).exclude(email="")
    )
    languages = selectors.user_languages([u.pk for u in users])
    return [(user, languages.get(user.pk, settings.LANGUAGE_CODE)) for user in users]


@task()
def send_notification(
    *,
    event: str,
    proposal_id: int,
    user_ids: list[int],
    comment: str = "",
    step: str = "",
) -> int:
    """Send one e-mail per recipient about `event` on the proposal; return how many."""
    proposal = ChangeProposal.objects.select_related(
        "content_type", "submitted_by", "current_step"
    ).get(pk=proposal_id)
    content_type = proposal.content_type
    # Open proposals are acted on at Proposed changes; a closed one is read in History.
    page = "history" if event in CLOSING_EVENTS else "proposed_changes"
    link = settings.SITE_URL.rstrip("/") + reverse(
        f"admin:{content_type.app_label}_{content_type.model}_{page}",
        args=[proposal.object_id],
    )
    approvals = (
        selectors.approvals_of([proposal.pk]).get(proposal.pk, [])
        if event in APPROVAL_EVENTS
        else []
    )
    sent = 0
    for user, language in _recipients(user_ids):
        context = {
            "event": event,
            "proposal": proposal,
            "user": user,
            "link": link,
            "comment": comment,
            "step": step or getattr(proposal.current_step, "name", ""),
            "approvals": approvals,
        }
        with translation.override(language):
            subject = " ".join(
                render_to_string("workflow/email/subject.txt", context).split()
            )
            body = render_to_string("workflow/email/body.txt", context)
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return sent


DIGEST_LISTED = 50


@task()
def send_digest(*, event: str, proposal_ids: list[int], user_ids: list[int]) -> int:
    """One e-mail per recipient about many proposals; lists the first few of them."""
    proposals = list(
        ChangeProposal.objects.filter(pk__in=proposal_ids[:DIGEST_LISTED]).order_by(
            "object_repr"
        )
    )
    link = settings.SITE_URL.rstrip("/") + reverse("admin:workflow_workitem_changelist")
    if event in APPROVAL_EVENTS:
        approvals = selectors.approvals_of([p.pk for p in proposals])
        for proposal in proposals:
            # For the template: who approved each one (not a model field).
            proposal.approvals = approvals.get(proposal.pk, [])
    sent = 0
    for user, language in _recipients(user_ids):
        context = {
            "event": event,
            "proposals": proposals,
            "total": len(proposal_ids),
            "more": max(0, len(proposal_ids) - len(proposals)),
            "user": user,
            "link": link,
        }
        with translation.override(language):
            subject = " ".join(
                render_to_string("workflow/email/digest_subject.txt", context).split()
            )
            body = render_to_string("workflow/email/digest_body.txt", context)
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return sent


# --- Who hears about what -----------------------------------------------------------


def notify(
    *,
    event: str,
    proposal: ChangeProposal,
    recipients: Iterable[User | None],
    comment: str = "",
) -> None:
    """Mail `recipients` about `event` once the current transaction commits."""
    user_ids = sorted({user.pk for user in recipients if user is not None})
    if not user_ids:
        return
    transaction.on_commit(
        partial(
            send_notification.enqueue,
            event=event,
            proposal_id=proposal.pk,
            user_ids=user_ids,
            comment=comment,
            # The step as it is now: by the time the mail goes out it may have moved on.
            step=proposal.current_step.name if proposal.current_step else "",
        )
    )


def notify_many(
    *, event: str, proposal_ids: list[int], recipients: Iterable[User | None]
) -> None:
    """One e-mail per recipient about many proposals at once (an import's, say)."""
    user_ids = sorted({user.pk for user in recipients if user is not None})
    if not user_ids or not proposal_ids:
        return
    transaction.on_commit(
        partial(
            send_digest.enqueue,
            event=event,
            proposal_ids=list(proposal_ids),
            user_ids=user_ids,
        )
    )


def notify_submitter(
    *, event: str, proposal: ChangeProposal, comment: str = ""
) -> None:
    notify(
        event=event,
        proposal=proposal,
        recipients=[proposal.submitted_by],
        comment=comment,
    )
