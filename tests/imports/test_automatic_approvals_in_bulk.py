"""Proposals of an import that the workflow approves automatically are applied with
their batch, and leave the same history as one submitted on the customer page."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.models import Customer
from tests.conftest import submit
from tests.factories import CustomerFactory
from workflow.importing import plan
from workflow.importing.plan import ImportOptions
from workflow.models import (
    AuditAction,
    AuditEntry,
    ChangeProposal,
    OutboxEvent,
    OutboxMessage,
    ProposalState,
)
from workflow.services import governed_records_import


def history(proposal: ChangeProposal) -> list[tuple]:
    """What the History shows of a proposal, less where it came from and its number."""
    rows = []
    for entry in AuditEntry.objects.filter(proposal=proposal).exclude(
        action=AuditAction.FIELD_PROPOSED
    ):
        translations = {
            code: text.replace(f" {proposal.pk}.", " N.")
            for code, text in (entry.comment_translations or {}).items()
        }
        rows.append(
            (
                entry.action,
                entry.actor_name,
                entry.field_name,
                entry.field_label,
                entry.old_value,
                entry.new_value,
                entry.old_display,
                entry.new_display,
                entry.comment.replace(f" {proposal.pk}.", " N."),
                translations,
            )
        )
    return sorted(rows)


@pytest.mark.django_db
def test_automatic_approvals_of_an_import_are_applied_in_its_batches(
    importer, decreases_pass, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(plan, "BATCH_SIZE", 3)
    for n in range(7):
        CustomerFactory(account=f"A{n:05d}", name=f"Auto {n}", credit_limit=1000)
    # Rows 0, 2, 4, 6 lower the limit; 1, 3, 5 raise it: both kinds in every batch.
    lines = "".join(
        f"A{n:05d};Auto {n} renamed;{900 - n if n % 2 == 0 else 1100 + n}\n"
        for n in range(7)
    )
    path = tmp_path / "mixed.csv"
    path.write_text("account;name;credit_limit\n" + lines)

    with django_capture_on_commit_callbacks(execute=True):
        report = governed_records_import(
            model=Customer,
            path=path,
            file_name="mixed.csv",
            options=ImportOptions(behaviour="propose"),
            actor=importer,
            dry_run=False,
        )

    assert report.ok, report.as_dict()
    for n in range(7):
        customer = Customer.objects.get(account=f"A{n:05d}")
        assert customer.name == f"Auto {n} renamed"
        proposal = ChangeProposal.objects.get(object_id=customer.pk)
        if n % 2 == 0:
            assert customer.credit_limit == Decimal(900 - n)
            assert proposal.state == ProposalState.APPLIED
            assert not proposal.work_items.exists()
        else:
            assert customer.credit_limit == Decimal(1000)
            assert proposal.state == ProposalState.PENDING
    applied = set(
        ChangeProposal.objects.filter(state=ProposalState.APPLIED).values_list(
            "pk", flat=True
        )
    )
    # One e-mail tells the importer of every proposal applied without approval.
    mails = OutboxMessage.objects.filter(recipient=importer)
    assert [(m.event, set(m.proposal_ids)) for m in mails] == [
        (OutboxEvent.APPLIED, applied)
    ]


@pytest.mark.django_db
def test_an_imported_automatic_approval_has_the_history_of_one_from_the_page(
    importer, decreases_pass, tmp_path
):
    by_page = CustomerFactory(account="P00001", name="Page", credit_limit=1000)
    by_file = CustomerFactory(account="F00001", name="File", credit_limit=1000)
    from_page = submit(by_page, importer, credit_limit=Decimal("750"))
    path = tmp_path / "lower.csv"
    path.write_text("account;name;credit_limit\nF00001;File;750\n")

    report = governed_records_import(
        model=Customer,
        path=path,
        file_name="lower.csv",
        options=ImportOptions(behaviour="propose"),
        actor=importer,
        dry_run=False,
    )

    assert report.ok, report.as_dict()
    from_file = ChangeProposal.objects.get(object_id=by_file.pk)
    assert from_page.state == from_file.state == ProposalState.APPLIED
    found = history(from_file)
    assert found == history(from_page)
    actions = [row[0] for row in found]
    assert sorted(actions) == sorted(
        [
            AuditAction.SUBMITTED,
            AuditAction.AUTO_APPROVED,
            AuditAction.FIELD_CHANGED,
            AuditAction.APPLIED,
        ]
    )
    applied_row = next(r for r in found if r[0] == AuditAction.FIELD_CHANGED)
    # Applied by the system, said in every language.
    assert applied_row[1] == ""
    assert set(applied_row[9]) == {"en", "nl"}


@pytest.mark.django_db
def test_the_rules_are_asked_once_per_imported_proposal(
    importer, decreases_pass, tmp_path, monkeypatch
):
    """The decision core's own rule, asked once for each proposal of the file."""
    from workflow.core import routing

    asked = []
    rule = routing.automatic_approval

    def counting(rules, changes):
        asked.append(changes)
        return rule(rules, changes)

    monkeypatch.setattr(routing, "automatic_approval", counting)
    for n in range(4):
        CustomerFactory(account=f"R{n:05d}", name=f"Rule {n}", credit_limit=1000)
    path = tmp_path / "rules.csv"
    path.write_text(
        "account;name;credit_limit\n"
        + "".join(f"R{n:05d};Rule {n};{500 if n < 2 else 1500}\n" for n in range(4))
    )

    report = governed_records_import(
        model=Customer,
        path=path,
        file_name="rules.csv",
        options=ImportOptions(behaviour="propose"),
        actor=importer,
        dry_run=False,
    )

    assert report.ok, report.as_dict()
    assert len(asked) == 4
    assert ChangeProposal.objects.filter(state=ProposalState.APPLIED).count() == 2
