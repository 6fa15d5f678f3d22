"""The work item's page says who may not decide the step, and why."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.conftest import propose
from workflow import services


@pytest.fixture
def co_proposed(
    customer, clerk, clerk2, approver, approvals_on, active_workflow, roles
):
    """clerk proposes a credit limit, clerk2 (an approver too) adds a bank account,
    clerk submits."""
    clerk2.groups.add(roles["Approvers"])
    propose(customer, clerk, credit_limit=Decimal("25000"))
    proposal = propose(customer, clerk2, bank_account="DE89370400440532013000")
    return services.proposal_submit(proposal=proposal, actor=clerk)


def proposed_changes(client, user, customer):
    client.force_login(user)
    return client.get(
        reverse("admin:customers_customer_proposed_changes", args=[customer.pk])
    ).text


@pytest.mark.django_db
def test_the_approver_reads_who_is_excluded_and_why(
    client, customer, co_proposed, approver
):
    page = proposed_changes(client, approver, customer)
    assert "Who may not decide this step" in page
    assert (
        "<strong>clerk</strong>: proposed or withdrew Credit limit; "
        "submitted it (round 1)</li>" in page
    )
    assert (
        "<strong>clerk2</strong>: proposed or withdrew Bank account (IBAN)</li>" in page
    )
    assert f'href="/admin/customers/customer/{customer.pk}/workflow/approve/"' in page


@pytest.mark.django_db
def test_an_excluded_approver_gets_no_approve_button_and_is_told_why(
    client, customer, co_proposed, clerk2
):
    page = proposed_changes(client, clerk2, customer)
    assert "because you proposed or submitted them" in page
    assert "/workflow/approve/" not in page


@pytest.mark.django_db
def test_the_workflow_history_lists_the_exclusions_too(
    client, customer, co_proposed, approval_admin
):
    client.force_login(approval_admin)
    page = client.get(
        reverse("admin:workflow_changeproposal_change", args=[co_proposed.pk])
    ).text
    assert (
        "<strong>clerk2</strong>: proposed or withdrew Bank account (IBAN)</li>" in page
    )


@pytest.mark.django_db
def test_a_decided_proposal_lists_nobody(client, customer, co_proposed, approver):
    services.proposal_approve(proposal=co_proposed, actor=approver)
    page = client.get(
        reverse("admin:customers_customer_history", args=[customer.pk])
    ).text
    assert "Who may not decide this step" not in page
