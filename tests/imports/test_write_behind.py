"""An import's bulk writes run in a second thread while it plans the next batch
(workflow/write_behind.py): the same records, proposals and history as writing in
turn, every error still rolls the whole import back, and no thread is left behind."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from contextlib import ExitStack
from decimal import Decimal

import pytest
from django.db import connection, transaction
from schwifty import IBAN

from customers.models import Customer
from tests.factories import CustomerFactory
from tests.threads import held_in_another_thread
from workflow.bulk_sql import rows_insert
from workflow.importing import plan
from workflow.importing.plan import ImportOptions
from workflow.models import (
    AuditEntry,
    ChangeProposal,
    DashboardTally,
    OutboxMessage,
    ProposedChange,
    WorkItem,
)
from workflow.services import governed_records_import
from workflow.write_behind import write_behind

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

HEADER = "account;name;customer_group;credit_limit;payment_terms;bank_account;city\n"


def iban(n: int, bank: str = "ABNA") -> str:
    return str(IBAN.generate("NL", bank_code=bank, account_code=f"{n:010d}"))


@pytest.fixture
def mixed_file(tmp_path):
    """18 stored customers renamed (a third raise their limit, a third lower it, some
    get a new bank account) and 9 new ones: every kind of write in every batch."""
    for n in range(18):
        CustomerFactory(
            account=f"W{n:05d}",
            name=f"Stored {n}",
            credit_limit=1000,
            bank_account=iban(n),
        )
    group = Customer.objects.get(account="W00000").customer_group.code
    lines = []
    for n in range(18):
        limit = {0: 1500 + n, 1: 900 - n, 2: 1000}[n % 3]
        account = iban(n, "INGB") if n % 4 == 0 else iban(n)
        lines.append(
            f"W{n:05d};Stored {n} renamed;{group};{limit};Net30;{account};Delft\n"
        )
    for n in range(18, 27):
        lines.append(f"W{n:05d};New {n};{group};{2000 + n};Net30;{iban(n)};Gouda\n")
    path = tmp_path / "mixed.csv"
    path.write_text(HEADER + "".join(lines))
    return path


def imported(path, actor, behaviour: str = "propose") -> plan.ImportReport:
    """The file imported by `actor`, as the page and the command import it."""
    return governed_records_import(
        model=Customer,
        path=path,
        file_name=path.name,
        options=ImportOptions(behaviour=behaviour),
        actor=actor,
        dry_run=False,
    )


def what_was_written() -> dict[str, object]:
    """Everything an import leaves that a user or an auditor sees, without keys and
    times (which differ between two runs)."""
    account_of = dict(Customer.objects.values_list("pk", "account"))
    return {
        "customers": list(
            Customer.objects.order_by("account").values_list(
                "account",
                "name",
                "credit_limit",
                "bank_account",
                "city",
                "record_status",
            )
        ),
        "proposals": sorted(
            (account_of[p.object_id], p.state, p.creates_record, p.justification)
            for p in ChangeProposal.objects.all()
        ),
        "changes": sorted(
            (
                account_of[c.proposal.object_id],
                c.field_name,
                c.original_value,
                c.proposed_value,
            )
            for c in ProposedChange.objects.select_related("proposal")
        ),
        "history": sorted(
            (
                e.action,
                account_of.get(e.object_id, ""),
                e.field_name,
                str(e.old_value),
                str(e.new_value),
                e.old_display,
                e.new_display,
                e.comment.split(" ")[0],
            )
            for e in AuditEntry.objects.all()
        ),
        "work items": sorted(
            (account_of[w.proposal.object_id], w.state, w.assignee_id)
            for w in WorkItem.objects.select_related("proposal")
        ),
        "mails": sorted(
            (m.event, m.recipient_id, len(m.proposal_ids))
            for m in OutboxMessage.objects.all()
        ),
        "dashboard": sorted(_tallies_by_key().items()),
    }


def _tallies_by_key() -> Counter:
    """The dashboard's counts by kind and label, its rows added up (times differ)."""
    totals: Counter = Counter()
    for tally in DashboardTally.objects.all():
        totals[tally.kind, tally.label] += tally.count
    return totals


class _Undo(Exception):
    pass


def written_by_an_import(path, actor, *, write_behind_on: bool, settings) -> dict:
    settings.IMPORT_WRITE_BEHIND = write_behind_on
    return written_and_undone(path, actor)


def written_and_undone(path, actor) -> dict:
    """Import `path`, note what it wrote, and undo it, so that the next run starts
    from the same data."""
    result: dict[str, object] = {}
    try:
        with transaction.atomic():
            report = imported(path, actor)
            assert report.ok, report.as_dict()
            result = what_was_written()
            raise _Undo
    except _Undo:
        pass
    return result


