"""An importer who is also an approver never gets a work item on the proposals of
their own import: another approver does."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from customers.models import Customer
from workflow.importing.plan import ImportOptions
from workflow.models import ChangeProposal, ProposalState, WorkItem
from workflow.services import governed_records_import

TEXT = "account;name;credit_limit\nC00001;Contoso Retail;25000\n"


@pytest.fixture
def importing_approver(importer, roles):
    importer.groups.add(roles["Approvers"])
    return importer


def assert_only_approver_holds_the_item(customer):
    proposal = ChangeProposal.objects.get(object_id=customer.pk)
    assert proposal.state == ProposalState.PENDING
    assert proposal.submitted_by.username == "importer"
    assert list(
        WorkItem.objects.filter(proposal=proposal).values_list(
            "assignee__username", flat=True
        )
    ) == ["approver"]


@pytest.mark.django_db
def test_the_import_service_assigns_another_approver(
    customer, importing_approver, approver, approvals_on, active_workflow, write_file
):
    path = write_file(TEXT)
    report = governed_records_import(
        model=Customer,
        path=path,
        file_name=path,
        options=ImportOptions(behaviour="propose"),
        actor=importing_approver,
        dry_run=False,
    )

    assert report.ok, report.as_dict()
    assert_only_approver_holds_the_item(customer)


@pytest.mark.django_db
def test_the_import_command_assigns_another_approver(
    customer, importing_approver, approver, approvals_on, active_workflow, write_file
):
    call_command(
        "import_customers",
        write_file(TEXT),
        user="importer",
        behaviour="propose",
        stdout=StringIO(),
    )

    assert_only_approver_holds_the_item(customer)
