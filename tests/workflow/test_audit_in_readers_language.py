"""What the audit trail recorded in one language reads in the reader's: the changes of
the approval parameters, the fields of proposed changes on the proposal's page, an
entry's own page, and the names of permissions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation

from customers.models import Customer
from tests.conftest import GOVERNED_FIELDS, submit
from tests.pages import page_text
from workflow import selectors_access, services
from workflow.models import AuditAction, AuditEntry, DataEntityBehavior

NL = {"HTTP_ACCEPT_LANGUAGE": "nl"}


@pytest.fixture
def settings_changed_in_english(approval_admin):
    with translation.override("en"):
        services.approval_settings_update(
            model=Customer,
            approvals_enabled=True,
            data_entity_behavior=DataEntityBehavior.PROPOSE,
            enabled_fields=GOVERNED_FIELDS,
            actor=approval_admin,
        )


@pytest.mark.django_db
def test_changes_of_the_parameters_read_in_dutch_though_written_in_english(
    client, approval_admin, settings_changed_in_english
):
    client.force_login(approval_admin)
    url = reverse("admin:customers_accountsreceivableparameters_changelist")
    text = page_text(client.get(url, follow=True, **NL))

    assert "Velden die goedkeuring vereisen (geen) Kredietlimiet, " in text
    assert "Gedrag van gegevensentiteit Wijzigingen zonder goedkeuring toestaan" in text
    assert "Goedkeuringen van klanten inschakelen Nee Ja" in text
    assert "Fields that need approval" not in text and "Credit limit" not in text

    english = page_text(client.get(url, follow=True))
    assert "Fields that need approval (none) Credit limit, " in english


@pytest.mark.django_db
def test_the_audit_list_and_an_entrys_page_read_in_the_readers_language(
    client, approval_admin, settings_changed_in_english
):
    entry = AuditEntry.objects.get(
        action=AuditAction.SETTINGS_CHANGED, field_name="data_entity_behavior"
    )
    assert entry.field_label == "Data entity behavior"  # as it was written
    client.force_login(approval_admin)

    listed = page_text(
        client.get(reverse("admin:workflow_auditentry_changelist"), **NL)
    )
    assert (
        "Goedkeuringsparameters voor klant Gedrag van gegevensentiteit "
        "Wijzigingen zonder goedkeuring toestaan Wijzigingsvoorstellen maken" in listed
    )
    assert "Approval parameters for customer" not in listed

    own = page_text(
        client.get(reverse("admin:workflow_auditentry_change", args=[entry.pk]), **NL)
    )
    assert "Veld: Gedrag van gegevensentiteit" in own
    assert "Oorspronkelijke waarde: Wijzigingen zonder goedkeuring toestaan" in own
    assert "Nieuwe waarde: Wijzigingsvoorstellen maken" in own
    assert "Data entity behavior" not in own


@pytest.mark.django_db
def test_a_system_comment_on_an_entrys_page_is_in_the_readers_language(
    client, customer, clerk, approver, approvals_on, active_workflow
):
    proposal = submit(customer, clerk, credit_limit=Decimal("12345"))
    started = AuditEntry.objects.get(proposal=proposal, action=AuditAction.STEP_STARTED)
    client.force_login(approver)
    own = page_text(
        client.get(reverse("admin:workflow_auditentry_change", args=[started.pk]), **NL)
    )
    step = active_workflow.steps.get()
    assert f"Opmerking: Stap “{step}” toegewezen aan approver." in own


@pytest.mark.django_db
def test_the_proposals_page_names_fields_and_values_as_the_reader_writes_them(
    client, customer, clerk, approver, approvals_on, active_workflow
):
    proposal = submit(customer, clerk, credit_limit=Decimal("12345"))
    client.force_login(approver)
    text = page_text(
        client.get(
            reverse("admin:workflow_changeproposal_change", args=[proposal.pk]), **NL
        )
    )
    assert "Wijziging voorgesteld Kredietlimiet 10000,00 12345,00" in text


@pytest.mark.django_db
def test_permissions_are_named_in_the_readers_language(client, approval_admin, roles):
    approvers = Group.objects.get(name="Approvers")
    client.force_login(approval_admin)
    text = page_text(
        client.get(reverse("admin:auth_group_change", args=[approvers.pk]), **NL)
    )

    assert "Klanten | klant | Kan klant weergeven" in text
    assert (
        "Goedkeuringsworkflow | werkitem | Kan werkitems goedkeuren of afwijzen" in text
    )
    assert "Can view customer" not in text


@pytest.mark.django_db
def test_a_permission_reads_as_django_names_it_in_english(roles):
    from django.contrib.auth.models import Permission

    for permission in Permission.objects.filter(
        content_type__app_label__in=["customers", "workflow", "auth"]
    ).select_related("content_type"):
        with translation.override("en"):
            assert selectors_access.permission_label(permission) == str(permission)
