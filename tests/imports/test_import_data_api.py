"""CustomerResource().import_data(...), as people script it, follows the data entity
behaviour through the engine: allow writes, reject fails the row, propose proposes."""

from __future__ import annotations

from decimal import Decimal

import pytest
import tablib

from customers.models import Customer
from customers.resources import CustomerResource
from workflow import services
from workflow.exceptions import (
    BEHAVIOUR_NOT_PERMITTED,
    IMPORT_REJECTS,
    NO_ELIGIBLE_APPROVER,
    NO_PERMISSION,
)
from workflow.models import (
    AuditEntry,
    ChangeProposal,
    DataEntityBehavior,
    ProposalState,
    Source,
)
from workflow.resources import IMPORT_NEEDS_USER


def dataset(*rows):
    return tablib.Dataset(*rows, headers=["account", "name", "credit_limit", "city"])


def parameters(admin, behaviour):
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=behaviour,
        enabled_fields=["credit_limit", "bank_account"],
        actor=admin,
    )


def stored(customer):
    return Customer.objects.values_list("credit_limit", "city").get(pk=customer.pk)


@pytest.mark.django_db
def test_reject_fails_the_row_and_writes_nothing(customer, clerk, approval_admin):
    parameters(approval_admin, DataEntityBehavior.REJECT)
    result = CustomerResource().import_data(
        dataset([customer.account, customer.name, "99999.00", "Leiden"]), user=clerk
    )
    assert result.has_validation_errors()
    error = result.invalid_rows[0].error
    assert error.message_dict == {
        "credit_limit": [str(IMPORT_REJECTS % {"field": "Credit limit"})]
    }
    assert stored(customer) == (Decimal("10000.00"), "")
    assert not ChangeProposal.objects.exists()


@pytest.mark.django_db
def test_one_rejected_row_keeps_the_other_rows_out_too(customer, clerk, approval_admin):
    """All or nothing, as every import of the product."""
    parameters(approval_admin, DataEntityBehavior.REJECT)
    other = Customer.objects.create(
        account="C00002", name="Fabrikam", customer_group=customer.customer_group
    )
    result = CustomerResource().import_data(
        dataset(
            [other.account, other.name, "", "Haarlem"],
            [customer.account, customer.name, "99999.00", "Leiden"],
        ),
        user=clerk,
    )
    assert result.has_validation_errors()
    assert Customer.objects.get(pk=other.pk).city == ""


@pytest.mark.django_db
def test_propose_writes_the_rest_and_submits_the_governed_change(
    customer, clerk, approver, approval_admin, active_workflow
):
    parameters(approval_admin, DataEntityBehavior.PROPOSE)
    result = CustomerResource().import_data(
        dataset([customer.account, customer.name, "25000.00", "Leiden"]), user=clerk
    )
    assert not result.has_errors() and not result.has_validation_errors()
    assert stored(customer) == (Decimal("10000.00"), "Leiden")
    proposal = ChangeProposal.objects.get(object_id=customer.pk)
    assert proposal.state == ProposalState.PENDING
    assert proposal.submitted_by == clerk
    assert proposal.changes.get().proposed_value == "25000.00"
    assert AuditEntry.objects.get(action="submitted").source == Source.IMPORT
    assert set(proposal.work_items.values_list("assignee__username", flat=True)) == {
        "approver"
    }


@pytest.mark.django_db
def test_a_dry_run_proposes_nothing(
    customer, clerk, approver, approval_admin, active_workflow
):
    parameters(approval_admin, DataEntityBehavior.PROPOSE)
    result = CustomerResource().import_data(
        dataset([customer.account, customer.name, "25000.00", "Leiden"]),
        user=clerk,
        dry_run=True,
    )
    assert not result.has_errors() and not result.has_validation_errors()
    assert stored(customer) == (Decimal("10000.00"), "")
    assert not ChangeProposal.objects.exists()


@pytest.mark.django_db
def test_allow_writes_where_the_parameters_allow_it(customer, clerk, approval_admin):
    parameters(approval_admin, DataEntityBehavior.ALLOW)
    CustomerResource().import_data(
        dataset([customer.account, customer.name, "25000.00", ""]), user=clerk
    )
    assert stored(customer)[0] == Decimal("25000.00")
    entry = AuditEntry.objects.get(field_name="credit_limit")
    assert (entry.actor, entry.source) == (clerk, Source.IMPORT)


@pytest.mark.django_db
def test_allow_is_refused_where_the_parameters_propose(
    customer, clerk, approval_admin, active_workflow
):
    parameters(approval_admin, DataEntityBehavior.PROPOSE)
    result = CustomerResource().import_data(
        dataset([customer.account, customer.name, "25000.00", ""]),
        user=clerk,
        behaviour=DataEntityBehavior.ALLOW,
    )
    assert result.has_errors()
    assert result.base_errors[0].error.messages == [
        str(BEHAVIOUR_NOT_PERMITTED % {"parameters": "Accounts receivable parameters"})
    ]
    assert stored(customer)[0] == Decimal("10000.00")


@pytest.mark.django_db
def test_an_import_without_a_user_is_refused(customer, approval_admin):
    parameters(approval_admin, DataEntityBehavior.ALLOW)
    result = CustomerResource().import_data(
        dataset([customer.account, customer.name, "25000.00", "Leiden"])
    )
    assert result.has_errors()
    assert result.base_errors[0].error.messages == [str(IMPORT_NEEDS_USER)]
    assert stored(customer) == (Decimal("10000.00"), "")


@pytest.mark.django_db
def test_a_refusal_of_the_engine_is_the_rows_error(
    customer, clerk, approval_admin, active_workflow
):
    """Nobody may approve: the row says so, and nothing is written."""
    parameters(approval_admin, DataEntityBehavior.PROPOSE)
    result = CustomerResource().import_data(
        dataset([customer.account, customer.name, "25000.00", "Leiden"]), user=clerk
    )
    assert result.invalid_rows[0].error.messages == [
        str(NO_ELIGIBLE_APPROVER % {"step": "Step 1"})
    ]
    assert stored(customer) == (Decimal("10000.00"), "")
    assert not ChangeProposal.objects.exists()


@pytest.mark.django_db
def test_a_user_without_the_customer_permissions_imports_nothing(
    customer, approver, approval_admin
):
    parameters(approval_admin, DataEntityBehavior.ALLOW)
    result = CustomerResource().import_data(
        dataset([customer.account, customer.name, "", "Leiden"]), user=approver
    )
    assert result.invalid_rows[0].error.messages == [str(NO_PERMISSION)]
    assert stored(customer) == (Decimal("10000.00"), "")
