"""Before Approve the approver sees the value the record holds now beside the original
and the proposed one, and a warning with a link to the History when approving would
end in Conflict: asked of the same function the services ask before they write."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tests.conftest import store_around_approval, submit
from workflow import selectors, services
from workflow.exceptions import APPLY_INVALID
from workflow.models import ProposalState


def approve_page(client, customer):
    return client.get(
        reverse("admin:customers_customer_workflow", args=[customer.pk, "approve"])
    )


@pytest.fixture
def pending(customer, clerk, approver, approvals_on, active_workflow):
    return submit(customer, clerk, credit_limit=Decimal("25000"))


@pytest.mark.django_db
def test_the_current_value_stands_beside_original_and_proposed(
    client, customer, approver, pending
):
    client.force_login(approver)

    page = approve_page(client, customer)

    review = page.context["review"]
    assert [
        (line.label, line.original, line.proposed, line.current, line.moved)
        for line in review.lines
    ] == [("Credit limit", "10000.00", "25000.00", "10000.00", False)]
    assert review.conflict == ""
    assert '<th scope="col">Current value</th>' in page.text
    assert "conflict-warning" not in page.text


@pytest.mark.django_db
def test_a_value_changed_since_it_was_proposed_is_warned_of_with_the_history(
    client, customer, approver, pending
):
    store_around_approval(customer, credit_limit=Decimal("15000.00"))
    client.force_login(approver)

    page = approve_page(client, customer)

    review = page.context["review"]
    (line,) = review.lines
    assert (line.current, line.moved) == ("15000.00", True)
    assert review.conflict == (
        "Changed since it was proposed: Credit limit. Approved now, this proposal "
        "would end in Conflict and nothing would be written."
    )
    history = reverse("admin:customers_customer_history", args=[customer.pk])
    assert f'<a href="{history}">See the History</a>' in page.text
    assert "(changed since it was proposed)" in page.text
    # The warning says what the service then does.
    services.proposal_approve(proposal=pending, actor=approver)
    pending.refresh_from_db()
    assert pending.state == ProposalState.CONFLICT


@pytest.mark.django_db
def test_a_record_no_longer_valid_is_warned_of_as_the_service_would_refuse_it(
    customer, approver, pending
):
    store_around_approval(customer, email="not an e-mail")

    review = selectors.proposal_review(pending)

    assert review.conflict == str(APPLY_INVALID) % {
        "errors": "Enter a valid email address."
    }


@pytest.mark.django_db
def test_the_proposed_changes_page_shows_it_to_the_approver(
    client, customer, approver, pending
):
    store_around_approval(customer, credit_limit=Decimal("15000.00"))
    client.force_login(approver)

    page = client.get(
        reverse("admin:customers_customer_proposed_changes", args=[customer.pk])
    )

    assert page.context["review"].conflict.startswith("Changed since it was proposed")
    assert '<td class="current">15000.00' in page.text
