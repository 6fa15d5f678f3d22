"""An import's proposals carry one justification the importer gives for the whole
file (on the Import page, `--justification`, `import_data(justification=…)`), in the
same writes as before; a workflow that requires one refuses an import without it,
already at the preview, and nothing is written."""

from __future__ import annotations

from io import StringIO

import pytest
import tablib
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import Customer
from customers.resources import CustomerResource
from tests.factories import CustomerFactory
from workflow.exceptions import JUSTIFICATION_REQUIRED
from workflow.importing.plan import ImportOptions
from workflow.models import AuditAction, AuditEntry, ChangeProposal, ProposalState
from workflow.services import governed_records_import

WHY = "Credit review of Q3: limits follow the new ratings."


@pytest.fixture
def required(active_workflow):
    active_workflow.justification_required = True
    active_workflow.save(update_fields=["justification_required"])
    return active_workflow


@pytest.fixture
def customers(db):
    return [CustomerFactory(account=f"C0010{n}") for n in range(3)]


def limits_file(write_file, customers, limit: str = "55000") -> str:
    rows = "".join(f"{c.account};{c.name};{limit}\n" for c in customers)
    return write_file("account;name;credit_limit\n" + rows)


def run(path, importer, dry_run=False, justification=""):
    return governed_records_import(
        model=Customer,
        path=path,
        file_name="limits.csv",
        options=ImportOptions(justification=justification),
        actor=importer,
        dry_run=dry_run,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_required_justification_missing_refuses_the_import(
    importer, approver, approvals_on, required, customers, write_file, dry_run
):
    report = run(limits_file(write_file, customers), importer, dry_run=dry_run)

    assert report.refused == JUSTIFICATION_REQUIRED
    assert not ChangeProposal.objects.exists()


@pytest.mark.django_db
def test_every_proposal_of_the_import_carries_the_justification(
    importer, approver, approvals_on, required, customers, write_file
):
    report = run(limits_file(write_file, customers), importer, justification=WHY)

    assert not report.refused
    proposals = ChangeProposal.objects.all()
    assert [(p.state, p.justification) for p in proposals] == [
        (ProposalState.PENDING, WHY)
    ] * 3
    comments = set(
        AuditEntry.objects.filter(action=AuditAction.SUBMITTED).values_list(
            "comment", flat=True
        )
    )
    assert comments == {f"Sent to Test workflow (v1). Justification: {WHY}"}


@pytest.mark.django_db
def test_a_justification_costs_the_import_no_query(
    importer, approver, approvals_on, active_workflow, write_file
):
    warm_up = [CustomerFactory(account=f"C0040{n}") for n in range(3)]
    first = [CustomerFactory(account=f"C0020{n}") for n in range(3)]
    second = [CustomerFactory(account=f"C0030{n}") for n in range(3)]
    run(limits_file(write_file, warm_up), importer)  # content types are read once
    with CaptureQueriesContext(connection) as without:
        run(limits_file(write_file, first), importer)
    with CaptureQueriesContext(connection) as with_one:
        run(limits_file(write_file, second), importer, justification=WHY)

    assert len(with_one) == len(without)
    assert set(
        ChangeProposal.objects.filter(object_id__in=[c.pk for c in second]).values_list(
            "justification", flat=True
        )
    ) == {WHY}


@pytest.mark.django_db
def test_import_data_takes_one_justification(
    importer, approver, approvals_on, required, customers
):
    dataset = tablib.Dataset(
        *[(c.account, c.name, "55000") for c in customers],
        headers=["account", "name", "credit_limit"],
    )
    refused = CustomerResource().import_data(dataset, user=importer)
    assert refused.has_validation_errors()
    assert not ChangeProposal.objects.exists()

    result = CustomerResource().import_data(dataset, user=importer, justification=WHY)

    assert not result.has_errors() and not result.has_validation_errors()
    assert set(ChangeProposal.objects.values_list("justification", flat=True)) == {WHY}


@pytest.mark.django_db
def test_the_command_takes_a_justification(
    importer, approver, approvals_on, required, customers, write_file
):
    path = limits_file(write_file, customers)
    with pytest.raises(CommandError):
        call_command("import_customers", path, user="importer", stdout=StringIO())

    call_command(
        "import_customers", path, user="importer", justification=WHY, stdout=StringIO()
    )

    assert set(ChangeProposal.objects.values_list("justification", flat=True)) == {WHY}


@pytest.mark.django_db
def test_the_import_page_asks_for_it(
    client, importer, approver, approvals_on, required, customers, uploads
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(importer)
    page = client.get(reverse("admin:customers_customer_import"))
    assert '<textarea name="justification"' in page.text

    rows = "".join(f"{c.account};{c.name};55000\n" for c in customers)
    job_page = client.post(
        reverse("admin:customers_customer_import"),
        {
            "file": SimpleUploadedFile(
                "limits.csv", ("account;name;credit_limit\n" + rows).encode()
            ),
            "behaviour": "propose",
            "decimal_format": "point",
            "encoding": "auto",
            "delimiter": "auto",
            "justification": WHY,
        },
        follow=True,
    )
    job = job_page.context["job"]
    assert job.options["justification"] == WHY
    assert not job.preview.get("refused")
