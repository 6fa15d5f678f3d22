"""Every user, model and proposal the audit trail names exists, and stays: PostgreSQL
checks the references of each INSERT or COPY of audit rows as a whole statement, and
refuses to delete a row the trail names (or change its key, or empty its table), from
the application or from a plain SQL session, as a foreign key would.

Concurrency is tested with a second transaction held open in another thread.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, close_old_connections, connection, transaction

from customers.models import Customer
from tests.factories import CustomerFactory
from tests.threads import held_in_another_thread
from workflow.audit import AUDIT_ROW_FIELDS, audit_row, audit_rows_write
from workflow.models import AuditAction, AuditEntry, ChangeProposal, Source

pytestmark = [pytest.mark.postgres]

ACTOR = AUDIT_ROW_FIELDS.index("actor_id")
PROPOSAL = AUDIT_ROW_FIELDS.index("proposal_id")


def row_naming(actor, customer, *, proposal_id=None) -> list[object]:
    return list(
        audit_row(
            action=AuditAction.FIELD_CHANGED,
            actor=actor,
            source=Source.IMPORT,
            content_type_id=ContentType.objects.get_for_model(Customer).pk,
            object_id=customer.pk,
            object_repr=str(customer),
            proposal_id=proposal_id,
            field_name="name",
            field_label="Name",
            old_value="Old",
            new_value="New",
        )
    )


def a_proposal(customer, clerk) -> ChangeProposal:
    return ChangeProposal.objects.create(
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=customer.pk,
        object_repr=str(customer),
        created_by=clerk,
    )


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.django_db
def test_audit_rows_naming_a_user_that_does_not_exist_are_refused_whole(clerk):
    customer = CustomerFactory()
    before = AuditEntry.objects.count()
    rows = [row_naming(clerk, customer) for _ in range(3)]
    rows[1][ACTOR] = clerk.pk + 1000

    with pytest.raises(IntegrityError) as refusal, transaction.atomic():
        audit_rows_write(rows)

    assert f"Key (actor_id)=({clerk.pk + 1000}) is not present" in str(refusal.value)
    assert AuditEntry.objects.count() == before


@pytest.mark.django_db
def test_a_copy_of_many_rows_with_one_missing_proposal_is_refused(clerk):
    customer = CustomerFactory()
    proposal = a_proposal(customer, clerk)
    rows = [row_naming(clerk, customer, proposal_id=proposal.pk) for _ in range(600)]
    rows[599][PROPOSAL] = proposal.pk + 1

    with pytest.raises(IntegrityError) as refusal, transaction.atomic():
        audit_rows_write(rows)

    assert f"Key (proposal_id)=({proposal.pk + 1}) is not present" in str(refusal.value)
    assert not AuditEntry.objects.filter(proposal=proposal).exists()
    # The same rows, each naming a proposal that is there, are written.
    rows[599][PROPOSAL] = proposal.pk
    audit_rows_write(rows)
    assert AuditEntry.objects.filter(proposal=proposal).count() == 600


@pytest.mark.django_db
def test_plain_sql_cannot_delete_a_user_the_audit_trail_names(clerk, clerk2):
    audit_rows_write([row_naming(clerk, CustomerFactory())])

    with pytest.raises(IntegrityError) as refusal, transaction.atomic():
        sql("DELETE FROM auth_user WHERE id = %s", [clerk.pk])

    assert "is still referenced from table" in str(refusal.value)
    assert get_user_model().objects.filter(pk=clerk.pk).exists()
    # A user the trail does not name may go.
    sql("DELETE FROM auth_user_groups WHERE user_id = %s", [clerk2.pk])
    sql("DELETE FROM auth_user WHERE id = %s", [clerk2.pk])
    assert not get_user_model().objects.filter(pk=clerk2.pk).exists()


@pytest.mark.django_db
def test_plain_sql_cannot_renumber_a_proposal_the_audit_trail_names(clerk):
    customer = CustomerFactory()
    named, unnamed = a_proposal(customer, clerk), a_proposal(CustomerFactory(), clerk)
    audit_rows_write([row_naming(clerk, customer, proposal_id=named.pk)])

    with pytest.raises(IntegrityError), transaction.atomic():
        sql(
            "UPDATE workflow_changeproposal SET id = id + 1000 WHERE id = %s",
            [named.pk],
        )

    # Other columns of it, and the key of a proposal the trail does not name, may change.
    sql(
        "UPDATE workflow_changeproposal SET justification = 'Checked' WHERE id = %s",
        [named.pk],
    )
    sql(
        "UPDATE workflow_changeproposal SET id = id + 1000 WHERE id = %s",
        [unnamed.pk],
    )
    assert ChangeProposal.objects.get(pk=named.pk).justification == "Checked"
    assert ChangeProposal.objects.filter(pk=unnamed.pk + 1000).exists()


@pytest.mark.django_db
def test_a_table_the_audit_trail_names_cannot_be_emptied(clerk):
    customer = CustomerFactory()
    proposal = a_proposal(customer, clerk)
    audit_rows_write([row_naming(clerk, customer, proposal_id=proposal.pk)])

    # (The checks the test's own writes left for its end are run first.)
    sql("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(IntegrityError) as refusal, transaction.atomic():
        sql("TRUNCATE workflow_changeproposal CASCADE")

    assert "the audit trail names its rows" in str(refusal.value)
    assert ChangeProposal.objects.filter(pk=proposal.pk).exists()


def delete_user(pk: int) -> None:
    with transaction.atomic():
        sql("DELETE FROM auth_user_groups WHERE user_id = %s", [pk])
        sql("DELETE FROM auth_user WHERE id = %s", [pk])


class Waiting:
    """`work` in a thread of its own, on its own connection; `blocked()` returns once
    PostgreSQL has it waiting for a lock, `outcome()` what it raised (or None)."""

    def __init__(self, work) -> None:
        self.raised: list[BaseException | None] = []
        self.thread = threading.Thread(target=self._run, args=(work,))
        self.thread.start()

    def _run(self, work) -> None:
        close_old_connections()
        try:
            work()
            self.raised.append(None)
        except BaseException as error:  # noqa: BLE001 - asserted by the test
            self.raised.append(error)
        finally:
            connection.close()

    def blocked(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    return
            time.sleep(0.05)
        raise AssertionError("the other transaction never waited")

    def outcome(self) -> BaseException | None:
        self.thread.join(timeout=30)
        return self.raised[0]


@pytest.mark.django_db(transaction=True)
def test_a_delete_waiting_for_audit_rows_naming_the_user_is_refused_when_they_commit(
    clerk, clerk2
):
    customer = CustomerFactory()

    def write_audit_rows(until_released) -> None:
        with transaction.atomic():
            audit_rows_write([row_naming(clerk2, customer)])
            until_released()

    with held_in_another_thread(write_audit_rows):
        # The rows lock the user they name: the delete waits for their transaction.
        deleting = Waiting(lambda: delete_user(clerk2.pk))
        deleting.blocked()

    # That transaction committed: the waiting delete then finds the rows, and stops.
    assert isinstance(deleting.outcome(), IntegrityError)
    assert AuditEntry.objects.filter(actor=clerk2).count() == 1
    assert get_user_model().objects.filter(pk=clerk2.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_audit_rows_waiting_for_a_users_deletion_are_refused_when_it_commits(
    clerk, clerk2
):
    customer = CustomerFactory()

    def delete_the_user(until_released) -> None:
        with transaction.atomic():
            sql("DELETE FROM auth_user_groups WHERE user_id = %s", [clerk2.pk])
            sql("DELETE FROM auth_user WHERE id = %s", [clerk2.pk])
            until_released()

    def write_audit_rows() -> None:
        with transaction.atomic():
            audit_rows_write([row_naming(clerk2, customer)])

    with held_in_another_thread(delete_the_user):
        # The rows wait for the user's deletion to commit or roll back ...
        writing = Waiting(write_audit_rows)
        writing.blocked()

    # ... it committed: they are refused, and nothing of them is written.
    refusal = writing.outcome()
    assert isinstance(refusal, IntegrityError)
    assert f"Key (actor_id)=({clerk2.pk}) is not present" in str(refusal)
    assert not AuditEntry.objects.filter(actor_id=clerk2.pk).exists()
    assert not get_user_model().objects.filter(pk=clerk2.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_audit_rows_waiting_for_a_deletion_rolled_back_are_written(clerk, clerk2):
    customer = CustomerFactory()

    class RolledBack(Exception):
        pass

    def delete_the_user_then_change_mind(until_released) -> None:
        try:
            with transaction.atomic():
                sql("DELETE FROM auth_user_groups WHERE user_id = %s", [clerk2.pk])
                sql("DELETE FROM auth_user WHERE id = %s", [clerk2.pk])
                until_released()
                raise RolledBack
        except RolledBack:
            pass

    def write_audit_rows() -> None:
        with transaction.atomic():
            audit_rows_write([row_naming(clerk2, customer)])

    with held_in_another_thread(delete_the_user_then_change_mind):
        writing = Waiting(write_audit_rows)
        writing.blocked()

    assert writing.outcome() is None
    assert AuditEntry.objects.filter(actor=clerk2).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("isolation", ["REPEATABLE READ", "SERIALIZABLE"])
def test_under_snapshot_isolation_no_user_can_be_deleted(clerk, clerk2, isolation):
    """Rows committed after such a transaction's snapshot would be invisible to the
    check, so the delete is refused whether or not the trail names the user."""
    audit_rows_write([row_naming(clerk, CustomerFactory())])

    with pytest.raises(IntegrityError) as refusal, transaction.atomic():
        sql(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
        sql("DELETE FROM auth_user_groups WHERE user_id = %s", [clerk2.pk])
        sql("DELETE FROM auth_user WHERE id = %s", [clerk2.pk])

    assert f"refused in a {isolation} transaction" in str(refusal.value)
    assert get_user_model().objects.filter(pk=clerk2.pk).exists()
