"""The audit trail's hash chain shows an edit made in the database itself: verify_audit
names the first row or seal that no longer matches, and what is wrong with it."""

from __future__ import annotations

import json
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings

from customers.services import customer_update
from workflow import audit_chain
from workflow.models import AuditEntry, AuditSeal, AuditVerification, ChainBreak
from workflow.selectors_audit_chain import BREAKS, INTACT
from workflow.services import audit_chain as chain_services

ROWS = 6


@pytest.fixture
def history(customer, clerk) -> list[int]:
    """Six audit rows written by the services, sealed; their ids."""
    for limit in range(1, ROWS + 1):
        customer_update(
            customer_id=customer.pk,
            values={"credit_limit": Decimal(limit)},
            actor=clerk,
        )
    ids = list(AuditEntry.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) == ROWS
    chain_services.audit_trail_seal(wait_seconds=5)
    return ids


def seal_of(row_id: int) -> int:
    return AuditSeal.objects.get(first_id__lte=row_id, last_id__gte=row_id).pk


def broken() -> str:
    """What verify_audit says when it finds a break."""
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    return str(failure.value)


def expected(kind: ChainBreak, **values) -> str:
    return str(BREAKS[kind]) % {"row": None, "other": None, "seal": None, **values}


@contextmanager
def as_database_owner(*tables: str):
    """The owner switches the append-only triggers off for one transaction, as anyone
    holding the database can (the application's role cannot)."""
    tables = tables or ("workflow_auditentry",)
    with transaction.atomic(), connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield cursor
        # Foreign keys are checked at commit; ALTER TABLE wants them checked first.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


@pytest.mark.django_db
def test_every_column_of_an_audit_row_is_chained():
    columns = {field.attname for field in AuditEntry._meta.concrete_fields} - {
        AuditEntry._meta.pk.attname
    }
    assert set(audit_chain.CHAINED_COLUMNS) == columns
    assert len(audit_chain.CHAINED_COLUMNS) == len(columns)


@pytest.mark.django_db
def test_an_untouched_chain_verifies_clean(history, capsys):
    call_command("verify_audit")
    verification = AuditVerification.objects.get()
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"Checked 1 seal(s) and {ROWS} audit row(s); 0 row(s) not sealed yet.",
        str(INTACT),
        f"The chain ends at row {history[-1]} with the link {verification.head_link};"
        f" check it later with --anchor {history[-1]}:{verification.head_link}",
    ]
    assert verification.intact is True
    assert verification.sealed_up_to == history[-1]
    assert verification.rows_checked == ROWS


@pytest.mark.django_db
def test_seal_audit_seals_new_rows_and_verifies_when_asked(customer, clerk, capsys):
    for limit in (1, 2):
        customer_update(
            customer_id=customer.pk,
            values={"credit_limit": Decimal(limit)},
            actor=clerk,
        )
    last = AuditEntry.objects.latest("id").pk

    call_command("seal_audit", "--verify-every", "3600", "--wait", "5")
    call_command("seal_audit", "--wait", "5")

    assert capsys.readouterr().out.splitlines() == [
        f"Sealed 2 audit row(s) in 1 seal(s); the chain covers rows up to {last}.",
        str(INTACT),
        f"Sealed 0 audit row(s) in 0 seal(s); the chain covers rows up to {last}.",
    ]
    verification = AuditVerification.objects.get()
    assert (verification.actor, verification.intact) == (None, True)


@pytest.mark.django_db
def test_sealing_in_blocks_chains_each_block_to_the_one_before(
    history, customer, clerk
):
    # Rows written after the first seal go into blocks of two.
    for limit in (7, 8, 9):
        customer_update(
            customer_id=customer.pk,
            values={"credit_limit": Decimal(limit)},
            actor=clerk,
        )
    sealing = chain_services.audit_trail_seal(wait_seconds=5, size=2)
    seals = list(AuditSeal.objects.order_by("first_id"))
    assert (sealing.seals, sealing.rows) == (2, 3)
    assert [(s.first_id, s.last_id) for s in seals[1:]] == [
        (history[-1] + 1, history[-1] + 2),
        (history[-1] + 3, history[-1] + 3),
    ]
    assert [s.previous_link for s in seals[1:]] == [s.link for s in seals[:-1]]
    assert chain_services.audit_trail_verify(actor=None).intact is True


