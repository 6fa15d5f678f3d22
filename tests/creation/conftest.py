"""Approval on create: customers whose parameters say new records wait for approval."""

from __future__ import annotations

from decimal import Decimal

import pytest

from customers.models import Customer
from tests.conftest import GOVERNED_FIELDS
from tests.factories import CustomerGroupFactory
from tests.reports.conftest import as_auditor, auditor  # noqa: F401 - fixtures
from workflow import services
from workflow.models import DataEntityBehavior


@pytest.fixture
def creation_needs_approval(approval_admin, active_workflow):
    return services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=DataEntityBehavior.PROPOSE,
        enabled_fields=GOVERNED_FIELDS,
        new_records_need_approval=True,
        actor=approval_admin,
    )


@pytest.fixture
def group(db):
    return CustomerGroupFactory(code="10")


@pytest.fixture
def new_values(group):
    return {
        "account": "C09001",
        "name": "Fabrikam New",
        "customer_group": group,
        "currency": "EUR",
        "credit_limit": Decimal("5000.00"),
        "bank_account": "NL91ABNA0417164300",
        "country": "NL",
    }
