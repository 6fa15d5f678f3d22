"""A call-back step cannot be passed by approving it through the REST API: the call is
recorded on the page, and a plain approve is refused there as everywhere."""

from __future__ import annotations

import pytest

from tests.api.conftest import token_client
from tests.bank.conftest import NEW_IBAN
from tests.conftest import submit
from workflow.models import ProposalState, WorkItem

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["proposals", "work-items"])
def test_approving_a_call_back_step_through_the_api_is_refused(
    customer, clerk, verifier, bank_controls, path
):
    proposal = submit(customer, clerk, bank_account=NEW_IBAN)
    item = WorkItem.objects.get(proposal=proposal, assignee=verifier)
    target = proposal.pk if path == "proposals" else item.pk

    response = token_client(verifier).post(
        f"/api/v1/{path}/{target}/approve/", {"comment": "Looks fine"}, format="json"
    )

    assert response.status_code == 409
    assert "record the call" in response.json()["detail"]
    proposal.refresh_from_db()
    customer.refresh_from_db()
    assert proposal.state == ProposalState.PENDING
    assert customer.bank_account != NEW_IBAN
