"""An import holds Python's garbage collector back while it runs (fewer passes, the
objects from before it set aside) and gives it back as it was when it ends, however it
ends: a web or task process goes on freeing memory after an import as before it."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from tests.imports.test_write_behind import imported
from workflow.importing import garbage, plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def collector_as_before():
    thresholds = gc.get_threshold()
    yield thresholds
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_an_import_holds_the_collector_back_while_it_runs_only(
    importer, write_file, collector_as_before, monkeypatch
):
    seen_while_planning = []
    plan_read = plan.ImportPlanner.plan_read

    def noting(self, read):
        seen_while_planning.append((gc.get_threshold()[0], gc.get_freeze_count() > 0))
        return plan_read(self, read)

    monkeypatch.setattr(plan.ImportPlanner, "plan_read", noting)
    path = write_file(
        "account;name;customer_group\n"
        + "".join(f"G{n:04d};Garbage {n};10\n" for n in range(3))
    )

    report = imported(Path(path), importer, behaviour="allow")

    assert report.total_rows == 3
    assert seen_while_planning == [(garbage.IMPORT_THRESHOLD, True)]
    assert gc.get_threshold() == collector_as_before
    assert gc.get_freeze_count() == 0


def test_a_failed_import_gives_the_collector_back_too(
    importer, write_file, collector_as_before, monkeypatch
):
    def failing(self, read):
        raise RuntimeError("a bug in planning")

    monkeypatch.setattr(plan.ImportPlanner, "plan_read", failing)
    path = write_file("account;name;customer_group\nG0001;Garbage;10\n")

    with pytest.raises(RuntimeError):
        imported(Path(path), importer, behaviour="allow")

    assert gc.get_threshold() == collector_as_before
    assert gc.get_freeze_count() == 0
