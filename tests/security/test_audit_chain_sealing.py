"""Sealing runs while others write: it never seals past a transaction that may still
commit a row with a lower id, and a rolled-back id is sealed as never committed."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

from workflow import audit_chain
from workflow.audit import audit_row, audit_rows_write
from workflow.models import AuditAction, AuditEntry, AuditSeal, Source
from workflow.services import audit_chain as chain_services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

COLUMNS = ", ".join(audit_chain.CHAINED_COLUMNS)


def write_rows(count: int = 1, note: str = "") -> None:
    content_type_id = ContentType.objects.get_for_model(AuditEntry).pk
    audit_rows_write(
        [
            audit_row(
                action=AuditAction.FIELD_CHANGED,
                actor=None,
                source=Source.SYSTEM,
                content_type_id=content_type_id,
                object_id=number,
                comment=note,
            )
            for number in range(count)
        ]
    )


def last_id() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True)[0]


@contextmanager
def second_connection() -> Iterator:
    """Another session on the test database, as a second worker would have."""
    database = connection.settings_dict
    other = psycopg2.connect(
        dbname=database["NAME"],
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        user=database["USER"],
        password=database["PASSWORD"] or None,
    )
    try:
        yield other
    finally:
        other.close()


def insert_uncommitted(other) -> int:
    """An audit row in `other`'s open transaction; its id."""
    with other.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO workflow_auditentry ({COLUMNS})"
            f" SELECT {COLUMNS} FROM workflow_auditentry ORDER BY id LIMIT 1"
            " RETURNING id"
        )
        return cursor.fetchone()[0]


def covered(row_id: int) -> bool:
    return AuditSeal.objects.filter(first_id__lte=row_id, last_id__gte=row_id).exists()


def sealed_before() -> int:
    """Rows written and sealed before the test's own; the last one's id."""
    write_rows(3)
    assert chain_services.audit_trail_seal(wait_seconds=5).sealed_up_to == last_id()
    return last_id()


def test_sealing_stops_before_a_row_whose_transaction_is_still_open():
    sealed = sealed_before()
    write_rows(2)
    with second_connection() as other:
        held = insert_uncommitted(other)
        write_rows(2)
        assert (held, last_id()) == (sealed + 3, sealed + 5)

        sealing = chain_services.audit_trail_seal(wait_seconds=0.3)
        # The later rows are committed, but the open transaction may still commit
        # `held`: the rows before it are sealed, nothing from it on.
        assert sealing.sealed_up_to == held - 1
        assert not covered(held)
        assert not covered(held + 1)

        other.commit()
    sealing = chain_services.audit_trail_seal(wait_seconds=0.3)
    assert sealing.sealed_up_to == held + 2
    seal = AuditSeal.objects.get(first_id=held)
    assert (seal.last_id, seal.never_committed) == (held + 2, [])
    assert chain_services.audit_trail_verify(actor=None).intact is True


def test_an_id_rolled_back_is_sealed_as_never_committed_once_its_transaction_ended():
    sealed_before()
    with second_connection() as other:
        held = insert_uncommitted(other)
        write_rows(1)
        assert chain_services.audit_trail_seal(wait_seconds=0.3).sealed_up_to == (
            held - 1
        )
        other.rollback()
    sealing = chain_services.audit_trail_seal(wait_seconds=0.3)
    assert sealing.sealed_up_to == held + 1
    assert AuditSeal.objects.get(first_id=held).never_committed == [[held, held]]
    assert chain_services.audit_trail_verify(actor=None).intact is True


def test_sealing_waits_for_a_transaction_that_ends_within_the_wait():
    sealed_before()
    with second_connection() as other:
        held = insert_uncommitted(other)
        write_rows(1)
        timer = threading.Timer(0.3, other.rollback)
        timer.start()
        started = time.monotonic()
        sealing = chain_services.audit_trail_seal(wait_seconds=10)
        timer.join()
    assert time.monotonic() - started < 5
    assert sealing.sealed_up_to == held + 1
    assert AuditSeal.objects.get(first_id=held).never_committed == [[held, held]]


def test_sealing_while_many_write_and_some_roll_back_seals_a_chain_that_verifies():
    """Writers commit or roll back batches at random moments while a sealer runs over
    and over; whatever it sealed, no row may turn up later in a gap it sealed."""
    sealed_before()
    stop = threading.Event()
    errors: list[Exception] = []

    def writer(seed: int) -> None:
        chance = random.Random(seed)
        try:
            while not stop.is_set():
                try:
                    with transaction.atomic():
                        write_rows(chance.randint(1, 30), note=f"writer {seed}")
                        time.sleep(chance.random() * 0.05)
                        if chance.random() < 0.3:
                            raise _RollBack
                except _RollBack:
                    pass
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    def sealer() -> None:
        try:
            while not stop.is_set():
                chain_services.audit_trail_seal(wait_seconds=0.1, size=50)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(3)]
    threads.append(threading.Thread(target=sealer))
    for thread in threads:
        thread.start()
    time.sleep(3)
    stop.set()
    for thread in threads:
        thread.join()
    assert errors == []
    # It sealed while they wrote, not only at the end.
    assert AuditSeal.objects.count() > 3
    chain_services.audit_trail_seal(wait_seconds=5)
    verification = chain_services.audit_trail_verify(actor=None)
    assert (verification.intact, verification.break_kind) == (True, "")
    assert verification.sealed_up_to >= last_id()
    assert verification.unsealed_rows == 0


class _RollBack(Exception):
    pass
