"""Which permissions each action needs, who holds them, and how a refusal becomes the
error a service raises."""

from __future__ import annotations

import pytest

from workflow.core.facts import ActorFacts
from workflow.core.permissions import (
    DECIDE_PERMISSION,
    REASSIGN_PERMISSION,
    SUBMIT_PERMISSION,
    Action,
    definition_permissions,
    record_permission,
    required_permissions,
)
from workflow.core.refusals import Refusal, RefusalKind
from workflow.exceptions import (
    NO_PERMISSION,
    AlreadyDecided,
    NotSubmittable,
    PermissionRefused,
)


@pytest.mark.parametrize(
    ("action", "needed"),
    [
        (Action.CREATE, ("customers.add_customer",)),
        (Action.EDIT, ("customers.change_customer",)),
        (Action.DELETE, ("customers.delete_customer",)),
        (Action.IMPORT, ("customers.add_customer", "customers.change_customer")),
        (Action.EDIT_DRAFT, ("customers.change_customer",)),
        (Action.SUBMIT, ("customers.change_customer", SUBMIT_PERMISSION)),
        (Action.RECALL, ()),
        (Action.REASSIGN, (REASSIGN_PERMISSION,)),
        (Action.APPROVE, (DECIDE_PERMISSION,)),
        (Action.REJECT, (DECIDE_PERMISSION,)),
        (Action.REQUEST_CHANGE, (DECIDE_PERMISSION,)),
        (Action.DELEGATE, (DECIDE_PERMISSION,)),
    ],
)
def test_each_action_needs_these_permissions(action, needed):
    assert required_permissions(action, "customers", "customer") == needed


def test_record_permissions_are_named_by_app_verb_and_model():
    assert record_permission("change", "vendors", "vendor") == "vendors.change_vendor"
    assert required_permissions(Action.EDIT, "vendors", "vendor") == (
        "vendors.change_vendor",
    )


def test_a_person_holds_every_permission_asked_or_none():
    clerk = ActorFacts(user_id=1, permissions=frozenset({"a.x", "a.y"}))

    assert clerk.holds("a.x") is True
    assert clerk.holds("a.x", "a.y") is True
    assert clerk.holds("a.x", "a.z") is False
    assert clerk.holds() is True


def test_a_superuser_holds_all_and_an_inactive_person_none():
    assert ActorFacts(user_id=1, is_superuser=True).holds("a.x") is True
    inactive = ActorFacts(
        user_id=1, is_active=False, permissions=frozenset({"a.x"}), is_superuser=True
    )
    assert inactive.holds("a.x") is False
    assert inactive.holds() is False


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        (RefusalKind.PERMISSION, PermissionRefused),
        (RefusalKind.SEPARATION, PermissionRefused),
        (RefusalKind.ASSIGNMENT, PermissionRefused),
        (RefusalKind.STATE, AlreadyDecided),
        (RefusalKind.INPUT, NotSubmittable),
    ],
)
def test_each_kind_of_refusal_raises_its_error(kind, error):
    raised = Refusal(kind, NO_PERMISSION).error()

    assert type(raised) is error
    assert raised.message == "You do not have permission to do this."
    assert str(Refusal(kind, NO_PERMISSION)) == "You do not have permission to do this."


def test_definition_permissions_are_each_verb_on_each_model_named():
    assert definition_permissions(
        ("add", "change"),
        (("workflow", "workflow"), ("customers", "accountsreceivableworkflow")),
    ) == (
        "workflow.add_workflow",
        "workflow.change_workflow",
        "customers.add_accountsreceivableworkflow",
        "customers.change_accountsreceivableworkflow",
    )
    assert definition_permissions(("change",), ()) == ()
