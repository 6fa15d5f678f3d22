"""Background work of the engine, run by the Django Tasks backend that settings choose."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django_tasks import task

from . import notifications, selectors
from .models import ChangeProposal

CLOSING_EVENTS = {notifications.APPLIED, notifications.REJECTED, notifications.CONFLICT}


def _recipients(user_ids: list[int]):
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
    sent = 0
    for user, language in _recipients(user_ids):
        context = {
            "event": event,
            "proposal": proposal,
            "user": user,
            "link": link,
            "comment": comment,
            "step": step or getattr(proposal.current_step, "name", ""),
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


@task()
def preview_import(*, job_id: int) -> str:
    """Check an uploaded file against the data; writes nothing but the job's preview."""
    from .models import ImportJob
    from .services import import_job_preview

    job = ImportJob.objects.get(pk=job_id)
    with translation.override(_language_of(job.created_by_id)):
        return import_job_preview(job=job).state


@task()
def run_import(*, job_id: int) -> str:
    """Import a confirmed file, all rows or none."""
    from .models import ImportJob
    from .services import import_job_run

    job = ImportJob.objects.get(pk=job_id)
    with translation.override(_language_of(job.created_by_id)):
        return import_job_run(job=job).state


def _language_of(user_id: int) -> str:
    """A worker has no browser: its messages (import errors, history comments) are
    written in the language the user who started the work last used."""
    return selectors.user_languages([user_id]).get(user_id, settings.LANGUAGE_CODE)
