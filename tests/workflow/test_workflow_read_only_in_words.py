"""A workflow in use reads in words: field labels and conditions, not field names."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.pages import page_text
from workflow import services
from workflow.models import AutoApprovalRule

NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}


@pytest.fixture
def workflow_with_condition_and_rule(roles, approval_admin):
    from tests.conftest import make_workflow

    workflow = make_workflow(
        approval_admin,
        {
            "assigned_group": roles["Approvers"],
            "condition_kind": "changes",
            "condition_field": "bank_account",
        },
    )
    # A rule is saved while the workflow is not in use: on a copy, then activated.
    copy = services.workflow_copy(
        workflow=workflow, actor=approval_admin, as_new_version=True
    )
    services.auto_approval_rule_save(
        rule=AutoApprovalRule(
            workflow=copy, field_name="credit_limit", kind="decreases"
        ),
        actor=approval_admin,
    )
    services.workflow_activate(workflow=copy, actor=approval_admin)
    return copy


@pytest.mark.django_db
def test_the_read_only_workflow_names_fields_and_conditions_in_words(
    client, approval_admin, workflow_with_condition_and_rule
):
    client.force_login(approval_admin)
    url = reverse(
        "admin:customers_accountsreceivableworkflow_change",
        args=[workflow_with_condition_and_rule.pk],
    )

    english = page_text(client.get(url))
    assert "so it is read-only" in english
    assert "Automatic approval rule: Credit limit: the value decreases" in english
    assert "credit_limit decreases" not in english
    assert "credit_limit" not in english and "bank_account" not in english

    dutch = page_text(client.get(url, **NL))
    assert "Kredietlimiet: de waarde daalt" in dutch
    assert "Bankrekening (IBAN)" in dutch
    assert "credit_limit" not in dutch and "bank_account" not in dutch


@pytest.mark.django_db
def test_a_workflow_being_edited_still_offers_the_fields_to_choose(
    client, approval_admin, roles
):
    """Only the read-only view shows labels in place of the drop-downs."""
    from tests.conftest import make_workflow

    workflow = make_workflow(approval_admin, {"assigned_group": roles["Approvers"]})
    copy = services.workflow_copy(
        workflow=workflow, actor=approval_admin, as_new_version=True
    )
    client.force_login(approval_admin)
    page = client.get(
        reverse("admin:customers_accountsreceivableworkflow_change", args=[copy.pk])
    ).content.decode()

    assert 'name="steps-0-condition_field"' in page
    assert '<option value="bank_account">Bank account (IBAN)</option>' in page
