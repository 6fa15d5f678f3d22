"""Outgoing e-mails: an approval administrator sees every e-mail, which failed and
why, and sends a failed one again; nobody else does."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from tests.conftest import submit
from tests.mailserver import REFUSAL
from tests.pages import page_text
from workflow import services
from workflow.exceptions import NO_PERMISSION, PermissionRefused
from workflow.models import AuditAction, AuditEntry, OutboxMessage, OutboxState

pytestmark = pytest.mark.django_db(transaction=True)

LIST = reverse("admin:workflow_outboxmessage_changelist")


@pytest.fixture
def failed(
    settings, mail_server, customer, clerk, approver, approvals_on, active_workflow
):
    """The e-mail to the approver, refused by the mail server at its only try."""
    settings.OUTBOX_MAX_ATTEMPTS = 1
    mail_server.refusals = 1
    submit(customer, clerk, credit_limit=Decimal("1"))
    message = OutboxMessage.objects.get()
    assert message.state == OutboxState.FAILED
    return message


def send_again_url(message: OutboxMessage) -> str:
    return reverse("admin:workflow_outboxmessage_send_again", args=[message.pk])


def test_the_administrator_sees_the_failed_e_mail_and_why(
    client, approval_admin, failed
):
    client.force_login(approval_admin)
    page = page_text(client.get(LIST, {"state": "failed"}))

    assert "approver@example.com" in page
    assert f"SMTPServerDisconnected: {REFUSAL}" in page
    assert "Failed" in page
    assert "Contoso Retail" in page

    detail = page_text(
        client.get(reverse("admin:workflow_outboxmessage_change", args=[failed.pk]))
    )
    assert "Send again" in detail


def test_a_dutch_administrator_reads_the_outboxs_own_reason_in_dutch(
    client, approval_admin, customer, clerk, approver, approvals_on, active_workflow
):
    approver.email = ""
    approver.save(update_fields=["email"])
    submit(customer, clerk, credit_limit=Decimal("1"))

    client.force_login(approval_admin)
    page = page_text(client.get(LIST, {"state": "failed"}, HTTP_ACCEPT_LANGUAGE="nl"))
    assert "De ontvanger heeft geen e-mailadres." in page
    assert "Mislukt" in page


def test_send_again_sends_it_resets_its_tries_and_is_audited(
    client, approval_admin, failed, mail_server
):
    client.force_login(approval_admin)
    response = client.post(send_again_url(failed), follow=True)

    assert response.status_code == 200
    assert "1 e-mail was put back in the outbox to be sent again." in (
        page_text(response)
    )
    failed.refresh_from_db()
    assert (failed.state, failed.attempts, failed.last_error) == (
        OutboxState.SENT,
        1,
        "",
    )
    assert [m.to for m in mail.outbox] == [["approver@example.com"]]
    entry = AuditEntry.objects.get(action=AuditAction.EMAIL_SENT_AGAIN)
    assert (entry.actor, entry.object_id, entry.old_display, entry.comment) == (
        approval_admin,
        failed.pk,
        f"SMTPServerDisconnected: {REFUSAL}",
        "Sent again after 1 failed try.",
    )


def test_the_selected_failed_e_mails_are_sent_again_from_the_list(
    client, approval_admin, failed
):
    client.force_login(approval_admin)
    client.post(
        LIST,
        {"action": "send_again_selected", "_selected_action": [failed.pk]},
    )

    failed.refresh_from_db()
    assert failed.state == OutboxState.SENT
    assert len(mail.outbox) == 1


def test_an_e_mail_that_did_not_fail_is_not_sent_again(
    client, approval_admin, customer, clerk, approver, approvals_on, active_workflow
):
    submit(customer, clerk, credit_limit=Decimal("1"))
    sent = OutboxMessage.objects.get()
    mail.outbox.clear()

    client.force_login(approval_admin)
    response = client.post(send_again_url(sent), follow=True)

    assert "1 e-mail had not failed and was left as it is." in (page_text(response))
    assert mail.outbox == []
    assert OutboxMessage.objects.get().attempts == 1
    assert not AuditEntry.objects.filter(action=AuditAction.EMAIL_SENT_AGAIN).exists()


def test_an_approver_neither_sees_the_e_mails_nor_sends_one_again(
    client, approver, failed
):
    client.force_login(approver)

    assert client.get(LIST).status_code == 403
    assert client.post(send_again_url(failed)).status_code == 403
    failed.refresh_from_db()
    assert failed.state == OutboxState.FAILED
    assert mail.outbox == []


def test_who_may_only_read_the_list_is_not_offered_send_again_nor_may_post_it(
    client, approver, failed
):
    from django.contrib.auth.models import Permission

    approver.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    client.force_login(approver)

    page = client.get(LIST)
    detail = page_text(
        client.get(reverse("admin:workflow_outboxmessage_change", args=[failed.pk]))
    )
    assert page.status_code == 200
    assert "send_again_selected" not in page.text
    assert "Send again" not in detail
    assert client.post(send_again_url(failed)).status_code == 403
    failed.refresh_from_db()
    assert failed.state == OutboxState.FAILED


def test_the_service_refuses_whoever_lacks_the_permission(approver, failed):
    with pytest.raises(PermissionRefused) as refused:
        services.outbox_messages_send_again(message_ids=[failed.pk], actor=approver)

    assert refused.value.message == str(NO_PERMISSION)
    failed.refresh_from_db()
    assert failed.state == OutboxState.FAILED
