"""Imports through the API: upload with a behaviour (and a profile), poll, read the
preview and its errors, confirm; large files in the background as on the page."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks.signals import task_enqueued

from customers.models import Customer
from tests.api.conftest import token_client
from workflow.models import AuditAction, AuditEntry, ImportJob, ImportJobState


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(api, content: bytes, name: str = "cities.csv", **fields):
    return api.post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile(name, content), **fields},
        format="multipart",
    )


@pytest.mark.django_db
def test_upload_preview_and_confirm(clerk, customer):
    api = token_client(clerk, "Portal")

    created = upload(
        api, b"account;name;city\nC00001;Contoso Retail;Delft\n", behaviour="allow"
    )
    job = created.json()
    confirmed = api.post(job["confirm_url"])

    assert created.status_code == 201
    assert job["state"] == ImportJobState.PREVIEWED
    assert job["options"]["behaviour"] == "allow"
    assert job["report"]["counts"]["updated"] == 1
    assert confirmed.status_code == 200
    assert confirmed.json()["state"] == ImportJobState.APPLIED
    assert Customer.objects.get(pk=customer.pk).city == "Delft"
    entry = AuditEntry.objects.get(action=AuditAction.FIELD_CHANGED)
    assert entry.comment_translations["api_token"] == "Portal"


@pytest.mark.django_db
def test_the_preview_lists_errors_and_cannot_be_confirmed(clerk, customer):
    api = token_client(clerk)

    job = upload(api, b"account;name;email\nC00001;Contoso Retail;nope\n").json()
    refused = api.post(f"/api/v1/imports/{job['id']}/confirm/")

    assert job["state"] == ImportJobState.INVALID
    assert job["confirm_url"] is None
    assert "email" in str(job["report"]["errors"]).lower()
    assert refused.status_code == 409
    assert Customer.objects.get(pk=customer.pk).email == ""


@pytest.mark.django_db
def test_an_unknown_profile_or_model_is_named(clerk):
    api = token_client(clerk)

    bad_profile = upload(api, b"account\n", profile="nope")
    bad_model = upload(api, b"account\n", model="auth.user")

    assert bad_profile.status_code == 422
    assert bad_profile.json()["errors"][0]["field"] == "profile"
    assert bad_model.json()["errors"][0]["field"] == "model"


@pytest.mark.django_db
def test_an_approver_may_not_import(approver):
    response = upload(token_client(approver), b"account;name\nC00001;X\n")

    assert response.status_code == 403
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_nobody_sees_another_callers_upload(clerk, clerk2, customer):
    job = upload(token_client(clerk), b"account;name\nC00001;Contoso Retail\n").json()

    assert token_client(clerk2).get(f"/api/v1/imports/{job['id']}/").status_code == 404


@pytest.mark.django_db
def test_a_large_file_is_checked_in_the_background(settings, clerk, customer):
    settings.IMPORT_BACKGROUND_BYTES = 100
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    queued = []

    def record(sender, task_result, **kwargs):
        queued.append(task_result.task.name)

    task_enqueued.connect(record)
    try:
        rows = "".join(f"C00001;Contoso Retail;City {n}\n" for n in range(20))
        api = token_client(clerk)
        job = upload(api, f"account;name;city\n{rows}".encode()).json()
        polled = api.get(job["url"]).json()
    finally:
        task_enqueued.disconnect(record)

    assert job["state"] == ImportJobState.PREVIEWING
    assert polled["state"] == ImportJobState.PREVIEWING
    assert polled["estimated_rows"] > 0
    assert queued == ["preview_import"]
