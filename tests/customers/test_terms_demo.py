"""The demo puts the days of terms of payment under a finance manager's approval, and
setting it up again changes nothing."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from customers.models import CashDiscount, PaymentTerms
from workflow import selectors
from workflow.models import AuditAction, AuditEntry, Workflow


@pytest.mark.django_db
def test_the_demo_governs_the_days_of_terms_of_payment_once():
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    call_command("seed_demo", stdout=open(os.devnull, "w"))

    assert selectors.enabled_fields_for(PaymentTerms) == {"days"}
    assert selectors.enabled_fields_for(CashDiscount) == frozenset()
    terms_workflows = Workflow.objects.filter(
        content_type=ContentType.objects.get_for_model(PaymentTerms)
    )
    assert terms_workflows.count() == 1
    workflow = selectors.active_workflow_for(PaymentTerms)
    assert [s.assigned_group.name for s in workflow.steps.all()] == ["Finance managers"]
    assert PaymentTerms.objects.count() == 5
    # Created through the services: each code has its one audit row.
    assert (
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(PaymentTerms),
            action=AuditAction.CREATED,
        ).count()
        == 5
    )
    users = get_user_model().objects
    assert users.get(username="clerk").has_perm("customers.change_paymentterms")
    assert users.get(username="manager").has_perm("workflow.decide_workitem")
    admin = users.get(username="admin")
    assert admin.has_perm("customers.change_termsofpaymentparameters")
    assert not admin.has_perm("workflow.submit_changeproposal")
