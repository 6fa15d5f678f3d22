"""The audit trail's integrity page: the last verification, how far the chain is sealed,
and Verify now for those allowed; the status the auditors' reports show."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from customers.services import customer_update
from tests.factories import UserFactory
from workflow.admin.audit_chain import VERIFIED_BROKEN, VERIFIED_INTACT
from workflow.exceptions import PermissionRefused
from workflow.models import AuditEntry, AuditSeal, AuditVerification, ChainBreak
from workflow.selectors_audit_chain import (
    BREAKS,
    INTACT,
    NEVER_VERIFIED,
    audit_chain_status,
)
from workflow.services import audit_chain as chain_services

PAGE = reverse("admin:workflow_auditverification_changelist")
VERIFY = reverse("admin:workflow_auditverification_verify")


@pytest.fixture
def sealed(customer, clerk) -> list[int]:
    for limit in (1, 2, 3):
        customer_update(
            customer_id=customer.pk,
            values={"credit_limit": Decimal(limit)},
            actor=clerk,
        )
    chain_services.audit_trail_seal(wait_seconds=5)
    return list(AuditEntry.objects.order_by("id").values_list("id", flat=True))


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.django_db
def test_an_administrator_sees_it_was_never_verified_and_verifies_now(
    sealed, approval_admin
):
    admin = logged_in(approval_admin)
    page = admin.get(PAGE)
    assert page.status_code == 200
    assert str(NEVER_VERIFIED) in page.text
    assert "Verify now" in page.text
    assert page.context["status"].sealed_up_to == sealed[-1]

    response = admin.post(VERIFY, follow=True)

    assert messages_of(response) == [str(VERIFIED_INTACT)]
    assert str(INTACT) in response.text
    assert "by admin" in response.text
    verification = AuditVerification.objects.get()
    assert (verification.actor, verification.intact, verification.rows_checked) == (
        approval_admin,
        True,
        3,
    )
    assert f"{sealed[-1]}:{verification.head_link}" in response.text


@pytest.mark.django_db
def test_the_page_names_the_first_broken_link(sealed, approval_admin):
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # As the database owner, past the append-only trigger; the rows the test
            # wrote have their foreign keys checked first, as ALTER TABLE wants.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE workflow_auditentry DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE workflow_auditentry SET comment = 'approved' WHERE id = %s",
            [sealed[1]],
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE workflow_auditentry ENABLE TRIGGER USER")

    response = logged_in(approval_admin).post(VERIFY, follow=True)

    assert messages_of(response) == [str(VERIFIED_BROKEN)]
    finding = str(BREAKS[ChainBreak.ROW_CHANGED]) % {
        "row": sealed[1],
        "seal": AuditSeal.objects.get().pk,
    }
    assert response.context["status"].result == finding
    assert response.text.count(finding) == 2  # the status and the list below it


@pytest.mark.django_db
def test_a_reader_without_the_run_permission_sees_the_result_but_cannot_verify(
    sealed,
):
    chain_services.audit_trail_verify(actor=None)
    reader = UserFactory(username="auditor", is_staff=True)
    reader.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="workflow", codename="view_auditverification"
        )
    )
    client = logged_in(reader)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert str(INTACT) in page.text
    assert "by the periodic check or a command" in page.text
    assert "Verify now" not in page.text

    assert client.post(VERIFY).status_code == 403
    assert AuditVerification.objects.count() == 1


@pytest.mark.django_db
def test_an_approver_may_neither_see_nor_run_it(sealed, approver):
    client = logged_in(approver)
    assert client.get(PAGE).status_code == 403
    assert client.post(VERIFY).status_code == 403
    assert not AuditVerification.objects.exists()


@pytest.mark.django_db
def test_the_verify_button_needs_a_post(sealed, approval_admin):
    assert logged_in(approval_admin).get(VERIFY).status_code == 405
    assert not AuditVerification.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_a_person_without_the_permission(sealed, approver):
    with pytest.raises(PermissionRefused):
        chain_services.audit_trail_verify(actor=approver)
    assert not AuditVerification.objects.exists()


@pytest.mark.django_db
def test_the_status_says_when_the_chain_was_last_verified_and_how_far_it_is_sealed(
    sealed, customer, clerk
):
    assert audit_chain_status()[:4] == (None, None, str(NEVER_VERIFIED), sealed[-1])
    verification = chain_services.audit_trail_verify(actor=None)
    customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal(4)}, actor=clerk
    )
    status = audit_chain_status()
    assert (status.verified_at, status.intact, status.result) == (
        verification.finished_at,
        True,
        str(INTACT),
    )
    assert (status.sealed_up_to, status.unsealed_rows) == (sealed[-1], 1)
    assert status.sealed_at == AuditSeal.objects.get().sealed_at
    assert status.oldest_unsealed_at == AuditEntry.objects.latest("id").created_at
