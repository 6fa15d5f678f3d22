"""An import writes one e-mail per approver about all the proposals it made for them,
in the import's transaction."""

from __future__ import annotations

import pytest

from customers.models import Customer
from tests.factories import CustomerFactory
from workflow.importing.plan import ImportOptions
from workflow.models import ChangeProposal, OutboxEvent, OutboxMessage, OutboxState
from workflow.services import governed_records_import


@pytest.mark.django_db
def test_an_import_writes_one_digest_row_per_approver_with_every_proposal(
    importer,
    approver,
    approver2,
    approvals_on,
    active_workflow,
    write_file,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    monkeypatch.setattr("workflow.importing.plan.BATCH_SIZE", 2)
    for n in range(5):
        CustomerFactory(account=f"D0000{n}", name=f"Digest {n}")
    path = write_file(
        "account;name;credit_limit\n"
        + "".join(f"D0000{n};Digest {n};{n + 1}\n" for n in range(5))
    )

    with django_capture_on_commit_callbacks(execute=True):
        report = governed_records_import(
            model=Customer,
            path=path,
            file_name=path,
            options=ImportOptions(behaviour="propose"),
            actor=importer,
            dry_run=False,
        )

    assert report.counts["proposals"] == 5
    proposal_ids = sorted(ChangeProposal.objects.values_list("pk", flat=True))
    rows = OutboxMessage.objects.order_by("recipient__username")
    assert [
        (r.recipient.username, r.event, sorted(r.proposal_ids), r.proposal_id, r.state)
        for r in rows
    ] == [
        ("approver", OutboxEvent.ASSIGNED, proposal_ids, None, OutboxState.SENT),
        ("approver2", OutboxEvent.ASSIGNED, proposal_ids, None, OutboxState.SENT),
    ]


@pytest.mark.django_db
def test_a_dry_run_writes_no_e_mail(
    importer, approver, approvals_on, active_workflow, write_file
):
    CustomerFactory(account="D00001", name="Digest")
    governed_records_import(
        model=Customer,
        path=(path := write_file("account;name;credit_limit\nD00001;Digest;7\n")),
        file_name=path,
        options=ImportOptions(behaviour="propose"),
        actor=importer,
        dry_run=True,
    )

    assert not OutboxMessage.objects.exists()