@pytest.mark.django_db
def test_rows_written_after_the_last_seal_are_counted_not_yet_sealed(
    history, customer, clerk
):
    customer_update(
        customer_id=customer.pk,
        values={"credit_limit": Decimal(99)},
        actor=clerk,
    )
    verification = chain_services.audit_trail_verify(actor=None)
    assert (verification.intact, verification.unsealed_rows) == (True, 1)
    assert verification.sealed_up_to == history[-1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "change",
    [
        "new_value = '\"999.00\"'::jsonb",
        "comment = 'approved by phone'",
        "actor_name = 'approver'",
        "created_at = created_at - interval '1 microsecond'",
        "comment_translations = '{}'::jsonb",
    ],
)
def test_a_changed_row_is_found(history, change):
    target = history[3]
    with as_database_owner() as cursor:
        cursor.execute(
            f"UPDATE workflow_auditentry SET {change} WHERE id = %s", [target]
        )
    assert broken() == expected(
        ChainBreak.ROW_CHANGED, row=target, seal=seal_of(target)
    )
    verification = AuditVerification.objects.get()
    assert (verification.intact, verification.break_kind, verification.break_row) == (
        False,
        ChainBreak.ROW_CHANGED,
        target,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_deleted_row_is_found(history):
    target = history[2]
    # The other way an owner gets past triggers: replica mode for the transaction.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM workflow_auditentry WHERE id = %s", [target])
    assert broken() == expected(
        ChainBreak.ROW_MISSING, row=target, seal=seal_of(target)
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_last_row_deleted_is_found(history):
    with as_database_owner() as cursor:
        cursor.execute("DELETE FROM workflow_auditentry WHERE id = %s", [history[-1]])
    assert broken() == expected(
        ChainBreak.ROW_MISSING, row=history[-1], seal=seal_of(history[-1])
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_rows_swapped_are_found_reordered(history):
    first, second = history[1], history[4]
    with as_database_owner() as cursor:
        cursor.execute("UPDATE workflow_auditentry SET id = -id WHERE id = %s", [first])
        cursor.execute(
            "UPDATE workflow_auditentry SET id = %s WHERE id = %s", [first, second]
        )
        cursor.execute(
            "UPDATE workflow_auditentry SET id = %s WHERE id = %s", [second, -first]
        )
    assert broken() == expected(
        ChainBreak.ROWS_REORDERED, row=first, other=second, seal=seal_of(first)
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_first_of_several_broken_links_is_named(history):
    with as_database_owner() as cursor:
        cursor.execute(
            "UPDATE workflow_auditentry SET comment = 'x' WHERE id = %s", [history[4]]
        )
        cursor.execute("DELETE FROM workflow_auditentry WHERE id = %s", [history[1]])
    assert broken() == expected(
        ChainBreak.ROW_MISSING, row=history[1], seal=seal_of(history[1])
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_put_where_an_id_was_never_committed_is_found(history, customer, clerk):
    customer_id = customer.pk
    # A change that rolls back: its audit row's id is taken from the sequence and lost.
    with pytest.raises(RuntimeError), transaction.atomic():
        customer_update(
            customer_id=customer_id, values={"credit_limit": Decimal(50)}, actor=clerk
        )
        raise RuntimeError("rolled back")
    customer_update(
        customer_id=customer_id, values={"credit_limit": Decimal(51)}, actor=clerk
    )
    lost = history[-1] + 1
    assert not AuditEntry.objects.filter(pk=lost).exists()
    chain_services.audit_trail_seal(wait_seconds=5)
    assert AuditSeal.objects.get(first_id=lost).never_committed == [[lost, lost]]
    assert chain_services.audit_trail_verify(actor=None).intact is True
    # Later, someone puts a backdated row under that id.
    columns = ", ".join(audit_chain.CHAINED_COLUMNS)
    with as_database_owner() as cursor:
        cursor.execute(
            f"INSERT INTO workflow_auditentry (id, {columns})"
            f" SELECT %s, {columns} FROM workflow_auditentry WHERE id = %s",
            [lost, history[0]],
        )
    assert broken() == expected(ChainBreak.ROW_APPEARED, row=lost, seal=seal_of(lost))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_removed_seal_is_found(history, customer, clerk):
    customer_id = customer.pk
    for limit in (7, 8, 9):
        customer_update(
            customer_id=customer_id,
            values={"credit_limit": Decimal(limit)},
            actor=clerk,
        )
    chain_services.audit_trail_seal(wait_seconds=5, size=1)
    middle, after = AuditSeal.objects.order_by("first_id")[2:4]
    with as_database_owner("workflow_auditseal") as cursor:
        cursor.execute("DELETE FROM workflow_auditseal WHERE id = %s", [middle.pk])
    assert broken() == expected(
        ChainBreak.SEAL_BROKEN, seal=after.pk, row=middle.first_id
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_seal_changed_to_match_a_changed_row_is_found(history):
    """Rewriting a row's digest in its seal to fit an edit breaks the seal's link."""
    target = history[3]
    seal = AuditSeal.objects.get(pk=seal_of(target))
    with as_database_owner("workflow_auditentry", "workflow_auditseal") as cursor:
        cursor.execute(
            "UPDATE workflow_auditentry SET comment = 'x' WHERE id = %s", [target]
        )
        ((_id, canonical),) = audit_chain.rows_read(first_id=target, last_id=target)
        digests = bytearray(bytes(seal.row_digests))
        position = history.index(target) * audit_chain.DIGEST_SIZE
        digests[position : position + audit_chain.DIGEST_SIZE] = audit_chain.row_digest(
            audit_chain.current_key(), canonical
        )
        cursor.execute(
            "UPDATE workflow_auditseal SET row_digests = %s WHERE id = %s",
            [bytes(digests), seal.pk],
        )
    assert broken() == expected(ChainBreak.SEAL_ALTERED, seal=seal.pk)


def reseal_everything(key: audit_chain.ChainKey) -> None:
    """What an owner who knows the method does after an edit: all seals made anew."""
    with as_database_owner("workflow_auditseal") as cursor:
        cursor.execute("DELETE FROM workflow_auditseal")
        horizon = AuditEntry.objects.order_by("-id").values_list("id", flat=True)[0]
        first, link = 1, audit_chain.GENESIS
        while block := audit_chain.block_build(
            first_id=first, previous_link=link, horizon=horizon, key=key
        ):
            cursor.execute(
                "INSERT INTO workflow_auditseal (first_id, last_id, never_committed,"
                " row_digests, previous_link, link, key_id, scheme, sealed_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, 1, now())",
                [
                    block.first_id,
                    block.last_id,
                    json.dumps(block.never_committed),
                    block.row_digests,
                    block.previous_link,
                    block.link,
                    block.key_id,
                ],
            )
            first, link = block.last_id + 1, block.link


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(AUDIT_CHAIN_KEY="kept-outside-the-database")
def test_with_a_key_an_owner_cannot_seal_an_edit_over(customer, clerk):
    customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal(1)}, actor=clerk
    )
    chain_services.audit_trail_seal(wait_seconds=5)
    (target,) = AuditEntry.objects.values_list("id", flat=True)
    with as_database_owner() as cursor:
        cursor.execute(
            "UPDATE workflow_auditentry SET comment = 'x' WHERE id = %s", [target]
        )
    # The key's fingerprint is in every seal; the key itself is not in the database.
    guessed = audit_chain.ChainKey(audit_chain.current_key().key_id, b"a guess")
    reseal_everything(guessed)
    assert broken() == expected(ChainBreak.SEAL_ALTERED, seal=seal_of(target))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_without_a_key_a_chain_sealed_anew_is_found_by_its_verified_end(history):
    assert chain_services.audit_trail_verify(actor=None).intact is True
    with as_database_owner() as cursor:
        cursor.execute(
            "UPDATE workflow_auditentry SET comment = 'x' WHERE id = %s", [history[3]]
        )
    reseal_everything(audit_chain.current_key())
    assert broken() == expected(ChainBreak.HEAD_LOST, row=history[-1])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_rows_and_seals_cut_off_the_end_are_found_by_an_anchor(
    history, customer, clerk
):
    call_command("verify_audit")
    verification = AuditVerification.objects.get()
    anchor = f"{verification.sealed_up_to}:{verification.head_link}"
    customer_update(
        customer_id=customer.pk,
        values={"credit_limit": Decimal(70)},
        actor=clerk,
    )
    chain_services.audit_trail_seal(wait_seconds=5)
    call_command("verify_audit", "--anchor", anchor)
    # The owner removes the last two rows, their seals, and every verification.
    with as_database_owner(
        "workflow_auditentry", "workflow_auditseal", "workflow_auditverification"
    ) as cursor:
        cursor.execute("DELETE FROM workflow_auditverification")
        cursor.execute("DELETE FROM workflow_auditentry WHERE id >= %s", [history[-2]])
        cursor.execute("DELETE FROM workflow_auditseal")
    chain_services.audit_trail_seal(wait_seconds=5)
    call_command("verify_audit")
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit", "--anchor", anchor)
    assert str(failure.value) == expected(ChainBreak.HEAD_LOST, row=history[-1])
