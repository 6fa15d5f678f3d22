"""A large file is read, parsed and its values checked in a second process while the
import plans and writes the batches before (workflow/importing/read_ahead.py): the
same records, refusals and history as reading it in one process, a damaged file or a
reader that dies refused in plain words with nothing written, no process left behind,
and the import's own database session untouched."""

from __future__ import annotations

import logging
import multiprocessing
import os
import stat
import time

import pytest
from django.db import connection
from django.utils import translation

from customers.models import Customer
from tests.factories import CustomerFactory
from tests.imports import test_write_behind
from tests.imports.test_write_behind import (
    imported,
    what_was_written,
    written_and_undone,
)
from workflow.importing import plan, read_ahead
from workflow.importing.plan import ImportOptions
from workflow.services import governed_records_import

pytestmark = pytest.mark.django_db

mixed_file = test_write_behind.mixed_file

HEADER = "account;name;customer_group;credit_limit;payment_terms;bank_account;city\n"


@pytest.fixture
def small_batches(monkeypatch, settings):
    """Batches of four rows, and every file read ahead however small."""
    monkeypatch.setattr(plan, "BATCH_SIZE", 4)
    settings.IMPORT_READ_AHEAD_MIN_BYTES = 0


@pytest.fixture
def readers(monkeypatch, tmp_path):
    """The processes that parsed the batches, one line per batch (the reading process
    cannot tell the test in memory)."""
    noted = tmp_path / "parsed-by.txt"
    parse_batch = plan.ImportPlanner.parse_batch

    def noting(self, rows, columns):
        with noted.open("a") as handle:
            handle.write(f"{os.getpid()}\n")
        return parse_batch(self, rows, columns)

    monkeypatch.setattr(plan.ImportPlanner, "parse_batch", noting)

    def pids() -> list[int]:
        return [int(p) for p in noted.read_text().split()] if noted.exists() else []

    return pids


def written(path, actor, *, ahead: bool, settings) -> dict:
    settings.IMPORT_READ_AHEAD = ahead
    return written_and_undone(path, actor)


def previewed(path, actor, *, ahead: bool, settings, sample_rows: int = 0) -> dict:
    settings.IMPORT_READ_AHEAD = ahead
    return governed_records_import(
        model=Customer,
        path=path,
        file_name=path.name,
        options=ImportOptions(behaviour="propose"),
        actor=actor,
        dry_run=True,
        sample_rows=sample_rows,
    ).as_dict()


def test_a_file_read_ahead_is_imported_as_one_read_in_turn(
    importer, decreases_pass, mixed_file, small_batches, readers, settings
):
    ahead = written(mixed_file, importer, ahead=True, settings=settings)
    parsed_by = readers()
    in_turn = written(mixed_file, importer, ahead=False, settings=settings)

    assert ahead == in_turn
    assert len(parsed_by) == 7 and os.getpid() not in parsed_by, parsed_by
    assert set(readers()[7:]) == {os.getpid()}
    customers = {row[0]: row for row in ahead["customers"]}
    assert customers["W00001"][1] == "Stored 1 renamed"
    assert customers["W00020"][1] == "New 20"
    assert multiprocessing.active_children() == []


@pytest.fixture
def bad_values_file(tmp_path, mixed_file):
    """The mixed file with a wrong IBAN, a name too long, a limit that is no number and
    a repeated account, in different batches."""
    lines = mixed_file.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace(";NL", ";NL00", 1)
    lines[9] = lines[9].replace("Stored 8 renamed", "x" * 300)
    lines[14] = lines[14].replace(";Net30;", ";Net30;", 1).replace(";1", ";1,5.5x", 1)
    lines[22] = lines[2]
    path = tmp_path / "bad.csv"
    path.write_text("".join(lines))
    return path


@pytest.mark.parametrize("language", ["en", "nl"])
def test_every_refusal_reads_the_same_when_the_file_is_read_ahead(
    importer,
    decreases_pass,
    bad_values_file,
    small_batches,
    readers,
    settings,
    language,
):
    with translation.override(language):
        ahead = previewed(bad_values_file, importer, ahead=True, settings=settings)
        in_turn = previewed(bad_values_file, importer, ahead=False, settings=settings)

    assert ahead == in_turn
    assert os.getpid() not in readers()[:7]
    columns = {(e["line"], e["column"]) for e in ahead["errors"]}
    assert {(4, "bank_account"), (10, "name"), (23, "account")} <= columns
    assert any(e["line"] == 15 for e in ahead["errors"]), ahead["errors"]
    iban_error = next(e for e in ahead["errors"] if e["line"] == 4)
    assert ("geen geldig" in iban_error["message"]) == (language == "nl"), iban_error


def test_a_file_refused_halfway_is_refused_after_the_rows_above(
    importer, decreases_pass, mixed_file, small_batches, settings
):
    data = mixed_file.read_bytes()
    cut = data.index(b"W00020")
    # Line 22 holds a cell longer than any spreadsheet's: found only when read.
    refused_halfway = mixed_file.with_name("long-cell.csv")
    refused_halfway.write_bytes(data[:cut] + b"x" * 40_000 + data[cut:])
    settings.IMPORT_READ_AHEAD = False
    in_turn = imported(refused_halfway, importer).refused
    before = what_was_written()

    settings.IMPORT_READ_AHEAD = True
    ahead = imported(refused_halfway, importer).refused

    assert ahead == in_turn
    assert ahead.startswith("Line 22, column A holds more than 32,767 characters"), (
        ahead
    )
    assert what_was_written() == before
    assert multiprocessing.active_children() == []


