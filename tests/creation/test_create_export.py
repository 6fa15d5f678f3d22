"""The customer export carries each customer's status: customers awaiting approval
or rejected are exported, marked as such, never as active; the file imports back."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from customers.models import Customer
from customers.resources import CustomerResource
from customers.services import customer_create
from tests.factories import CustomerFactory
from tests.workflow.test_export_labels import export_post
from workflow.importing.plan import ImportOptions
from workflow.services import governed_records_import


@pytest.mark.django_db
def test_the_export_marks_customers_that_are_not_active(
    client, clerk, approver, creation_needs_approval, new_values, tmp_path
):
    CustomerFactory(account="A00001")
    customer_create(values=new_values, actor=clerk)
    CustomerFactory(account="R00001", record_status="rejected")
    client.force_login(clerk)

    response = client.post(
        reverse("admin:customers_customer_export"), export_post(CustomerResource)
    )
    exported = response.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))

    assert {r["account"]: r["record_status"] for r in rows} == {
        "A00001": "active",
        "C09001": "awaiting",
        "R00001": "rejected",
    }

    # The status column is left out when the file is imported back.
    path = tmp_path / "customers.csv"
    path.write_text(exported, encoding="utf-8")
    report = governed_records_import(
        model=Customer,
        path=str(path),
        file_name=path.name,
        options=ImportOptions(behaviour="propose"),
        actor=clerk,
        dry_run=True,
    )
    assert report.refused == "" and report.error_count == 2
    assert report.counts["unchanged"] == 1
    assert "record_status" in report.columns["ignored"]


@pytest.mark.django_db
def test_the_list_filtered_to_active_customers_exports_only_those(
    client, clerk, approver, creation_needs_approval, new_values
):
    CustomerFactory(account="A00001")
    customer_create(values=new_values, actor=clerk)
    client.force_login(clerk)

    response = client.post(
        reverse("admin:customers_customer_export") + "?approval_status=none",
        export_post(CustomerResource),
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))

    assert [r["account"] for r in rows] == ["A00001"]
