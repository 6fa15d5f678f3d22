"""Imports cost a few queries per batch of rows, not per row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from tests.factories import CustomerFactory
from workflow.importing import plan
from workflow.importing.plan import ImportOptions
from workflow.services import governed_records_import


def import_queries(
    tmp_path, actor, rows: int, behaviour: str, *, existing: bool, start: int = 0
) -> int:
    lines = "".join(
        f"Q{n:05d};Query customer {n} renamed;10;{n + 1}\n"
        for n in range(start, start + rows)
    )
    path = tmp_path / f"q{rows}{behaviour}{existing}{start}.csv"
    path.write_text("account;name;customer_group;credit_limit\n" + lines)
    actor.has_perm("customers.add_customer")
    with CaptureQueriesContext(connection) as captured:
        report = governed_records_import(
            model=Customer,
            path=path,
            file_name=path.name,
            options=ImportOptions(behaviour=behaviour),
            actor=actor,
            dry_run=False,
        )
    assert report.ok, report.as_dict()
    return len([q for q in captured if "SAVEPOINT" not in q["sql"]])


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(plan, "BATCH_SIZE", 10)


@pytest.mark.django_db
def test_creating_rows_costs_queries_per_batch(
    tmp_path, clerk, small_batches, customer
):
    import_queries(
        tmp_path, clerk, 1, "allow", existing=False, start=99
    )  # warms the caches
    five = import_queries(tmp_path, clerk, 5, "allow", existing=False)
    Customer.objects.filter(account__startswith="Q").delete()
    ten = import_queries(tmp_path, clerk, 10, "allow", existing=False)
    Customer.objects.filter(account__startswith="Q").delete()
    thirty = import_queries(tmp_path, clerk, 30, "allow", existing=False)
    assert five == ten
    assert thirty <= 3 * ten


@pytest.mark.django_db
def test_proposals_from_an_import_cost_queries_per_batch(
    tmp_path, clerk, approver, approvals_on, active_workflow, small_batches, customer
):
    for n in range(30):
        CustomerFactory(account=f"Q{n:05d}", name=f"Query customer {n}")
    import_queries(
        tmp_path, clerk, 1, "propose", existing=True, start=29
    )  # warms the caches
    five = import_queries(tmp_path, clerk, 5, "propose", existing=True, start=0)
    ten = import_queries(tmp_path, clerk, 10, "propose", existing=True, start=10)
    assert five == ten


# --- Batches with automatic approvals in the mix (issue 17) ---------------------------

MIXED_BATCH = 20


def mixed_file(tmp_path, rows: int, proposing_percent: int, name: str) -> str:
    """Every row renames its customer; of every 10 rows, `proposing_percent` / 10 touch
    the credit limit, alternately raising it (for approval) and lowering it (approved
    at once by the workflow's rule)."""
    proposing = proposing_percent // 10
    lines = []
    touched = 0
    for n in range(rows):
        limit = 1000
        if n % 10 < proposing:
            limit += 500 if touched % 2 == 0 else -500
            touched += 1
        lines.append(f"Q{n:05d};Query customer {n} renamed;10;{limit}\n")
    path = tmp_path / name
    path.write_text("account;name;customer_group;credit_limit\n" + "".join(lines))
    return str(path)


def proposing_import(path: str, actor) -> CaptureQueriesContext:
    """The file imported with behaviour "propose"; the queries it ran."""
    with CaptureQueriesContext(connection) as captured:
        report = governed_records_import(
            model=Customer,
            path=path,
            file_name="mixed.csv",
            options=ImportOptions(behaviour="propose"),
            actor=actor,
            dry_run=False,
        )
    assert report.ok, report.as_dict()
    return captured


def mixed_import_queries(tmp_path, actor, rows: int, proposing_percent: int) -> int:
    from decimal import Decimal

    from django.db import transaction

    path = mixed_file(tmp_path, rows, proposing_percent, f"m{rows}-{proposing_percent}")
    with transaction.atomic():
        captured = proposing_import(path, actor)
        # The mix did what it says: the decreases applied, the increases waiting.
        from workflow.models import ChangeProposal, ProposalState

        states = sorted(
            ChangeProposal.objects.filter(created_by=actor).values_list(
                "state", flat=True
            )
        )
        expected = rows // 10 * (proposing_percent // 10)
        assert len(states) == expected
        assert states.count(ProposalState.APPLIED) == expected // 2
        lowered = Customer.objects.filter(
            account__startswith="Q", credit_limit=Decimal("500")
        ).count()
        assert lowered == expected // 2
        transaction.set_rollback(True)
    return len([q for q in captured if "SAVEPOINT" not in q["sql"]])


@pytest.fixture
def mixed_batches(monkeypatch, clerk, approver, approvals_on, approval_admin):
    """Customers Q00000–Q00059, batches of 20 rows, and a workflow whose rule lets a
    credit limit decrease through without approval (as the demo's does)."""
    from tests.conftest import let_decreases_pass, make_workflow
    from tests.factories import CustomerFactory

    monkeypatch.setattr(plan, "BATCH_SIZE", MIXED_BATCH)
    workflow = make_workflow(approval_admin, {"users": [approver]})
    let_decreases_pass(workflow, approval_admin)
    for n in range(3 * MIXED_BATCH):
        CustomerFactory(
            account=f"Q{n:05d}", name=f"Query customer {n}", credit_limit=1000
        )


@pytest.mark.django_db
def test_a_batch_costs_the_same_queries_whatever_share_of_rows_proposes(
    tmp_path, clerk, mixed_batches
):
    """A batch with automatic approvals in it costs the same queries with 10% of its
    rows proposing as with 30%: the approvals are applied with the batch, not one at
    a time. A batch proposing nothing costs fewer: it writes no proposals."""
    mixed_import_queries(tmp_path, clerk, MIXED_BATCH, 10)  # warms the caches
    none = mixed_import_queries(tmp_path, clerk, MIXED_BATCH, 0)
    some = mixed_import_queries(tmp_path, clerk, MIXED_BATCH, 10)
    many = mixed_import_queries(tmp_path, clerk, MIXED_BATCH, 30)
    assert none < some == many


@pytest.mark.django_db
def test_each_further_batch_with_automatic_approvals_costs_the_same_queries(
    tmp_path, clerk, mixed_batches
):
    mixed_import_queries(tmp_path, clerk, MIXED_BATCH, 10)  # warms the caches
    one = mixed_import_queries(tmp_path, clerk, MIXED_BATCH, 30)
    two = mixed_import_queries(tmp_path, clerk, 2 * MIXED_BATCH, 30)
    three = mixed_import_queries(tmp_path, clerk, 3 * MIXED_BATCH, 30)
    assert three - two == two - one
    assert three == mixed_import_queries(tmp_path, clerk, 3 * MIXED_BATCH, 10)
    # What the import does once (permissions, the workflow, its rules and who may
    # decide, the e-mails) is not paid again per batch.
    assert three < 3 * one


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_batch_writes_each_proposal_once_in_the_state_it_ends_in(
    tmp_path, clerk, approver, mixed_batches
):
    """The batch's proposals go in already submitted (waiting at the first step, or
    applied by the rule): inserted once, never updated after, on PostgreSQL."""
    from workflow.models import ChangeProposal, ProposalState, WorkItem

    path = mixed_file(tmp_path, MIXED_BATCH, 20, "once.csv")
    statements = [q["sql"] for q in proposing_import(path, clerk)]
    assert [s for s in statements if s.startswith('COPY "workflow_changeproposal"')]
    assert not [s for s in statements if 'UPDATE "workflow_changeproposal"' in s]
    proposals = ChangeProposal.objects.filter(created_by=clerk)
    waiting = proposals.filter(state=ProposalState.PENDING)
    applied = proposals.filter(state=ProposalState.APPLIED)
    assert (len(waiting), len(applied)) == (2, 2)
    for proposal in proposals:
        assert proposal.submitted_by == clerk
        assert proposal.submitted_at is not None
        assert proposal.submission_round == 1
        assert proposal.workflow is not None
    assert all(p.current_step is not None and p.closed_at is None for p in waiting)
    assert all(p.closed_at is not None for p in applied)
    assert sorted(
        WorkItem.objects.filter(proposal__in=waiting).values_list(
            "proposal", "assignee"
        )
    ) == sorted((p.pk, approver.pk) for p in waiting)
