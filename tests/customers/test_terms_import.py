"""An import of terms of payment goes through the engine as a customer import does: new
codes and descriptions are written, a change of the days follows the parameters."""

from __future__ import annotations

import pytest

from customers.models import PaymentTerms
from tests.customers.conftest import stored_days
from workflow.exceptions import NO_PERMISSION, PermissionRefused
from workflow.importing.plan import ImportOptions
from workflow.models import ChangeProposal
from workflow.services import governed_records_import

NOT_SUBMITTABLE = (
    "The file proposes changes that need approval, and you may not submit changes "
    "for approval."
)


def import_terms(tmp_path, text: str, actor, behaviour: str, dry_run: bool = False):
    path = tmp_path / "terms.csv"
    path.write_text(text, encoding="utf-8")
    return governed_records_import(
        model=PaymentTerms,
        path=path,
        file_name="terms.csv",
        options=ImportOptions(behaviour=behaviour),
        actor=actor,
        dry_run=dry_run,
    )


@pytest.mark.django_db
def test_an_import_adds_codes_and_renames_terms_at_once(
    tmp_path, terms, approval_admin, terms_approvals_on, terms_workflow
):
    report = import_terms(
        tmp_path,
        "code;description;days\nNet30;Thirty days net;30\nNet90;Net 90 days;90\n",
        approval_admin,
        "propose",
    )

    assert report.ok, report.as_dict()
    assert report.counts == {"updated": 1, "new": 1}
    assert dict(PaymentTerms.objects.values_list("code", "description")) == {
        "Net30": "Thirty days net",
        "Net90": "Net 90 days",
    }


@pytest.mark.django_db
def test_an_import_cannot_change_the_days_without_someone_to_submit_them(
    tmp_path, terms, approval_admin, terms_approvals_on, terms_workflow
):
    """Approval administrators import terms, but submit no change of the days."""
    change = "code;days\nNet30;45\n"

    preview = import_terms(tmp_path, change, approval_admin, "propose", dry_run=True)
    assert preview.counts == {"updated": 1, "proposals": 1}
    assert preview.refused == NOT_SUBMITTABLE
    imported = import_terms(tmp_path, change, approval_admin, "propose")
    assert imported.refused == str(NO_PERMISSION)
    rejected = import_terms(tmp_path, change, approval_admin, "reject")
    assert rejected.error_count == 1

    assert stored_days(terms) == 30
    assert not ChangeProposal.objects.exists()


@pytest.mark.django_db
def test_clerks_do_not_import_terms(tmp_path, terms, clerk, terms_approvals_on):
    with pytest.raises(PermissionRefused) as refused:
        import_terms(tmp_path, "code;days\nNet30;45\n", clerk, "propose")
    assert refused.value.message == str(NO_PERMISSION)
    assert stored_days(terms) == 30
