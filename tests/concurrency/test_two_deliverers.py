"""Two deliverers of the outbox at once (the task worker and `process_outbox`, or two
workers), each on its own connection, against PostgreSQL: each e-mail goes out once."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core import mail
from django.db import close_old_connections, connection, transaction

from tests.concurrency.test_simultaneous_decisions import run_at_once
from tests.conftest import submit
from tests.threads import held_in_another_thread
from workflow import services
from workflow.models import OutboxEvent, OutboxMessage, OutboxState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MESSAGES = 40


def test_two_deliverers_at_once_send_each_e_mail_once(
    settings, customer, clerk, approver, approvals_on, active_workflow
):
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    # Rows written without their task, as if the worker had been down.
    OutboxMessage.objects.bulk_create(
        OutboxMessage(event=OutboxEvent.ASSIGNED, proposal=proposal, recipient=approver)
        for _ in range(MESSAGES)
    )
    mail.outbox.clear()
    settings.EMAIL_BACKEND = "tests.mailserver.SlowMailServer"

    results = run_at_once(services.outbox_deliver, services.outbox_deliver)

    assert all(isinstance(r, services.OutboxDelivery) for r in results), results
    assert len(mail.outbox) == MESSAGES
    assert sum(r.sent for r in results) == MESSAGES
    assert (
        OutboxMessage.objects.filter(state=OutboxState.SENT, attempts=1).count()
        == MESSAGES + 1
    )


def test_a_deliverer_skips_the_e_mail_another_one_is_sending_instead_of_waiting(
    customer, clerk, approver, approvals_on, active_workflow
):
    proposal = submit(customer, clerk, credit_limit=Decimal("1"))
    first, second = OutboxMessage.objects.bulk_create(
        OutboxMessage(event=OutboxEvent.ASSIGNED, proposal=proposal, recipient=approver)
        for _ in range(2)
    )
    mail.outbox.clear()

    def other_deliverer_sending_the_first(until_released) -> None:
        with transaction.atomic():
            OutboxMessage.objects.select_for_update().get(pk=first.pk)
            until_released()

    done: list[services.OutboxDelivery] = []
    with held_in_another_thread(other_deliverer_sending_the_first):
        this = threading.Thread(
            target=lambda: done.append(_deliver_on_own_connection())
        )
        this.start()
        this.join(timeout=10)
        waited = this.is_alive()
    this.join(timeout=30)

    assert not waited, "the deliverer waited for the row another one holds"
    assert done == [services.OutboxDelivery(sent=1)]
    assert [m.pk for m in OutboxMessage.objects.filter(state=OutboxState.PENDING)] == [
        first.pk
    ]
    second.refresh_from_db()
    assert second.state == OutboxState.SENT


def _deliver_on_own_connection() -> services.OutboxDelivery:
    close_old_connections()
    try:
        return services.outbox_deliver()
    finally:
        connection.close()
