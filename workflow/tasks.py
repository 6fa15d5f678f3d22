"""Background work of the engine, run by the Django Tasks backend that settings choose."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django_tasks import task

from . import selectors


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


def recheck_import(job_id: int) -> None:
    """Queue the check of a job again, for the recovery of jobs whose worker died."""
    preview_import.enqueue(job_id=job_id)


def _language_of(user_id: int) -> str:
    """A worker has no browser: its messages (import errors, history comments) are
    written in the language the user who started the work last used."""
    return selectors.user_languages([user_id]).get(user_id, settings.LANGUAGE_CODE)


@task()
def verify_audit_trail(*, actor_id: int) -> bool:
    """Verify the audit trail's hash chain for the person who asked on its page."""
    from django.contrib.auth import get_user_model

    from .services.audit_chain import audit_trail_verify

    actor = get_user_model().objects.get(pk=actor_id)
    return audit_trail_verify(actor=actor).intact
