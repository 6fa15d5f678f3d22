from __future__ import annotations

import pytest

from customers.models import Customer
from tests.conftest import make_workflow, member, store_around_approval
from workflow import services
from workflow.models import DataEntityBehavior, StepKindChoices

ON_FILE = "+31 20 555 0102"
NEW_IBAN = "DE89370400440532013000"


@pytest.fixture
def verifier(roles):
    return member("verifier", roles["Finance managers"])


@pytest.fixture
def bank_controls(approval_admin, roles, verifier, customer):
    """Bank account, e-mail and phone under approval; a workflow whose only step is a
    call-back verification by the finance managers; the customer's phone on file."""
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=DataEntityBehavior.PROPOSE,
        enabled_fields=["credit_limit", "bank_account", "email", "phone"],
        actor=approval_admin,
    )
    store_around_approval(customer, phone=ON_FILE, email="pay@contoso.example")
    customer.refresh_from_db()
    return make_workflow(
        approval_admin,
        {
            "assigned_group": roles["Finance managers"],
            "kind": StepKindChoices.CALLBACK,
        },
    )
