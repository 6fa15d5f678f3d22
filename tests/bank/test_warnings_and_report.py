"""Warnings where fraud shows in a proposed bank account: on the approval pages and in
the Bank-detail warnings report (page and CSV/XLSX); the call-back's evidence in the
change log and its exports."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.bank.conftest import NEW_IBAN, ON_FILE
from tests.conftest import submit
from tests.factories import CustomerFactory
from tests.reports.conftest import exported, read_csv, read_xlsx, report_url
from workflow import services
from workflow.models import AuditAction, AuditEntry

pytestmark = pytest.mark.django_db
NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}
BANK_REPORT = "admin:workflow_auditreport_bank"


@pytest.fixture
def auditor(roles):
    from customers.management.commands.seed_demo import AUDITORS
    from tests.conftest import _group, member

    return member("auditor", _group(AUDITORS))


@pytest.fixture
def duplicate(customer, clerk, bank_controls):
    CustomerFactory(account="C00099", name="Other", bank_account=NEW_IBAN)
    return submit(customer, clerk, bank_account=NEW_IBAN)


def test_the_verifier_sees_the_duplicate_and_the_foreign_iban(
    client, customer, verifier, duplicate
):
    client.force_login(verifier)
    url = reverse("admin:customers_customer_workflow", args=[customer.pk, "approve"])
    page = client.get(url).content.decode()
    assert "This IBAN is already the bank account of C00099." in page
    assert "The IBAN is from DE, but the record&#x27;s country is NL." in page
    dutch = client.get(url, **NL).content.decode()
    assert "Deze IBAN is al de bankrekening van C00099." in dutch
    history = client.get(
        reverse("admin:workflow_changeproposal_change", args=[duplicate.pk])
    ).content.decode()
    assert "This IBAN is already the bank account of C00099." in history


def test_a_change_of_an_account_changed_recently_warns(
    client, customer, clerk, verifier, bank_controls
):
    first = submit(customer, clerk, bank_account="NL02ABNA0123456789")
    services.proposal_callback(
        proposal=first, actor=verifier, phone=ON_FILE, person="Jan", outcome="confirmed"
    )
    submit(customer, clerk, bank_account="NL91ABNA0417164300")
    client.force_login(verifier)
    page = client.get(
        reverse("admin:customers_customer_proposed_changes", args=[customer.pk])
    ).content.decode()
    assert "The bank account was changed recently, within the last 90 days." in page


def test_a_change_of_another_field_shows_no_warning(
    client, customer, clerk, verifier, bank_controls, approver
):
    from decimal import Decimal

    proposal = submit(customer, clerk, credit_limit=Decimal("20000"))
    client.force_login(verifier)
    page = client.get(
        reverse("admin:workflow_changeproposal_change", args=[proposal.pk])
    ).content.decode()
    assert "Bank-detail warnings" not in page


def test_the_report_lists_the_warnings_and_exports_them(client, auditor, duplicate):
    client.force_login(auditor)
    page = client.get(reverse(BANK_REPORT)).content.decode()
    assert "This IBAN is already the bank account of C00099." in page
    assert "C00001 Contoso Retail" in page
    for fmt, read in (("csv", read_csv), ("xlsx", read_xlsx)):
        (row,) = read(client.get(reverse(BANK_REPORT) + f"?export={fmt}"))
        assert row["Record"] == "C00001 Contoso Retail"
        assert row["New value"] == NEW_IBAN
        assert "This IBAN is already the bank account of C00099." in row["Warnings"]
        assert "The IBAN is from DE" in row["Warnings"]
    (dutch,) = read_csv(client.get(reverse(BANK_REPORT) + "?export=csv", **NL))
    assert "Deze IBAN is al de bankrekening van C00099." in dutch["Waarschuwingen"]


def test_the_report_is_for_report_viewers_only(client, clerk, duplicate):
    client.force_login(clerk)
    assert client.get(reverse(BANK_REPORT)).status_code == 403


def test_the_report_index_links_the_new_report(client, auditor):
    client.force_login(auditor)
    page = client.get(reverse("admin:workflow_auditreport_changelist")).content.decode()
    assert reverse(BANK_REPORT) in page
    assert "Bank-detail warnings" in page


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_change_log_export_carries_the_call_back_evidence(
    client, auditor, customer, clerk, verifier, bank_controls, fmt
):
    proposal = submit(customer, clerk, bank_account=NEW_IBAN)
    services.proposal_callback(
        proposal=proposal,
        actor=verifier,
        phone=ON_FILE,
        person="Jan de Vries",
        outcome="confirmed",
        comment="Voice known.",
    )
    client.force_login(auditor)
    page = client.get(report_url("changes")).content.decode()
    evidence = f"Call-back to {ON_FILE}, reached Jan de Vries: confirmed. Voice known."
    assert evidence in page
    (row,) = exported(client, "changes", fmt)
    assert row["New value"] == NEW_IBAN
    assert "Step 1: verifier, " in row["Approvals"]
    assert evidence in row["Approvals"]
    entry = AuditEntry.objects.get(proposal=proposal, action=AuditAction.APPROVED)
    assert entry.comment == evidence


def test_an_old_proposal_is_read_as_its_approver_read_it(
    client, auditor, customer, clerk, verifier, bank_controls
):
    """The report of a proposal applied long ago counts only the changes before it."""
    first = submit(customer, clerk, bank_account=NEW_IBAN)
    services.proposal_callback(
        proposal=first, actor=verifier, phone=ON_FILE, person="Jan", outcome="confirmed"
    )
    client.force_login(auditor)
    # Its own change is no "recent change" of itself.
    page = client.get(reverse(BANK_REPORT)).content.decode()
    assert "changed recently" not in page
    assert timezone.now() - first.submitted_at < datetime.timedelta(days=1)
