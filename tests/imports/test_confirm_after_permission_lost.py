"""Confirming an import needs the import permission still: losing it between preview
and confirm is a refusal, not a failed job."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.imports.test_import_pages import upload
from workflow.models import ImportJob, ImportJobState

TEXT = "account;name;phone\nC00001;Renamed;+31 1\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.django_db
def test_confirm_by_a_user_who_lost_the_import_permission_is_refused(
    client, clerk, roles, customer, media
):
    client.force_login(clerk)
    upload(client, TEXT)
    job = ImportJob.objects.get()
    assert job.state == ImportJobState.PREVIEWED
    clerk.groups.remove(roles["Clerks"])

    response = client.post(
        reverse("admin:customers_customer_import_confirm", args=[job.pk])
    )

    assert response.status_code == 403
    job.refresh_from_db()
    assert job.state == ImportJobState.PREVIEWED
    assert (job.result, job.message) == ({}, "")
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Contoso Retail", "")
