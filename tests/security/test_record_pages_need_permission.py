"""A customer's History and Proposed changes pages need a permission on customers:
being staff is not enough."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.conftest import submit
from tests.factories import UserFactory

PAGES = [
    "admin:customers_customer_history",
    "admin:customers_customer_proposed_changes",
]


@pytest.fixture
def pending(customer, clerk, approver, approvals_on, active_workflow):
    return submit(customer, clerk, credit_limit=Decimal("25000"))


@pytest.fixture
def staff_without_customer_permission(db):
    """Staff who may read the audit trail and proposals, but no customer."""
    user = UserFactory(username="outsider")
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="workflow",
            codename__in=["view_auditentry", "view_changeproposal"],
        )
    )
    return user


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_staff_without_customer_permission_is_refused(
    client, customer, pending, staff_without_customer_permission, page
):
    client.force_login(staff_without_customer_permission)

    response = client.get(reverse(page, args=[customer.pk]))

    assert response.status_code == 403
    html = response.content.decode()
    for data in ("Contoso Retail", "C00001", "25000", "25,000"):
        assert data not in html


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_an_approver_with_view_permission_sees_the_page(
    client, customer, pending, approver, page
):
    client.force_login(approver)

    response = client.get(reverse(page, args=[customer.pk]))

    assert response.status_code == 200
    assert "Contoso Retail" in response.content.decode()
