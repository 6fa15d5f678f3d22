"""A refused page is the admin's own page saying why, still with status 403."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.pages import PageText
from workflow.admin.denied import NOT_PERMITTED
from workflow.admin.imports import IMPORT_NOT_PERMITTED

NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}


def read(response) -> PageText:
    page = PageText()
    page.feed(response.content.decode())
    return page


@pytest.mark.django_db
def test_an_administrator_who_may_not_import_is_told_why_on_the_admins_page(
    client, approval_admin
):
    client.force_login(approval_admin)
    response = client.get(reverse("admin:customers_customer_import"))

    assert response.status_code == 403
    page = read(response)
    assert page.headings == ["Not permitted"]
    assert (
        "Importing customers needs the permissions to add and to change customers; "
        "you do not have them." in page.text
    )
    assert str(IMPORT_NOT_PERMITTED % {"models": "customers"}) in page.text
    assert "Customer approvals" in page.text  # the site's own header
    assert reverse("admin:index") in page.links
    assert "403 Forbidden" not in page.text

    dutch = read(client.get(reverse("admin:customers_customer_import"), **NL))
    assert dutch.headings == ["Niet toegestaan"]
    assert (
        "Voor het importeren van klanten zijn de rechten nodig om klanten toe te "
        "voegen en te wijzigen; die hebt u niet." in dutch.text
    )


@pytest.mark.django_db
def test_the_import_job_and_confirm_pages_refuse_the_same_way(client, approval_admin):
    client.force_login(approval_admin)
    for response in (
        client.get(reverse("admin:customers_customer_import_job", args=[1])),
        client.post(reverse("admin:customers_customer_import_confirm", args=[1])),
    ):
        assert response.status_code == 403
        assert (
            str(IMPORT_NOT_PERMITTED % {"models": "customers"}) in read(response).text
        )


@pytest.mark.django_db
def test_a_refusal_without_a_reason_gets_the_general_one(client, clerk):
    client.force_login(clerk)
    response = client.get(
        reverse("admin:customers_accountsreceivableparameters_changelist"), follow=True
    )

    assert response.status_code == 403
    page = read(response)
    assert str(NOT_PERMITTED) in page.text
    assert page.headings == ["Not permitted"]


@pytest.mark.django_db
def test_a_clerk_may_still_import(client, clerk):
    client.force_login(clerk)
    assert client.get(reverse("admin:customers_customer_import")).status_code == 200
