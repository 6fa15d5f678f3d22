"""The data entity behaviour decides what an import does with fields under approval."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.models import Customer
from tests.conftest import store_around_approval
from tests.factories import PaymentTermsFactory
from workflow.importing.plan import ImportOptions
from workflow.models import (
    AuditAction,
    AuditEntry,
    ChangeProposal,
    ProposalState,
)
from workflow.services import governed_records_import


def run(path, actor, behaviour, dry_run=False, **options):
    return governed_records_import(
        model=Customer,
        path=path,
        file_name=path,
        options=ImportOptions(behaviour=behaviour, **options),
        actor=actor,
        dry_run=dry_run,
    )


CHANGE = "account;name;credit_limit;phone\nC00001;Contoso Retail;25000.00;+31 20 123\n"


def parameters_say(behaviour, admin):
    from workflow import services

    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=behaviour,
        enabled_fields=["credit_limit", "bank_account", "payment_terms"],
        actor=admin,
    )


@pytest.mark.django_db
def test_allow_writes_every_field_and_audits_it_as_import(
    customer, importer, approval_admin, write_file
):
    parameters_say("allow", approval_admin)
    report = run(write_file(CHANGE), importer, "allow")

    assert report.ok, report.as_dict()
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("25000.00")
    assert customer.phone == "+31 20 123"
    entry = AuditEntry.objects.get(
        object_id=customer.pk,
        field_name="credit_limit",
        action=AuditAction.FIELD_CHANGED,
    )
    assert (entry.source, entry.actor, entry.old_display, entry.new_display) == (
        "import",
        importer,
        "10000.00",
        "25000.00",
    )
    assert not ChangeProposal.objects.exists()


@pytest.mark.django_db
def test_reject_fails_the_row_naming_the_field_and_writes_nothing(
    customer, importer, approvals_on, write_file
):
    report = run(write_file(CHANGE), importer, "reject")

    assert report.error_count == 1
    error = report.errors[0]
    assert (error["line"], error["column"], error["value"]) == (
        2,
        "credit_limit",
        "25000.00",
    )
    assert "Credit limit needs approval" in error["message"]
    customer.refresh_from_db()
    assert customer.phone == ""
    assert customer.credit_limit == Decimal("10000.00")


@pytest.mark.django_db
def test_reject_lets_rows_that_change_only_other_fields_through(
    customer, importer, approvals_on, write_file
):
    report = run(
        write_file("account;name;phone\nC00001;Contoso;+31 1\n"), importer, "reject"
    )
    assert report.ok
    customer.refresh_from_db()
    assert (customer.name, customer.phone) == ("Contoso", "+31 1")


@pytest.mark.django_db
def test_propose_writes_other_fields_and_submits_a_proposal(
    customer, importer, approver, approvals_on, active_workflow, write_file
):
    report = run(write_file(CHANGE), importer, "propose")

    assert report.ok, report.as_dict()
    assert report.counts["proposals"] == 1
    customer.refresh_from_db()
    assert customer.phone == "+31 20 123"
    assert customer.credit_limit == Decimal("10000.00")
    proposal = ChangeProposal.objects.get()
    assert (proposal.state, proposal.source, proposal.submitted_by) == (
        ProposalState.PENDING,
        "import",
        importer,
    )
    change = proposal.changes.get()
    assert (change.field_name, change.original_value, change.proposed_value) == (
        "credit_limit",
        "10000.00",
        "25000.00",
    )
    assert proposal.work_items.get().assignee == approver


@pytest.mark.django_db
def test_propose_fails_a_row_whose_customer_has_an_open_proposal(
    customer, importer, clerk, approver, approvals_on, active_workflow, write_file
):
    from customers.services import customer_update

    customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("1")}, actor=clerk
    )
    report = run(write_file(CHANGE), importer, "propose")

    assert report.error_count == 1
    assert "already has open proposed changes" in report.errors[0]["message"]
    customer.refresh_from_db()
    assert customer.phone == ""


@pytest.mark.django_db
def test_approvals_off_writes_everything_whatever_the_behaviour(
    customer, importer, write_file
):
    report = run(write_file(CHANGE), importer, "reject")
    assert report.ok
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("25000.00")


@pytest.mark.django_db
def test_new_customers_are_created_with_references_by_code(
    importer, approvals_on, write_file, customer
):
    PaymentTermsFactory(code="Net60")
    text = (
        "account;name;customer_group;payment_terms;bank_account;exclude_interest_charges\n"
        "C00100;New Customer;10;Net60;NL91 ABNA 0417 1643 00;yes\n"
    )
    report = run(write_file(text), importer, "propose")

    assert report.ok, report.as_dict()
    created = Customer.objects.get(account="C00100")
    assert created.payment_terms.code == "Net60"
    assert created.bank_account == "NL91ABNA0417164300"
    assert created.exclude_interest_charges is True
    assert AuditEntry.objects.filter(
        object_id=created.pk, action=AuditAction.CREATED, source="import"
    ).exists()


@pytest.mark.django_db
def test_dry_run_writes_nothing_and_sends_nothing(
    customer,
    importer,
    approver,
    approvals_on,
    active_workflow,
    write_file,
    django_capture_on_commit_callbacks,
):
    from django.core import mail

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        report = run(
            write_file(CHANGE + "C00200;Another;;;;;\n".replace(";;;;;", ";10;;;;")),
            importer,
            "propose",
            dry_run=True,
        )
    assert report.counts["updated"] == 1
    customer.refresh_from_db()
    assert customer.phone == ""
    assert not ChangeProposal.objects.exists()
    assert not Customer.objects.filter(account="C00200").exists()
    assert callbacks == [] and mail.outbox == []


@pytest.mark.django_db
def test_round_trip_of_an_unchanged_export_changes_nothing(
    customer, importer, approvals_on, active_workflow, write_file
):
    from customers.resources import CustomerResource

    exported = CustomerResource().export().csv
    report = run(write_file(exported), importer, "propose")

    assert report.ok, report.as_dict()
    assert report.counts == {"unchanged": 1}
    assert not ChangeProposal.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_round_trip_of_the_whole_demo_book(importer, roles, tmp_path, file_format):
    from io import StringIO

    from django.core.management import call_command

    from customers.resources import CustomerResource

    call_command("seed_demo", stdout=StringIO())
    before = list(Customer.objects.order_by("pk").values())
    proposals_before = ChangeProposal.objects.count()
    dataset = CustomerResource().export()
    path = tmp_path / f"all.{file_format}"
    if file_format == "csv":
        path.write_text(dataset.csv, encoding="utf-8")
    else:
        path.write_bytes(dataset.xlsx)

    report = run(str(path), importer, "propose")

    assert report.ok, report.as_dict()
    assert report.counts == {"unchanged": 50}
    assert list(Customer.objects.order_by("pk").values()) == before
    assert ChangeProposal.objects.count() == proposals_before


@pytest.mark.django_db
def test_an_import_may_not_be_looser_than_the_parameters(
    customer, importer, approvals_on, write_file
):
    report = run(write_file(CHANGE), importer, "allow")

    assert (
        "do not let imports change fields under approval without approval"
        in report.refused
    )
    customer.refresh_from_db()
    assert (customer.credit_limit, customer.phone) == (Decimal("10000.00"), "")


@pytest.mark.django_db
def test_an_import_may_be_stricter_than_the_parameters(
    customer, importer, approval_admin, write_file
):
    parameters_say("allow", approval_admin)
    report = run(write_file(CHANGE), importer, "reject")
    assert report.errors[0]["column"] == "credit_limit"


@pytest.mark.django_db
def test_a_value_that_cleans_to_the_stored_one_is_unchanged(
    customer, importer, approvals_on, active_workflow, write_file
):
    report = run(
        write_file(
            "account;name;bank_account\nC00001;Contoso Retail;nl91 abna 0417 1643 00\n"
        ),
        importer,
        "reject",
    )
    assert report.ok, report.as_dict()
    assert report.counts == {"unchanged": 1}


@pytest.mark.django_db
def test_escaped_cells_survive_a_round_trip(
    customer, importer, approval_admin, write_file
):
    from customers.resources import CustomerResource

    parameters_say("allow", approval_admin)
    for value in ("=SUM(A1)", "'=not a formula", "-5 Main", "'quoted"):
        Customer.objects.filter(pk=customer.pk).update(street=value)
        report = run(write_file(CustomerResource().export().csv), importer, "allow")
        assert report.counts == {"unchanged": 1}, value


@pytest.mark.django_db
def test_imported_proposals_follow_conditions_and_automatic_approval(
    importer, approver, approver2, approvals_on, approval_admin, write_file, customer
):
    from tests.conftest import let_decreases_pass, make_workflow
    from tests.factories import CustomerFactory
    from workflow.core.conditions import ConditionKind

    CustomerFactory(account="C00002", name="Second")
    workflow = make_workflow(
        approval_admin,
        {
            "users": [approver],
            "condition_kind": ConditionKind.CHANGES,
            "condition_field": "bank_account",
        },
        {"users": [approver2]},
    )
    let_decreases_pass(workflow, approval_admin)

    text = "account;name;credit_limit\nC00001;Contoso Retail;50000\nC00002;Second;5\n"
    report = run(write_file(text), importer, "propose")

    assert report.ok, report.refused
    increase = ChangeProposal.objects.get(object_id=customer.pk)
    assert increase.state == ProposalState.PENDING
    assert increase.current_step.sequence == 2
    assert increase.audit_entries.filter(action=AuditAction.STEP_SKIPPED).exists()
    decrease = ChangeProposal.objects.exclude(pk=increase.pk).get()
    assert decrease.state == ProposalState.APPLIED
    assert Customer.objects.get(account="C00002").credit_limit == Decimal("5.00")


@pytest.mark.django_db
def test_an_approver_gets_one_mail_for_all_proposals_of_an_import(
    importer,
    approver,
    approvals_on,
    active_workflow,
    write_file,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    """Even when the file is written in several batches: one mail per import."""
    from django.core import mail

    from tests.factories import CustomerFactory

    monkeypatch.setattr("workflow.importing.plan.BATCH_SIZE", 2)
    for n in range(3):
        CustomerFactory(account=f"D0000{n}", name=f"Digest {n}")
    text = "account;name;credit_limit\n" + "".join(
        f"D0000{n};Digest {n};{n + 1}\n" for n in range(3)
    )
    with django_capture_on_commit_callbacks(execute=True):
        report = run(write_file(text), importer, "propose")

    assert report.counts["proposals"] == 3
    to_approver = [m for m in mail.outbox if m.to == ["approver@example.com"]]
    assert len(to_approver) == 1
    assert to_approver[0].subject == "Approval needed: 3 imported changes"
    assert "D00001 Digest 1" in to_approver[0].body


@pytest.mark.django_db
def test_an_import_that_proposes_needs_the_submit_permission(
    customer, approvals_on, active_workflow, approver, write_file, roles
):
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    editor = UserFactory(username="editor")
    editor.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="customers",
            codename__in=["add_customer", "change_customer"],
        )
    )
    report = run(write_file(CHANGE), editor, "propose")
    assert report.refused == "You do not have permission to do this."
    assert not ChangeProposal.objects.exists()
    customer.refresh_from_db()
    assert customer.phone == ""


@pytest.mark.django_db
def test_a_proposal_is_refused_at_preview_when_the_stored_record_no_longer_passes(
    customer, importer, approvals_on, active_workflow, write_file
):
    """Else the approval would end in Conflict, after the approver's work."""
    store_around_approval(customer, bank_account="NL00BANK0000000000")
    report = run(write_file(CHANGE), importer, "propose", dry_run=True)

    assert report.error_count
    assert {e["column"] for e in report.errors} == {"bank_account"}
