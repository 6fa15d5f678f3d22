"""The audit trail is append-only: not through the models, not through SQL, not in the admin."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection, transaction

from customers.services import customer_update
from workflow.models import AuditEntry, AuditEntryImmutable


@pytest.fixture
def entry(customer, clerk):
    customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("1")}, actor=clerk
    )
    return AuditEntry.objects.latest("id")


@pytest.mark.django_db
def test_the_model_refuses_to_change_or_delete_an_entry(entry):
    entry.comment = "edited"
    with pytest.raises(AuditEntryImmutable):
        entry.save()
    with pytest.raises(AuditEntryImmutable):
        entry.delete()


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE workflow_auditentry SET comment = 'edited' WHERE id = %s",
        "DELETE FROM workflow_auditentry WHERE id = %s",
    ],
)
def test_postgresql_refuses_update_and_delete(entry, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])
    entry.refresh_from_db()
    assert entry.comment == ""


@pytest.mark.postgres
@pytest.mark.django_db
def test_queryset_update_and_delete_are_refused_too(entry):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(comment="edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.filter(pk=entry.pk, comment="").exists()


TRUNCATE_REFUSED = "workflow_auditentry is append-only: TRUNCATE refused"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("TRUNCATE workflow_auditentry", TRUNCATE_REFUSED),
        # A table the audit trail names, as if the trail could be left naming nobody.
        (
            "TRUNCATE auth_user CASCADE",
            'cannot truncate table "auth_user": the audit trail names its rows',
        ),
    ],
)
def test_postgresql_refuses_truncate(entry, statement, refusal):
    with pytest.raises(DatabaseError) as refused, connection.cursor() as cursor:
        cursor.execute(statement)
    assert str(refused.value).splitlines()[0] == refusal
    assert AuditEntry.objects.filter(pk=entry.pk, comment="").exists()
    assert get_user_model().objects.filter(pk=entry.actor_id).exists()


@pytest.fixture
def sealed(entry):
    from workflow.services import audit_chain as chain_services

    chain_services.audit_trail_seal(wait_seconds=5)
    chain_services.audit_trail_verify(actor=None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("statement", "refused"),
    [
        (
            "UPDATE workflow_auditseal SET link = previous_link",
            "workflow_auditseal is append-only: UPDATE refused",
        ),
        (
            "DELETE FROM workflow_auditseal",
            "workflow_auditseal is append-only: DELETE refused",
        ),
        (
            "TRUNCATE workflow_auditseal",
            "workflow_auditseal is append-only: TRUNCATE refused",
        ),
        (
            "UPDATE workflow_auditverification SET intact = NOT intact",
            "workflow_auditverification is append-only: UPDATE refused",
        ),
        (
            "DELETE FROM workflow_auditverification",
            "workflow_auditverification is append-only: DELETE refused",
        ),
        (
            "TRUNCATE workflow_auditverification",
            "workflow_auditverification is append-only: TRUNCATE refused",
        ),
    ],
)
def test_postgresql_keeps_the_seals_and_verifications_append_only_too(
    sealed, statement, refused
):
    from workflow.models import AuditSeal, AuditVerification

    with pytest.raises(DatabaseError) as error, connection.cursor() as cursor:
        cursor.execute(statement)
    assert str(error.value).splitlines()[0] == refused
    assert AuditSeal.objects.count() == 1
    assert AuditVerification.objects.filter(intact=True).count() == 1
