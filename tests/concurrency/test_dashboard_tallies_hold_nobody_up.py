"""The dashboard's tallies are kept in the transaction that changes a proposal; a long
one (an import of a large file) must not hold up anyone else's submit or decision."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection, transaction

from tests.conftest import submit
from tests.factories import CustomerFactory
from tests.threads import held_in_another_thread
from workflow import selectors_dashboard
from workflow.services.tallies import tallies_counted_from_tables, tallies_stored

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_submit_does_not_wait_for_an_open_transaction_that_submitted_too(
    clerk, approver, approvals_on, active_workflow
):
    first, second = CustomerFactory(), CustomerFactory()
    outcome: dict[str, object] = {}

    def long_transaction(until_released) -> None:
        with transaction.atomic():
            submit(first, clerk, credit_limit=Decimal("91000"))
            until_released()

    def quick_submit() -> None:
        close_old_connections()
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    # Waiting on a lock would fail here rather than hang.
                    cursor.execute("SET LOCAL lock_timeout = '3s'")
                submit(second, clerk, credit_limit=Decimal("92000"))
            outcome["result"] = "submitted"
        except Exception as error:  # noqa: BLE001 - the test reports it
            outcome["result"] = error
        finally:
            connection.close()

    with held_in_another_thread(long_transaction):
        other = threading.Thread(target=quick_submit)
        other.start()
        other.join(timeout=30)

    assert outcome["result"] == "submitted"
    assert tallies_stored() == tallies_counted_from_tables()
    assert selectors_dashboard.open_proposals(now=first.updated_at).total == 2
