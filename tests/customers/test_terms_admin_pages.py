"""The pages of terms of payment and cash discounts, as each role uses them: the clerk
proposes a change of the days, the finance manager approves it on the same pages as a
customer's, the approval administrator keeps the parameters and workflows."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import PaymentTerms
from tests.customers.conftest import stored_days
from tests.customers.test_admin_walk import form_data
from workflow import selectors
from workflow.models import AuditAction, AuditEntry, ProposalState

TERMS_PARAMETERS = "admin:customers_termsofpaymentparameters_changelist"
TERMS_WORKFLOWS = "admin:customers_termsofpaymentworkflow_changelist"
TERMS_WORKFLOWS_ADD = "admin:customers_termsofpaymentworkflow_add"
DISCOUNT_PARAMETERS = "admin:customers_cashdiscountparameters_changelist"
DISCOUNT_WORKFLOWS = "admin:customers_cashdiscountworkflow_changelist"


def terms_url(name: str, terms=None, *args) -> str:
    return reverse(
        f"admin:customers_paymentterms_{name}",
        args=[terms.pk, *args] if terms is not None else [],
    )


def save_terms(client, terms, **changes):
    data = form_data(client.get(terms_url("change", terms)))
    data.update(changes)
    return client.post(terms_url("change", terms), data)


@pytest.mark.django_db
def test_a_clerk_proposes_days_and_a_finance_manager_approves_them_on_the_pages(
    client, terms, clerk, manager, terms_approvals_on, terms_workflow
):
    client.force_login(clerk)
    form = client.get(terms_url("change", terms))
    assert form.status_code == 200
    assert "Changes to this field need approval." in form.text

    saved = save_terms(client, terms, days="45", description="Net 45 days")

    assert saved.status_code == 302
    assert saved["Location"] == terms_url("proposed_changes", terms)
    assert "Your changes have not been submitted." in client.get(saved["Location"]).text
    assert PaymentTerms.objects.values_list("description", "days").get(pk=terms.pk) == (
        "Net 45 days",
        30,
    )
    submitted = client.post(terms_url("workflow", terms, "submit"))
    assert submitted.status_code == 302
    assert "Changes pending approval" in client.get(terms_url("change", terms)).text

    client.force_login(manager)
    inbox = client.get(reverse("admin:workflow_workitem_changelist"))
    assert terms_url("proposed_changes", terms) in inbox.text
    assert client.get(terms_url("workflow", terms, "approve")).status_code == 200
    approved = client.post(
        terms_url("workflow", terms, "approve"), {"comment": "Agreed."}
    )

    assert approved.status_code == 302
    assert stored_days(terms) == 45
    page = client.get(terms_url("history", terms))
    assert page.status_code == 200
    assert [
        e.action
        for e in page.context["entries"]
        if e.action in (AuditAction.FIELD_PROPOSED, AuditAction.FIELD_CHANGED)
    ] == [
        AuditAction.FIELD_CHANGED,
        AuditAction.FIELD_PROPOSED,
        AuditAction.FIELD_CHANGED,
    ]


@pytest.mark.django_db
def test_the_proposer_cannot_approve_by_a_hand_made_post(
    client, terms, clerk, manager, roles, terms_approvals_on, terms_workflow
):
    clerk.groups.add(roles["Finance managers"])
    client.force_login(clerk)
    save_terms(client, terms, days="60")
    client.post(terms_url("workflow", terms, "submit"))

    page = client.post(
        terms_url("workflow", terms, "approve"), {"comment": "mine"}, follow=True
    )

    assert "because you proposed or submitted them" in page.text
    assert selectors.open_proposal_for(terms).state == ProposalState.PENDING
    assert stored_days(terms) == 30


@pytest.mark.django_db
def test_a_stale_terms_form_shows_the_clash_and_overwrites_nothing(
    client, terms, clerk, terms_approvals_on
):
    client.force_login(clerk)
    stale = form_data(client.get(terms_url("change", terms)))
    save_terms(client, terms, description="Someone else's")

    response = client.post(terms_url("change", terms), {**stale, "description": "Mine"})

    assert response.status_code == 200
    assert [(c.mine, c.theirs, c.by) for c in response.context["clashes"]] == [
        ("Mine", "Someone else's", "clerk")
    ]
    assert response.context["adminform"].form["description"].value() == "Mine"
    assert PaymentTerms.objects.get(pk=terms.pk).description == "Someone else's"


@pytest.mark.django_db
def test_approvers_see_the_terms_but_cannot_change_them(
    client, terms, approver, terms_approvals_on
):
    client.force_login(approver)
    assert client.get(terms_url("changelist")).status_code == 200
    assert client.get(terms_url("change", terms)).status_code == 200

    response = client.post(
        terms_url("change", terms), {"description": "Mine", "days": "1"}
    )

    assert response.status_code == 403
    assert PaymentTerms.objects.values_list("description", "days").get(pk=terms.pk) == (
        "Net 30 days",
        30,
    )


@pytest.mark.django_db
def test_an_approval_administrator_adds_terms_and_keeps_their_parameters(
    client, approval_admin
):
    client.force_login(approval_admin)
    added = client.post(
        terms_url("add"), {"code": "Net90", "description": "Net 90 days", "days": "90"}
    )
    assert added.status_code == 302
    assert PaymentTerms.objects.get(code="Net90").days == 90

    parameters = client.get(reverse(TERMS_PARAMETERS), follow=True)
    assert parameters.status_code == 200
    for label in (
        "Terms of payment parameters",
        "Terms of payment approval",
        "Enable terms of payment approvals",
        "Days until due",
    ):
        assert label in parameters.text, label
    # Only the days change what customers owe; the description is never governed.
    assert parameters.context["form"].fields["enabled_fields"].choices == [
        ("days", "Days until due")
    ]
    saved = client.post(
        parameters.redirect_chain[-1][0],
        {
            "approvals_enabled": "on",
            "data_entity_behavior": "propose",
            "enabled_fields": ["days"],
        },
    )
    assert saved.status_code == 302
    assert selectors.enabled_fields_for(PaymentTerms) == {"days"}
    assert AuditEntry.objects.filter(
        action=AuditAction.SETTINGS_CHANGED,
        actor=approval_admin,
        field_name="enabled_fields",
    ).exists()

    assert client.get(reverse(TERMS_WORKFLOWS)).status_code == 200
    choose = client.get(reverse(TERMS_WORKFLOWS_ADD))
    assert "Proposed terms of payment change workflow" in choose.text
    assert "Proposed customer change workflow" not in choose.text


@pytest.mark.django_db
def test_the_terms_workflows_list_only_the_terms_workflows(
    client, approval_admin, active_workflow, terms_workflow
):
    client.force_login(approval_admin)

    listed = client.get(reverse(TERMS_WORKFLOWS)).context["cl"].result_list

    assert list(listed) == [terms_workflow]


@pytest.mark.django_db
def test_the_cash_discount_pages_answer_their_roles(
    client, discount, clerk, approval_admin, discount_approvals_on
):
    client.force_login(approval_admin)
    parameters = client.get(reverse(DISCOUNT_PARAMETERS), follow=True)
    assert parameters.status_code == 200
    assert "Enable cash discount approvals" in parameters.text
    assert client.get(reverse(DISCOUNT_WORKFLOWS)).status_code == 200

    client.force_login(clerk)
    change = reverse("admin:customers_cashdiscount_change", args=[discount.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert page.text.count("Changes to this field need approval.") == 2
    for name in (DISCOUNT_PARAMETERS, DISCOUNT_WORKFLOWS):
        assert client.get(reverse(name), follow=True).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["clerk", "approver", "manager"])
def test_only_approval_administrators_open_the_terms_parameters_and_workflows(
    client, role, request
):
    client.force_login(request.getfixturevalue(role))
    for name in (TERMS_PARAMETERS, TERMS_WORKFLOWS):
        assert client.get(reverse(name), follow=True).status_code == 403