def test_an_import_writes_the_same_whether_its_writes_run_behind_or_in_turn(
    importer, decreases_pass, mixed_file, monkeypatch, settings
):
    monkeypatch.setattr(plan, "BATCH_SIZE", 4)

    behind = written_by_an_import(
        mixed_file, importer, write_behind_on=True, settings=settings
    )
    in_turn = written_by_an_import(
        mixed_file, importer, write_behind_on=False, settings=settings
    )

    assert behind == in_turn
    # And it is the import the file asks for, not two runs that both did nothing.
    customers = {row[0]: row for row in behind["customers"]}
    assert customers["W00001"][1:4] == ("Stored 1 renamed", Decimal("899"), iban(1))
    assert customers["W00000"][2] == Decimal("1000")  # raised: waits for approval
    assert customers["W00020"][1] == "New 20"
    assert dict(behind["dashboard"])["open", "pending"] == 9
    assert Counter(state for _a, state, *_ in behind["proposals"]) == Counter(
        # Lowered limits pass by themselves (1, 7, 10, 13), not with a new bank
        # account (4, 16); raised limits (0, 3, …, 15) and the new account of 8 wait.
        {"applied": 4, "pending": 9}
    )


def test_the_writes_of_a_batch_run_in_a_second_thread_while_the_next_is_planned(
    importer, decreases_pass, mixed_file, monkeypatch, settings
):
    settings.IMPORT_WRITE_BEHIND = True
    monkeypatch.setattr(plan, "BATCH_SIZE", 4)
    threads_while_planning: list[set[str]] = []
    plan_read = plan.ImportPlanner.plan_read

    def noting_threads(self, read):
        threads_while_planning.append({t.name for t in threading.enumerate()})
        return plan_read(self, read)

    monkeypatch.setattr(plan.ImportPlanner, "plan_read", noting_threads)

    report = imported(mixed_file, importer)

    assert report.ok, report.as_dict()
    assert len(threads_while_planning) == 7
    assert all(
        any(name.startswith("import-writes") for name in names)
        for names in threads_while_planning[1:]
    ), threads_while_planning
    assert not any(t.name.startswith("import-writes") for t in threading.enumerate()), (
        "the writer thread outlives its import"
    )
    assert Customer.objects.get(account="W00026").name == "New 26"


def test_a_queued_write_the_database_refuses_rolls_the_whole_import_back(
    importer, decreases_pass, mixed_file, monkeypatch, settings
):
    """The database refuses a row of the last batch while its COPY runs in the worker:
    the import is refused with what the database said, and writes nothing."""
    settings.IMPORT_WRITE_BEHIND = True
    monkeypatch.setattr(plan, "BATCH_SIZE", 4)
    with connection.cursor() as cursor:
        # A rule of the database's own that the import's checks do not know (the
        # factories' pending foreign key checks run first: ALTER TABLE waits for none).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "ALTER TABLE customers_customer ADD CONSTRAINT test_no_new_26 "
            "CHECK (name <> 'New 26')"
        )
    before = what_was_written()

    report = imported(mixed_file, importer)

    assert report.refused.endswith(
        'The database said: new row for relation "customers_customer" violates '
        'check constraint "test_no_new_26"'
    )

    assert what_was_written() == before
    assert not Customer.objects.filter(account="W00018").exists()
    assert not any(t.name.startswith("import-writes") for t in threading.enumerate())


def test_a_statement_waits_for_the_queued_writes_unless_it_reads_ahead():
    with transaction.atomic(), write_behind() as queue:
        rows_insert(
            DashboardTally,
            ["kind", "label", "hour", "count"],
            [("field", "test.label", "2026-11-29T10:00:00+00:00", 3)],
        )
        with queue.reads_ahead():
            seen_ahead = DashboardTally.objects.filter(label="test.label").count()
        seen_after = DashboardTally.objects.filter(label="test.label").count()

    assert (seen_ahead, seen_after) == (0, 1)


def test_the_worker_gets_python_back_within_a_millisecond_while_writes_run_behind():
    """After each statement the worker waits for the importing thread to let go of the
    interpreter: at most 1 ms while a block runs (5 ms by default left the connection
    idle a fifth of an update), and the process's own interval again after it, also
    when the import fails."""
    before = sys.getswitchinterval()

    with transaction.atomic(), write_behind():
        during = sys.getswitchinterval()
    after = sys.getswitchinterval()
    with pytest.raises(_Undo), transaction.atomic(), write_behind():
        raise _Undo

    assert during == pytest.approx(0.001)
    assert after == sys.getswitchinterval() == before


def test_of_two_imports_at_once_the_last_to_end_gives_the_interval_back():
    """The first import ends while the second still writes: the second keeps the short
    interval, and the process gets its own back when the second ends."""
    before = sys.getswitchinterval()

    def first_import(until_released) -> None:
        with transaction.atomic(), write_behind():
            until_released()

    with ExitStack() as first:
        first.enter_context(held_in_another_thread(first_import))
        with transaction.atomic(), write_behind():
            first.close()
            while_only_the_second_runs = sys.getswitchinterval()

    assert while_only_the_second_runs == pytest.approx(0.001)
    assert sys.getswitchinterval() == before
