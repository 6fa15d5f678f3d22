"""Terms of payment and cash discounts under approval, as the demo sets them up: the
days (and a discount's percentage) need one finance manager's approval."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from customers.management.commands.seed_demo import FINANCE_MANAGERS
from customers.models import (
    CashDiscount,
    CashDiscountWorkflow,
    PaymentTerms,
    TermsOfPaymentWorkflow,
)
from tests.conftest import member
from tests.factories import CashDiscountFactory, PaymentTermsFactory
from workflow import services
from workflow.models import DataEntityBehavior, WorkflowStep


@pytest.fixture
def manager(roles):
    return member("manager", roles[FINANCE_MANAGERS])


@pytest.fixture
def terms(db) -> PaymentTerms:
    return PaymentTermsFactory(code="Net30", description="Net 30 days", days=30)


@pytest.fixture
def discount(db) -> CashDiscount:
    return CashDiscountFactory(
        code="2D10", description="2% within 10 days", days=10, percentage="2.00"
    )


def approvals_on_for(model, fields: list[str], actor):
    return services.approval_settings_update(
        model=model,
        approvals_enabled=True,
        data_entity_behavior=DataEntityBehavior.PROPOSE,
        enabled_fields=fields,
        actor=actor,
    )


def one_step_for_finance_managers(proxy, model, roles, actor):
    workflow = services.workflow_save(
        workflow=proxy(
            content_type=ContentType.objects.get_for_model(model),
            name=f"{model._meta.verbose_name} change approval",
        ),
        actor=actor,
    )
    services.workflow_step_save(
        step=WorkflowStep(
            workflow=workflow,
            sequence=1,
            name="Finance manager approval",
            assigned_group=roles[FINANCE_MANAGERS],
        ),
        actor=actor,
    )
    services.workflow_activate(workflow=workflow, actor=actor)
    return workflow


@pytest.fixture
def terms_approvals_on(approval_admin):
    return approvals_on_for(PaymentTerms, ["days"], approval_admin)


@pytest.fixture
def terms_workflow(roles, approval_admin):
    return one_step_for_finance_managers(
        TermsOfPaymentWorkflow, PaymentTerms, roles, approval_admin
    )


@pytest.fixture
def discount_approvals_on(approval_admin):
    return approvals_on_for(CashDiscount, ["days", "percentage"], approval_admin)


@pytest.fixture
def discount_workflow(roles, approval_admin):
    return one_step_for_finance_managers(
        CashDiscountWorkflow, CashDiscount, roles, approval_admin
    )


def stored_days(terms: PaymentTerms) -> int:
    return PaymentTerms.objects.values_list("days", flat=True).get(pk=terms.pk)


def stored_discount(discount: CashDiscount) -> tuple[int, Decimal]:
    return CashDiscount.objects.values_list("days", "percentage").get(pk=discount.pk)
