from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import translation

from customers.management.commands.seed_demo import (
    APPROVAL_ADMINISTRATORS,
    APPROVERS,
    CLERKS,
    FINANCE_MANAGERS,
    ROLE_PERMISSIONS,
)
from customers.models import AccountsReceivableWorkflow, Customer
from tests.factories import CustomerFactory, UserFactory
from workflow import services
from workflow.core.conditions import ConditionKind
from workflow.enforcement import engine_writes
from workflow.models import AutoApprovalRule, DataEntityBehavior, WorkflowStep

GOVERNED_FIELDS = ["credit_limit", "bank_account", "payment_terms"]
# Tables whose triggers refuse UPDATE, DELETE and TRUNCATE: the audit trail, its seals
# and the record of its verifications.
APPEND_ONLY_TABLES = (
    "workflow_auditentry",
    "workflow_auditseal",
    "workflow_auditverification",
)


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests skip, with the reason, when the suite runs on SQLite."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine:
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (row locks, real concurrency); set DATABASE_URL to run it"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def each_test_starts_in_the_default_language():
    """A request in Dutch leaves Dutch active in the thread (LocaleMiddleware does not
    switch back), so that a later test's messages would be Dutch."""
    yield
    translation.deactivate()


@pytest.fixture(scope="session", autouse=True)
def flush_past_the_audit_truncate_trigger():
    """Transactional tests end in a TRUNCATE of every table, which the audit trail (and
    its seals and verifications) refuse.

    The suite connects as the owner of its scratch database, who may switch its triggers
    off for that one transaction (the application's role may not: it owns nothing).
    """
    from django.conf import settings

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        yield
        return
    from django.db.backends.postgresql.operations import DatabaseOperations

    sql_flush = DatabaseOperations.sql_flush

    def sql_flush_past_the_trigger(self, style, tables, **kwargs):
        statements = sql_flush(self, style, tables, **kwargs)
        guarded = [table for table in APPEND_ONLY_TABLES if table in tables]
        return [
            *[f"ALTER TABLE {table} DISABLE TRIGGER USER" for table in guarded],
            *statements,
            *[f"ALTER TABLE {table} ENABLE TRIGGER USER" for table in guarded],
        ]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(DatabaseOperations, "sql_flush", sql_flush_past_the_trigger)
        yield


def _group(name: str) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    permissions = []
    for dotted in ROLE_PERMISSIONS[name]:
        app_label, codename = dotted.split(".")
        permissions.append(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    group.permissions.set(permissions)
    return group


@pytest.fixture
def roles(db) -> dict[str, Group]:
    return {
        name: _group(name)
        for name in (CLERKS, APPROVERS, FINANCE_MANAGERS, APPROVAL_ADMINISTRATORS)
    }


def member(username: str, group: Group):
    user = UserFactory(username=username)
    user.groups.add(group)
    return user


@pytest.fixture
def clerk(roles):
    return member("clerk", roles[CLERKS])


@pytest.fixture
def clerk2(roles):
    return member("clerk2", roles[CLERKS])


@pytest.fixture
def approver(roles):
    return member("approver", roles[APPROVERS])


@pytest.fixture
def approver2(roles):
    return member("approver2", roles[APPROVERS])


@pytest.fixture
def approval_admin(roles):
    return member("admin", roles[APPROVAL_ADMINISTRATORS])


@pytest.fixture
def customer(db) -> Customer:
    return CustomerFactory(account="C00001", name="Contoso Retail")


@pytest.fixture
def approvals_on(approval_admin):
    return services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=DataEntityBehavior.PROPOSE,
        enabled_fields=GOVERNED_FIELDS,
        actor=approval_admin,
    )


def let_decreases_pass(workflow, actor) -> AccountsReceivableWorkflow:
    """A new version of `workflow` whose rule lets a credit limit decrease through
    without approval (as the demo's does), activated."""
    workflow = services.workflow_copy(
        workflow=workflow, actor=actor, as_new_version=True
    )
    services.auto_approval_rule_save(
        rule=AutoApprovalRule(
            workflow=workflow, field_name="credit_limit", kind=ConditionKind.DECREASES
        ),
        actor=actor,
    )
    return services.workflow_activate(workflow=workflow, actor=actor)


def make_workflow(actor, *steps: dict) -> AccountsReceivableWorkflow:
    workflow = services.workflow_save(
        workflow=AccountsReceivableWorkflow(
            content_type=ContentType.objects.get_for_model(Customer),
            name="Test workflow",
        ),
        actor=actor,
    )
    for sequence, step in enumerate(steps, start=1):
        users = step.pop("users", [])
        saved = services.workflow_step_save(
            step=WorkflowStep(
                workflow=workflow, sequence=sequence, name=f"Step {sequence}", **step
            ),
            actor=actor,
        )
        saved.assigned_users.set(users)
    services.workflow_activate(workflow=workflow, actor=actor)
    return workflow


@pytest.fixture
def active_workflow(roles, approval_admin):
    return make_workflow(approval_admin, {"assigned_group": roles[APPROVERS]})


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def propose(customer, actor, **values):
    """A clerk's edit of `customer`; returns the draft proposal."""
    from customers.services import customer_update

    return customer_update(customer_id=customer.pk, values=values, actor=actor).proposal


def submit(customer, actor, **values):
    """Propose `values` and submit them at once."""
    return services.proposal_submit(
        proposal=propose(customer, actor, **values), actor=actor
    )


def store_around_approval(instance, **values):
    """Store values as a write the parameters allowed at the time would have (approvals
    off then, an import in "allow"): the way a proposed field's value can move, or a
    stored value stop passing today's checks, while a proposal waits."""
    with transaction.atomic(), engine_writes():
        type(instance)._default_manager.filter(pk=instance.pk).update(**values)


@pytest.fixture
def mail_server(settings):
    """A mail server that refuses the next `mail_server.refusals` e-mails."""
    from tests.mailserver import FlakyMailServer

    settings.EMAIL_BACKEND = "tests.mailserver.FlakyMailServer"
    FlakyMailServer.refusals = 0
    yield FlakyMailServer
    FlakyMailServer.refusals = 0


# The folders whose paths write proposals in ways of their own (creation proposals, the
# call-back, the API): after each of their tests the dashboard's tallies must equal a
# full count of the proposal tables.
TALLIES_CHECKED_IN = {"creation", "bank", "api"}


@pytest.fixture(autouse=True)
def dashboard_tallies_stay_true(request):
    if TALLIES_CHECKED_IN.isdisjoint(request.node.path.parent.parts[-1:]):
        yield
        return
    request.getfixturevalue("db")
    from workflow.services.tallies import tallies_counted_from_tables, tallies_stored

    yield
    assert tallies_stored() == tallies_counted_from_tables()