def test_a_reader_that_dies_refuses_the_import_in_plain_words_and_writes_nothing(
    importer, decreases_pass, mixed_file, small_batches, monkeypatch, caplog, settings
):
    parent = os.getpid()
    parse_batch = plan.ImportPlanner.parse_batch

    def dying(self, rows, columns):
        if os.getpid() != parent and rows[0].line > 10:
            os._exit(3)  # As the kernel's OOM killer would end it.
        return parse_batch(self, rows, columns)

    monkeypatch.setattr(plan.ImportPlanner, "parse_batch", dying)
    before = what_was_written()

    with caplog.at_level(logging.ERROR, logger="workflow.importing.read_ahead"):
        report = imported(mixed_file, importer)

    assert report.refused == (
        "The file could not be read to the end: the process reading it stopped, so "
        "nothing was imported. Import the file again; if this happens again, tell "
        "your administrator."
    )
    assert what_was_written() == before
    assert "exit code 3" in caplog.text
    assert multiprocessing.active_children() == []


def test_a_preview_that_stops_early_stops_its_reader(
    importer, decreases_pass, mixed_file, small_batches, readers, settings
):
    report = previewed(
        mixed_file, importer, ahead=True, settings=settings, sample_rows=8
    )

    assert (report["total_rows"], report["counts"]) == (8, report["counts"])
    assert multiprocessing.active_children() == []


def test_the_reader_stays_a_few_batches_ahead_not_the_whole_file(
    importer, decreases_pass, tmp_path, small_batches, readers, monkeypatch, settings
):
    """Memory stays flat: the reader waits while the import has not taken its batches."""
    group = CustomerFactory().customer_group.code
    path = tmp_path / "long.csv"
    path.write_text(
        HEADER
        + "".join(f"L{n:05d};Long {n};{group};100;Net30;;Breda\n" for n in range(200))
    )
    ahead_when_planning: list[int] = []
    plan_read = plan.ImportPlanner.plan_read

    def slow_first(self, read):
        if not ahead_when_planning:
            time.sleep(1.0)  # Time enough for an unbounded reader to read all 50.
            ahead_when_planning.append(len(readers()))
        return plan_read(self, read)

    monkeypatch.setattr(plan.ImportPlanner, "plan_read", slow_first)

    report = previewed(path, importer, ahead=True, settings=settings)

    assert report["total_rows"] == 200, report
    assert ahead_when_planning[0] <= 1 + read_ahead.AHEAD_BATCHES + 1
    assert len(readers()) == 50


@pytest.mark.postgres
def test_the_reader_keeps_no_copy_of_the_database_connection(
    importer, decreases_pass, mixed_file, small_batches, monkeypatch, tmp_path
):
    """A reading process that held a copy of the import's connection would keep its
    session (transaction, row locks) open if the importing process were killed."""
    noted = tmp_path / "sockets.txt"
    parent = os.getpid()
    parse_batch = plan.ImportPlanner.parse_batch

    def noting_sockets(self, rows, columns):
        if os.getpid() != parent:
            sockets = [
                fd
                for fd in os.listdir("/proc/self/fd")
                if os.path.exists(f"/proc/self/fd/{fd}")
                and stat.S_ISSOCK(os.stat(f"/proc/self/fd/{fd}").st_mode)
            ]
            noted.write_text(f"{len(sockets)}\n")
        return parse_batch(self, rows, columns)

    monkeypatch.setattr(plan.ImportPlanner, "parse_batch", noting_sockets)
    connection.ensure_connection()
    own = os.fstat(connection.connection.fileno())

    report = imported(mixed_file, importer)

    assert report.ok, report.as_dict()
    assert noted.read_text() == "0\n"
    assert stat.S_ISSOCK(own.st_mode)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_reader_leaves_the_imports_database_session_alone(
    importer, decreases_pass, mixed_file, small_batches, readers, settings
):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (session,) = cursor.fetchone()

    report = imported(mixed_file, importer)

    assert report.ok, report.as_dict()
    assert os.getpid() not in readers()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone() == (session,)
    assert Customer.objects.get(account="W00020").name == "New 20"


def test_a_batch_crosses_to_the_importing_process_with_all_its_plans_hold():
    """Parsed rows travel as plain values (line, key, cell errors, values); a plan
    that holds anything more travels whole rather than lose it."""
    import pickle

    parsed_only = plan.RowPlan(line=2, key="C00001")
    parsed_only.errors.append(plan.RowError(2, "credit_limit", "x", "Not a number."))
    holding_more = plan.RowPlan(line=3, key="C00002", kind=plan.UPDATED)
    holding_more.direct["name"] = "Renamed"
    values = {"account": "C00001", "name": "Contoso"}

    for plans in ([parsed_only], [parsed_only, holding_more]):
        batch = read_ahead.ParsedBatch(
            [(p, values) for p in plans],
            {"name": {(str, "Contoso"): (True, "Contoso")}},
        )
        arrived = pickle.loads(pickle.dumps(batch))

        assert [p for p, _values in arrived.parsed] == plans
        assert [v for _plan, v in arrived.parsed] == [values] * len(plans)
        assert arrived.verdicts == batch.verdicts
