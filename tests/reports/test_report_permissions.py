"""Who sees the audit reports: whoever holds workflow.view_reports, which approval
administrators and auditors do; the Auditors role changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.management.commands.seed_demo import AUDITORS, ROLE_PERMISSIONS
from tests.reports.conftest import REPORTS, report_url
from workflow import selectors_access


@pytest.mark.django_db
@pytest.mark.parametrize("report", ["index", *REPORTS])
def test_auditors_and_approval_administrators_see_every_report(
    client, auditor, approval_admin, report
):
    url = (
        reverse("admin:workflow_auditreport_changelist")
        if report == "index"
        else report_url(report)
    )
    for user in (auditor, approval_admin):
        client.force_login(user)
        assert client.get(url).status_code == 200
        if report != "index":
            assert client.get(url + "?export=csv").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("report", ["index", *REPORTS])
def test_clerks_and_approvers_see_no_report_and_export_nothing(
    client, clerk, approver, report
):
    url = (
        reverse("admin:workflow_auditreport_changelist")
        if report == "index"
        else report_url(report)
    )
    for user in (clerk, approver):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.get(url + "?export=xlsx").status_code == 403


@pytest.mark.django_db
def test_the_index_offers_the_five_reports_under_the_approval_workflow(client, auditor):
    client.force_login(auditor)

    home = client.get(reverse("admin:index")).content.decode()
    index = client.get(reverse("admin:workflow_auditreport_changelist"))

    assert reverse("admin:workflow_auditreport_changelist") in home
    assert "Audit reports" in home
    assert [url for url, _key in index.context["reports"]] == [
        report_url(name) for name in REPORTS
    ]


def test_the_auditors_role_only_views():
    assert ROLE_PERMISSIONS[AUDITORS]
    assert all(
        dotted.split(".")[1].startswith("view_")
        for dotted in ROLE_PERMISSIONS[AUDITORS]
    )


@pytest.mark.django_db
def test_an_approval_administrator_may_make_someone_an_auditor(
    approval_admin, auditor, clerk
):
    """The role grants nothing an approval administrator does not hold."""
    refusal = selectors_access.user_change_refusal(
        actor=approval_admin,
        user=clerk,
        groups=[*clerk.groups.all(), *auditor.groups.all()],
    )

    assert refusal is None
