"""The dashboard reads tallies the services keep: after any run of decisions, bulk
approvals and imports they equal a full count of the proposal tables, and the
dashboard costs the same queries whatever the history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from customers.management.commands.seed_demo import (
    APPROVAL_ADMINISTRATORS,
    APPROVERS,
    CLERKS,
)
from customers.models import Customer
from tests.conftest import (
    GOVERNED_FIELDS,
    _group,
    make_workflow,
    member,
    propose,
    store_around_approval,
    submit,
)
from tests.factories import CustomerFactory
from workflow import selectors_dashboard, services
from workflow.exceptions import WorkflowError
from workflow.models import (
    OPEN_PROPOSAL_STATES,
    AutoApprovalRule,
    ChangeProposal,
    DashboardTally,
    DataEntityBehavior,
    ProposalState,
)
from workflow.services.tallies import (
    dashboard_tallies_recount,
    tallies_counted_from_tables,
    tallies_stored,
)

START = datetime(2026, 3, 1, 9, 15, tzinfo=timezone.get_current_timezone())
ORIGINAL_LIMIT = Decimal("10000.00")
OPERATIONS = (
    "propose",
    "propose_back",
    "discard_field",
    "discard",
    "submit",
    "approve",
    "reject",
    "request_change",
    "recall",
    "conflict",
    "bulk_approve",
)


def assert_tallies_match_a_recount() -> None:
    assert tallies_stored() == tallies_counted_from_tables()


class Book:
    """A clerk, two approvers and a few customers under a one-step workflow."""

    def __init__(self) -> None:
        admin = member("admin", _group(APPROVAL_ADMINISTRATORS))
        self.clerk = member("clerk", _group(CLERKS))
        approvers = _group(APPROVERS)
        self.approvers = [member("approver", approvers), member("approver2", approvers)]
        services.approval_settings_update(
            model=Customer,
            approvals_enabled=True,
            data_entity_behavior=DataEntityBehavior.PROPOSE,
            enabled_fields=GOVERNED_FIELDS,
            actor=admin,
        )
        make_workflow(admin, {"assigned_group": approvers})
        self.customers = [
            CustomerFactory(account=f"T{n:05d}", credit_limit=ORIGINAL_LIMIT)
            for n in range(2)
        ]
        self.limits = 0

    def open_proposal_of(self, customer: Customer) -> ChangeProposal | None:
        return ChangeProposal.objects.filter(
            object_id=customer.pk, state__in=OPEN_PROPOSAL_STATES
        ).first()

    def act(self, operation: str, index: int) -> None:
        customer = self.customers[index]
        proposal = self.open_proposal_of(customer)
        if proposal is None and operation != "propose_back":
            # Without an open proposal the step starts one instead.
            operation = "propose"
        approver = self.approvers[index % 2]
        try:
            if operation == "propose":
                self.limits += 1
                propose(customer, self.clerk, credit_limit=ORIGINAL_LIMIT + self.limits)
            elif operation == "propose_back":
                # The proposed value set back to the stored one withdraws the change.
                propose(customer, self.clerk, credit_limit=ORIGINAL_LIMIT)
            elif proposal is None:
                return
            elif operation == "discard_field":
                services.proposal_discard_field(
                    proposal=proposal, field_name="credit_limit", actor=self.clerk
                )
            elif operation == "discard":
                services.proposal_discard(proposal=proposal, actor=self.clerk)
            elif operation == "submit":
                services.proposal_submit(proposal=proposal, actor=self.clerk)
            elif operation == "approve":
                services.proposal_approve(proposal=proposal, actor=approver)
            elif operation == "reject":
                services.proposal_reject(
                    proposal=proposal, actor=approver, comment="No."
                )
            elif operation == "request_change":
                services.proposal_request_change(
                    proposal=proposal, actor=approver, comment="Why?"
                )
            elif operation == "recall":
                services.proposal_recall(proposal=proposal, actor=self.clerk)
            elif operation == "conflict":
                store_around_approval(customer, credit_limit=Decimal("1"))
                services.proposal_approve(proposal=proposal, actor=approver)
            elif operation == "bulk_approve":
                services.proposals_approve_bulk(
                    proposal_ids=list(
                        ChangeProposal.objects.filter(
                            state=ProposalState.PENDING
                        ).values_list("pk", flat=True)
                    ),
                    actor=approver,
                )
        except (WorkflowError, ValidationError) as refused:
            event(f"refused: {operation} ({type(refused).__name__})")
        else:
            event(f"done: {operation}")


class TalliesPropertiesTest(TestCase):
    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        steps=st.lists(
            st.tuples(
                st.sampled_from(OPERATIONS),
                st.integers(min_value=0, max_value=1),
                # Minutes later: some steps cross into another hour or day.
                st.sampled_from([0, 1, 50, 24 * 60]),
            ),
            min_size=8,
            max_size=30,
        )
    )
    def test_the_tallies_equal_a_full_recount_after_any_run(self, steps):
        moment = START
        with time_machine.travel(moment, tick=False) as traveller:
            book = Book()
            for operation, index, minutes in steps:
                moment += timedelta(minutes=minutes)
                traveller.move_to(moment)
                book.act(operation, index)
        assert_tallies_match_a_recount()


@pytest.mark.django_db
def test_an_import_with_automatic_approvals_keeps_the_tallies(
    clerk, approver, approvals_on, approval_admin, active_workflow, tmp_path
):
    from workflow.importing.plan import ImportOptions

    workflow = services.workflow_copy(
        workflow=active_workflow, actor=approval_admin, as_new_version=True
    )
    services.auto_approval_rule_save(
        rule=AutoApprovalRule(
            workflow=workflow, field_name="credit_limit", kind="decreases"
        ),
        actor=approval_admin,
    )
    services.workflow_activate(workflow=workflow, actor=approval_admin)
    for n in range(6):
        CustomerFactory(account=f"I{n:05d}", name=f"Imported {n}", credit_limit=100)
    # Up for the even rows (to approve), down for the odd ones (applied at once).
    path = tmp_path / "customers.csv"
    path.write_text(
        "account;name;credit_limit\n"
        + "".join(
            f"I{n:05d};Imported {n};{200 if n % 2 == 0 else 50}\n" for n in range(6)
        )
    )
    report = services.governed_records_import(
        model=Customer,
        path=path,
        file_name="customers.csv",
        options=ImportOptions(behaviour="propose"),
        actor=clerk,
        dry_run=False,
    )

    assert report.ok, report.refused
    states = sorted(ChangeProposal.objects.values_list("state", flat=True))
    assert states == ["applied"] * 3 + ["pending"] * 3
    assert_tallies_match_a_recount()
    assert selectors_dashboard.open_proposals(now=timezone.now()).total == 3


@pytest.mark.django_db
def test_an_import_in_many_batches_writes_each_count_once(
    clerk, approver, approvals_on, active_workflow, tmp_path, monkeypatch
):
    from workflow.importing import plan
    from workflow.importing.plan import ImportOptions

    monkeypatch.setattr(plan, "BATCH_SIZE", 10)
    for n in range(30):
        CustomerFactory(account=f"T{n:05d}", name=f"Tallied {n}", credit_limit=100)
    path = tmp_path / "raise.csv"
    path.write_text(
        "account;name;credit_limit\n"
        + "".join(f"T{n:05d};Tallied {n};200\n" for n in range(30))
    )
    with time_machine.travel(START, tick=False):
        report = services.governed_records_import(
            model=Customer,
            path=path,
            file_name=path.name,
            options=ImportOptions(behaviour="propose"),
            actor=clerk,
            dry_run=False,
        )

    assert report.ok, report.refused
    # Three batches, one row per count: 30 pending proposals, 30 credit limits.
    hour = START.astimezone(UTC).replace(minute=0)
    assert sorted(
        DashboardTally.objects.values_list("kind", "label", "hour", "count")
    ) == [
        ("field", "customers.customer.credit_limit", hour, 30),
        ("open", ProposalState.PENDING, hour, 30),
    ]
    assert_tallies_match_a_recount()
    assert selectors_dashboard.open_proposals(now=START).total == 30


@pytest.mark.django_db
def test_a_bulk_approval_with_a_conflict_keeps_the_tallies(
    clerk, approver, approvals_on, active_workflow
):
    proposals = [
        submit(CustomerFactory(), clerk, credit_limit=Decimal(n + 1)) for n in range(4)
    ]
    store_around_approval(
        Customer.objects.get(pk=proposals[0].object_id), credit_limit=Decimal("7")
    )
    outcome = services.proposals_approve_bulk(
        proposal_ids=[p.pk for p in proposals], actor=approver
    )

    assert len(outcome.applied) == 3
    assert len(outcome.conflicts) == 1
    assert_tallies_match_a_recount()
    figures = selectors_dashboard.approvals_dashboard()
    assert figures.approvals == 3
    assert figures.open_proposals.recent_conflicts == 1
    assert figures.open_proposals.total == 0


@pytest.mark.django_db
def test_a_recount_rebuilds_tallies_after_writes_around_the_services(
    clerk, approver, approvals_on, active_workflow
):
    submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))
    DashboardTally.objects.all().delete()
    assert selectors_dashboard.open_proposals(now=timezone.now()).total == 0

    assert dashboard_tallies_recount() == 2  # the open proposal and its field
    assert_tallies_match_a_recount()
    assert selectors_dashboard.open_proposals(now=timezone.now()).total == 1


@pytest.mark.django_db
def test_the_dashboard_reads_the_same_queries_at_3_and_60_proposals(
    clerk, approver, approvals_on, active_workflow
):
    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            selectors_dashboard.approvals_dashboard()
        return [q["sql"] for q in captured]

    for n in range(3):
        services.proposal_approve(
            proposal=submit(CustomerFactory(), clerk, credit_limit=Decimal(n + 1)),
            actor=approver,
        )
    few = queries()
    for n in range(57):
        submit(CustomerFactory(), clerk, credit_limit=Decimal(n + 1))
    many = queries()

    assert len(few) == len(many) == 5
    # None of them reads the proposal tables except the median (of the 30 days'
    # applied proposals) and the overdue work items, by their indexes.
    assert sum('"workflow_dashboardtally"' in sql for sql in many) == 3


@pytest.mark.django_db
def test_the_dashboard_is_counted_on_every_visit_by_default(
    client, clerk, approver, approvals_on, active_workflow, settings
):
    from django.urls import reverse

    from custapproval.settings import base

    # The project's default (the tests' settings say 0 for their own reasons).
    assert base.DASHBOARD_CACHE_SECONDS == 0
    settings.DASHBOARD_CACHE_SECONDS = base.DASHBOARD_CACHE_SECONDS
    client.force_login(approver)
    submit(CustomerFactory(), clerk, credit_limit=Decimal("1"))
    first = client.get(reverse("admin:index")).content.decode()
    submit(CustomerFactory(), clerk, credit_limit=Decimal("2"))
    again = client.get(reverse("admin:index")).content.decode()

    assert 'id="dashboard-open"><a href="/admin/workflow/changeproposal/">1<' in first
    assert 'id="dashboard-open"><a href="/admin/workflow/changeproposal/">2<' in again
    assert "Figures as of" in again
    assert "counted again every minute" not in again


@pytest.mark.django_db
def test_folding_the_tallies_keeps_the_dashboard_and_leaves_a_row_per_key(
    clerk, approver, approvals_on, active_workflow
):
    for n in range(4):
        submit(CustomerFactory(), clerk, credit_limit=Decimal(n + 500))
    before = tallies_stored()
    rows_before = DashboardTally.objects.count()
    figures_before = selectors_dashboard.open_proposals(now=timezone.now())

    folded = services.dashboard_tallies_compact()

    assert tallies_stored() == before
    assert DashboardTally.objects.count() == len(before)
    assert folded == rows_before - len(before) > 0
    assert selectors_dashboard.open_proposals(now=timezone.now()) == figures_before
    assert_tallies_match_a_recount()
