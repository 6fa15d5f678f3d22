"""The bank account's verified status: "verified on … by …" after a call-back,
"unverified" after any change without one; the customer list shows and filters it,
the export carries it and an import of that export ignores the column."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import Customer
from customers.resources import CustomerResource
from customers.services import customer_update
from tests.bank.conftest import NEW_IBAN, ON_FILE
from tests.conftest import submit
from tests.factories import CustomerFactory
from workflow import services
from workflow.importing.plan import ImportOptions
from workflow.models import BankAccountStatus, DataEntityBehavior

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified(customer, clerk, verifier, bank_controls):
    proposal = submit(customer, clerk, bank_account=NEW_IBAN)
    services.proposal_callback(
        proposal=proposal,
        actor=verifier,
        phone=ON_FILE,
        person="Jan",
        outcome="confirmed",
    )
    CustomerFactory(account="C00002", name="Never verified")
    return customer


def approvals_off(actor):
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=False,
        data_entity_behavior=DataEntityBehavior.ALLOW,
        enabled_fields=[],
        actor=actor,
    )


def test_the_list_shows_and_filters_the_status(client, verified, verifier):
    client.force_login(verifier)
    url = reverse("admin:customers_customer_changelist")
    page = client.get(url).content.decode()
    assert "Bank account verified" in page
    assert "Verified on " in page and " by verifier" in page
    assert "Unverified" in page
    mine = client.get(url + "?bank_verified=yes").content.decode()
    assert "C00001" in mine and "C00002" not in mine
    others = client.get(url + "?bank_verified=no").content.decode()
    assert "C00002" in others and ">C00001<" not in others


def test_the_export_carries_the_status(verified):
    dataset = CustomerResource().export()
    rows = {r["account"]: r for r in dataset.dict}
    assert rows["C00001"]["bank_account_status"].startswith("Verified on ")
    assert rows["C00001"]["bank_account_status"].endswith(" by verifier")
    assert rows["C00002"]["bank_account_status"] == "Unverified"


def test_an_import_of_the_export_ignores_the_status_and_a_change_unverifies(
    verified, approval_admin, clerk, tmp_path
):
    approvals_off(approval_admin)
    dataset = CustomerResource().export()
    for row_index, row in enumerate(dataset.dict):
        if row["account"] == "C00001":
            dataset[row_index] = tuple(
                "NL02ABNA0123456789" if h == "bank_account" else v
                for h, v in zip(dataset.headers, dataset[row_index], strict=True)
            )
    path = tmp_path / "customers.csv"
    path.write_text(dataset.csv)
    report = services.governed_records_import(
        model=Customer,
        path=str(path),
        file_name="customers.csv",
        options=ImportOptions(behaviour="allow"),
        actor=clerk,
        dry_run=False,
    )
    assert report.ok, report.refused
    verified.refresh_from_db()
    assert verified.bank_account == "NL02ABNA0123456789"
    assert str(BankAccountStatus.objects.get(object_id=verified.pk)) == "Unverified"


def test_a_record_saved_without_approval_is_unverified(verified, approval_admin, clerk):
    approvals_off(approval_admin)
    customer_update(
        customer_id=verified.pk,
        values={"bank_account": "NL02ABNA0123456789"},
        actor=clerk,
    )
    assert not BankAccountStatus.objects.get(object_id=verified.pk).verified


def test_the_customer_page_says_who_verified_the_account(client, verified, verifier):
    client.force_login(verifier)
    url = reverse("admin:customers_customer_change", args=[verified.pk])
    page = client.get(url).content.decode()
    assert "Bank account: Verified on " in page and " by verifier" in page
    dutch = client.get(url, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "Bankrekening: Geverifieerd op " in dutch


def test_bulk_approval_without_a_call_back_leaves_the_account_unverified(
    verified, clerk, approver, approval_admin, roles
):
    from tests.conftest import make_workflow

    make_workflow(approval_admin, {"assigned_group": roles["Approvers"]})
    proposal = submit(verified, clerk, bank_account="NL02ABNA0123456789")
    outcome = services.proposals_approve_bulk(
        proposal_ids=[proposal.pk], actor=approver
    )
    assert outcome.applied == [proposal.pk]
    assert str(BankAccountStatus.objects.get(object_id=verified.pk)) == "Unverified"
