"""Change proposals: "My proposals", a link to each proposal's record, and a "By model"
filter that lists the models under approval only."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.urls import reverse

from customers import services as customer_services
from customers.models import CashDiscount, Customer, PaymentTerms
from tests.conftest import propose, submit
from tests.customers.conftest import approvals_on_for
from tests.factories import CustomerFactory, PaymentTermsFactory
from workflow import services

PROPOSALS = reverse("admin:workflow_changeproposal_changelist")
RECORD = re.compile(r'<td class="field-record"><a href="([^"]*)">([^<]+)</a></td>')


def records(response) -> list[str]:
    return sorted(name for _url, name in RECORD.findall(response.content.decode()))


@pytest.fixture
def proposals(clerk, clerk2, approver, approvals_on, active_workflow):
    """C1 proposed by clerk, C2 submitted by clerk, C3 proposed by clerk2."""
    mine = propose(
        CustomerFactory(account="C1", name="One"), clerk, credit_limit=Decimal("1")
    )
    submitted = submit(
        CustomerFactory(account="C2", name="Two"), clerk, credit_limit=Decimal("2")
    )
    theirs = propose(
        CustomerFactory(account="C3", name="Three"), clerk2, credit_limit=Decimal("3")
    )
    return mine, submitted, theirs


@pytest.mark.django_db
def test_my_proposals_lists_only_the_users_own(client, clerk, clerk2, proposals):
    client.force_login(clerk)

    assert records(client.get(PROPOSALS)) == ["C1 One", "C2 Two", "C3 Three"]
    assert records(client.get(PROPOSALS, {"mine": "yes"})) == ["C1 One", "C2 Two"]

    client.force_login(clerk2)
    assert records(client.get(PROPOSALS, {"mine": "yes"})) == ["C3 Three"]
    page = client.get(PROPOSALS).content.decode()
    assert "By proposer" in page
    assert "My proposals" in page


@pytest.mark.django_db
def test_my_proposals_counts_a_proposal_the_user_submitted_for_another(
    client, clerk, clerk2, approver, approvals_on, active_workflow
):
    proposal = propose(
        CustomerFactory(account="C4", name="Four"), clerk2, credit_limit=Decimal("4")
    )
    customer_services.customer_update(
        customer_id=proposal.object_id,
        values={"bank_account": "DE89370400440532013000"},
        actor=clerk,
    )
    services.proposal_submit(proposal=proposal, actor=clerk)
    client.force_login(clerk)

    assert records(client.get(PROPOSALS, {"mine": "yes"})) == ["C4 Four"]


@pytest.mark.django_db
def test_each_proposal_links_to_its_record(client, approval_admin, proposals):
    client.force_login(approval_admin)

    links = dict(
        (name, url)
        for url, name in RECORD.findall(client.get(PROPOSALS).content.decode())
    )

    customers = {c.account: c for c in Customer.objects.all()}
    assert links == {
        f"{account} {customer.name}": reverse(
            "admin:customers_customer_change", args=[customer.pk]
        )
        for account, customer in customers.items()
    }
    assert client.get(links["C1 One"]).status_code == 200


@pytest.mark.django_db
def test_by_model_lists_the_governed_models_only(
    client, clerk, approval_admin, proposals
):
    terms = PaymentTermsFactory(code="Net45", days=45)
    approvals_on_for(PaymentTerms, ["days"], approval_admin)
    customer_services.payment_terms_update(
        payment_terms_id=terms.pk, values={"days": 60}, actor=clerk
    )
    client.force_login(approval_admin)
    page = client.get(PROPOSALS).content.decode()
    by_model = page[page.index("By model") :]
    by_model = by_model[: by_model.index("</details>")]

    choices = re.findall(r'<a href="\?([^"]*)">([^<]+)</a>', by_model)

    ids = {
        model: ContentType.objects.get_for_model(model).pk
        for model in (CashDiscount, Customer, PaymentTerms)
    }
    assert choices == [
        ("", "All"),
        (f"content_type__id__exact={ids[CashDiscount]}", "Cash discounts"),
        (f"content_type__id__exact={ids[Customer]}", "Customers"),
        (f"content_type__id__exact={ids[PaymentTerms]}", "Terms of payment"),
    ]
    for not_governed in ("Sessions", "Permissions", "Tasks", "Audit entries"):
        assert not_governed not in by_model
    terms_only = {"content_type__id__exact": ids[PaymentTerms]}
    assert records(client.get(PROPOSALS, terms_only)) == [str(terms)[:200]]
    customers_only = {"content_type__id__exact": ids[Customer]}
    assert records(client.get(PROPOSALS, customers_only)) == [
        "C1 One",
        "C2 Two",
        "C3 Three",
    ]


@pytest.mark.django_db
def test_by_model_ignores_a_model_that_is_not_governed(
    client, approval_admin, proposals
):
    client.force_login(approval_admin)
    sessions = ContentType.objects.get_for_model(Session).pk

    response = client.get(PROPOSALS, {"content_type__id__exact": sessions})

    assert records(response) == ["C1 One", "C2 Two", "C3 Three"]
