"""Two approvers at the same moment, each on their own connection, against PostgreSQL."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from customers.services import customer_update
from workflow import services
from workflow.exceptions import WorkflowError
from workflow.models import AuditAction, AuditEntry, ProposalState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_at_once(*calls):
    """Start every call on its own thread and connection, released by one barrier."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def worker(index, call):
        close_old_connections()
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - the test inspects what each got
            results[index] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def pending(customer, clerk, approver, approver2, approvals_on, active_workflow):
    proposal = customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("25000")}, actor=clerk
    ).proposal
    return services.proposal_submit(proposal=proposal, actor=clerk)


def test_two_approvals_at_once_apply_exactly_once(
    pending, approver, approver2, customer
):
    results = run_at_once(
        lambda: services.proposal_approve(proposal=pending, actor=approver),
        lambda: services.proposal_approve(proposal=pending, actor=approver2),
    )

    refusals = [r for r in results if isinstance(r, WorkflowError)]
    assert len(refusals) == 1, results
    assert "already decided" in refusals[0].message
    pending.refresh_from_db()
    assert pending.state == ProposalState.APPLIED
    assert (
        AuditEntry.objects.filter(proposal=pending, action=AuditAction.APPLIED).count()
        == 1
    )
    assert (
        AuditEntry.objects.filter(
            proposal=pending, action=AuditAction.FIELD_CHANGED
        ).count()
        == 1
    )


def test_approve_and_reject_at_once_end_in_one_decision(
    pending, approver, approver2, customer
):
    results = run_at_once(
        lambda: services.proposal_approve(proposal=pending, actor=approver),
        lambda: services.proposal_reject(
            proposal=pending, actor=approver2, comment="no"
        ),
    )

    assert sum(isinstance(r, WorkflowError) for r in results) == 1
    pending.refresh_from_db()
    customer.refresh_from_db()
    if pending.state == ProposalState.APPLIED:
        assert customer.credit_limit == Decimal("25000")
    else:
        assert pending.state == ProposalState.REJECTED
        assert customer.credit_limit == Decimal("10000.00")


def test_clerk_edit_and_approval_at_once_do_not_deadlock(
    pending, approver, clerk, customer
):
    results = run_at_once(
        lambda: services.proposal_approve(proposal=pending, actor=approver),
        lambda: customer_update(
            customer_id=customer.pk,
            values={"name": "Renamed", "credit_limit": Decimal("1")},
            actor=clerk,
        ),
    )

    assert not any(
        isinstance(r, Exception) and not isinstance(r, WorkflowError) for r in results
    )
    customer.refresh_from_db()
    assert customer.name == "Renamed"
    assert customer.credit_limit == Decimal("25000")


def test_import_and_approval_of_the_same_customer_at_once_stay_consistent(
    pending, approver, clerk, customer, tmp_path
):
    from customers.models import Customer
    from workflow.importing.plan import ImportOptions
    from workflow.models import AuditAction, AuditEntry

    path = tmp_path / "f.csv"
    path.write_text(f"account;name;phone\n{customer.account};Imported name;+31 7\n")

    def run_import():
        return services.governed_records_import(
            model=Customer,
            path=path,
            file_name="f.csv",
            options=ImportOptions(behaviour="propose"),
            actor=clerk,
            dry_run=False,
        )

    results = run_at_once(
        run_import,
        lambda: services.proposal_approve(proposal=pending, actor=approver),
    )

    assert not any(isinstance(r, Exception) for r in results), results
    customer.refresh_from_db()
    assert (customer.name, customer.phone, customer.credit_limit) == (
        "Imported name",
        "+31 7",
        Decimal("25000.00"),
    )
    for field, value in (("name", "Imported name"), ("credit_limit", "25000.00")):
        assert AuditEntry.objects.filter(
            object_id=customer.pk,
            field_name=field,
            action=AuditAction.FIELD_CHANGED,
            new_value=value,
        ).exists()
