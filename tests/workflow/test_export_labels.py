"""The Export pages name each column by the label of the record's form, in the reader's
language. The customers' file keeps field names as headers, so that it imports back
whatever the language of who exported it; the proposals' file, a report, is headed
by the labels themselves."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Customer
from customers.resources import CustomerResource
from tests.conftest import submit
from workflow.importing.plan import ImportOptions
from workflow.services import governed_records_import

NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}
CSV_FORMAT = "0"


def form_labels(html: str) -> dict[str, str]:
    """The labels of a change form, by field name: `<label for="id_name">Naam:</label>`."""
    return {
        name: label.strip().rstrip(":")
        for name, label in re.findall(
            r'<label[^>]*for="id_(\w+)"[^>]*>([^<]+)</label>', html
        )
    }


def export_post(resource_class, **extra) -> dict[str, str]:
    prefix = resource_class.__name__.lower()
    return {
        "resource": "0",
        "format": CSV_FORMAT,
        **{f"{prefix}_{name}": "on" for name in resource_class().get_export_order()},
        **extra,
    }


@pytest.mark.django_db
def test_the_export_page_names_the_columns_as_the_customer_form_does(
    client, clerk, customer
):
    client.force_login(clerk)
    form = client.get(reverse("admin:customers_customer_add"), **NL).content.decode()
    labels = form_labels(form)
    page = client.get(reverse("admin:customers_customer_export"), **NL)
    html = page.content.decode()

    assert page.status_code == 200
    assert "Deze export schrijft de volgende velden:" in html
    for name in CustomerResource().get_export_order():
        if name == "bank_account_status":
            # Not on the form: the engine's record of the call-back, exported only.
            continue
        assert f"{labels[name]} <code>{name}</code>" in html, name
    assert "Bankrekening geverifieerd <code>bank_account_status</code>" in html
    assert (
        "Credit Limit" not in html and "Kredietlimiet <code>credit_limit</code>" in html
    )


@pytest.mark.django_db
def test_a_dutch_export_of_customers_is_headed_by_field_names_and_imports_back(
    client, clerk, customer, tmp_path
):
    """Its numbers are written as a Dutch spreadsheet writes them (10000,00), and the
    Import page of a Dutch reader expects them so."""
    client.force_login(clerk)
    response = client.post(
        reverse("admin:customers_customer_export"), export_post(CustomerResource), **NL
    )
    exported = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported)))

    assert response.status_code == 200
    assert rows[0] == list(CustomerResource().get_export_order())
    assert dict(zip(rows[0], rows[1], strict=True))["credit_limit"] == "10000,00"
    import_page = client.get(reverse("admin:customers_customer_import"), **NL)
    assert import_page.context["form"]["decimal_format"].value() == "comma"
    english_page = client.get(reverse("admin:customers_customer_import"))
    assert english_page.context["form"]["decimal_format"].value() == "point"

    path = tmp_path / "klanten.csv"
    path.write_text(exported, encoding="utf-8")
    report = governed_records_import(
        model=Customer,
        path=str(path),
        file_name=path.name,
        options=ImportOptions(behaviour="allow", decimal_format="comma"),
        actor=clerk,
        dry_run=True,
    )
    assert report.counts == {"unchanged": 1}, report.as_dict()


@pytest.mark.django_db
def test_the_proposals_export_is_headed_and_written_in_the_readers_language(
    client,
    customer,
    clerk,
    approval_admin,
    approvals_on,
    active_workflow,
    approver,
):
    from workflow.resources import ChangeProposalResource

    submit(customer, clerk, credit_limit=Decimal("12500"))
    client.force_login(approval_admin)
    page = client.get(reverse("admin:workflow_changeproposal_export"), **NL)
    assert "Voorgesteld door" in page.content.decode()
    assert "Proposed By" not in page.content.decode()

    response = client.post(
        reverse("admin:workflow_changeproposal_export"),
        export_post(ChangeProposalResource),
        **NL,
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))

    assert rows[0] == [
        "ID",
        "Record",
        "Status",
        "Bron",
        "Voorgesteld door",
        "Aangemaakt op",
        "Ingediend door",
        "Ingediend op",
        "Gesloten op",
        "Wijzigingen",
    ]
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["Status"] == "Wijzigingen in afwachting van goedkeuring"
    assert record["Bron"] == "Browser"
    assert record["Wijzigingen"] == "Kredietlimiet: 10000.00 -> 12500.00"
