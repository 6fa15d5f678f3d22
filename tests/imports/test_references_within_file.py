"""A customer may name as invoice account a customer the same file creates: above it
(in the same batch or an earlier one), or below it when it is new itself. A change to
an existing customer can name only one created above it, and nobody names itself."""

from __future__ import annotations

import pytest

from customers.models import Customer
from tests.factories import CustomerGroupFactory
from workflow.importing import plan
from workflow.importing.plan import REFERS_FORWARD, REFERS_TO_ITSELF, ImportOptions
from workflow.models import ChangeProposal, ProposedChange
from workflow.services import governed_records_import

HEADER = "account;name;customer_group;invoice_account\n"


def run(path, actor, dry_run=False, behaviour="allow", expected_fingerprint=""):
    return governed_records_import(
        model=Customer,
        path=path,
        file_name=path,
        options=ImportOptions(behaviour=behaviour),
        actor=actor,
        dry_run=dry_run,
        expected_fingerprint=expected_fingerprint,
    )


def invoice_accounts() -> dict[str, str | None]:
    return {
        c.account: c.invoice_account.account if c.invoice_account else None
        for c in Customer.objects.select_related("invoice_account")
    }


@pytest.fixture
def batches_of_two(monkeypatch):
    monkeypatch.setattr(plan, "BATCH_SIZE", 2)


@pytest.fixture
def group(db):
    return CustomerGroupFactory(code="10")


@pytest.mark.django_db
def test_a_customer_created_above_resolves_in_the_same_batch_and_in_a_later_one(
    importer, group, write_file, batches_of_two
):
    # Lines 2-3 are the first batch, 4-5 the second, 6 the third.
    path = write_file(
        HEADER
        + "H1;Holding;10;\n"
        + "S1;Subsidiary one;10;H1\n"  # same batch as H1
        + "S2;Subsidiary two;10;H1\n"  # a later batch
        + "S3;Subsidiary three;10;S1\n"
        + "S4;Subsidiary four;10;S2\n"  # S2 is in the batch before
    )
    preview = run(path, importer, dry_run=True)
    assert preview.ok, preview.as_dict()
    assert dict(preview.counts) == {"new": 5}

    # Refused as stale if the import planned anything else than the preview showed.
    report = run(path, importer, expected_fingerprint=preview.fingerprint)

    assert report.ok, report.as_dict()
    assert invoice_accounts() == {
        "H1": None,
        "S1": "H1",
        "S2": "H1",
        "S3": "S1",
        "S4": "S2",
    }


@pytest.mark.django_db
def test_a_new_customer_may_name_one_created_further_down(
    importer, group, write_file, batches_of_two
):
    path = write_file(
        HEADER
        + "A1;Invoiced below, same batch;10;A2\n"
        + "A2;Holding;10;\n"
        + "A3;Invoiced two batches down;10;A6\n"
        + "A4;Each other;10;A5\n"
        + "A5;Each other too;10;A4\n"
        + "A6;Second holding;10;\n"
    )
    preview = run(path, importer, dry_run=True)
    assert preview.ok, preview.as_dict()

    # Refused as stale if the import planned anything else than the preview showed.
    report = run(path, importer, expected_fingerprint=preview.fingerprint)

    assert report.ok, report.as_dict()
    assert invoice_accounts() == {
        "A1": "A2",
        "A2": None,
        "A3": "A6",
        "A4": "A5",
        "A5": "A4",
        "A6": None,
    }


@pytest.mark.django_db
def test_an_existing_customer_may_name_a_new_one_above_it(
    customer, importer, write_file, batches_of_two
):
    path = write_file(
        HEADER + "N1;New holding;10;\nX1;Filler;10;\nC00001;Contoso Retail;10;N1\n"
    )
    report = run(path, importer)

    assert report.ok, report.as_dict()
    assert dict(report.counts) == {"new": 2, "updated": 1}
    assert invoice_accounts()["C00001"] == "N1"


@pytest.mark.django_db
def test_a_change_to_an_existing_customer_cannot_name_one_created_below(
    customer, importer, write_file
):
    path = write_file(HEADER + "C00001;Contoso Retail;10;N1\nN1;New holding;10;\n")

    report = run(path, importer, dry_run=True)

    assert report.errors == [
        {
            "line": 2,
            "column": "invoice_account",
            "value": "N1",
            "message": str(REFERS_FORWARD) % {"code": "N1", "target": 3, "line": 2},
        }
    ]
    assert report.errors[0]["message"] == (
        "“N1” is created further down the file, on line 3. A change to an existing "
        "record can refer only to a record created above it: move line 3 above line 2."
    )


@pytest.mark.django_db
def test_a_proposed_invoice_account_names_the_new_customer_once_written(
    customer, importer, approval_admin, approver, active_workflow, write_file
):
    from tests.imports.test_behaviours import parameters_say
    from workflow import services

    parameters_say("propose", approval_admin)
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior="propose",
        enabled_fields=["invoice_account"],
        actor=approval_admin,
    )
    path = write_file(HEADER + "N1;New holding;10;\nC00001;Contoso Retail;10;N1\n")

    report = run(path, importer, behaviour="propose")

    assert report.ok, report.as_dict()
    new = Customer.objects.get(account="N1")
    change = ProposedChange.objects.get(proposal__object_id=customer.pk)
    assert (change.field_name, change.original_value, change.proposed_value) == (
        "invoice_account",
        None,
        new.pk,
    )
    assert ChangeProposal.objects.get().state == "pending"
    customer.refresh_from_db()
    assert customer.invoice_account is None


@pytest.mark.django_db
def test_a_customer_cannot_be_its_own_invoice_account(importer, group, write_file):
    path = write_file(HEADER + "N1;Loop;10;N1\n")

    report = run(path, importer, dry_run=True)

    assert [(e["line"], e["message"]) for e in report.errors] == [
        (
            2,
            str(REFERS_TO_ITSELF)
            % {"code": "N1", "key": "customer account", "field": "Invoice account"},
        )
    ]
    assert report.errors[0]["message"] == (
        "“N1” is this row's own customer account: Invoice account cannot refer to "
        "the record itself."
    )


@pytest.mark.django_db
def test_an_account_neither_stored_nor_in_the_file_is_an_error(
    importer, group, write_file, batches_of_two
):
    path = write_file(HEADER + "N1;One;10;\nN2;Two;10;\nN3;Three;10;NOPE\n")

    report = run(path, importer, dry_run=True)

    assert report.errors == [
        {
            "line": 4,
            "column": "invoice_account",
            "value": "NOPE",
            "message": "There is no customer “NOPE”.",
        }
    ]
    assert not Customer.objects.exists()


@pytest.mark.django_db
def test_a_stored_customer_is_found_as_before(customer, importer, group, write_file):
    path = write_file(HEADER + "N1;New;10;C00001\n")

    report = run(path, importer)

    assert report.ok, report.as_dict()
    assert invoice_accounts() == {"C00001": None, "N1": "C00001"}
