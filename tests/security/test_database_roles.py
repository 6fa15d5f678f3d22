"""The application's database role, made by deploy/postgres/roles.sql as a deployment makes it,
reads and writes the tables but owns none: it cannot wipe the audit trail, nor switch off or
drop its triggers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import psycopg2
import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from psycopg2.errors import InsufficientPrivilege

from customers.models import Customer
from customers.services import customer_update
from workflow.models import AuditEntry, AuditSeal, AuditVerification
from workflow.services import audit_chain as chain_services

ROLES_SQL = settings.BASE_DIR / "deploy" / "postgres" / "roles.sql"

PERMISSION_DENIED = "permission denied for table workflow_auditentry"
NOT_OWNER = "must be owner of table workflow_auditentry"
NOT_RELATION_OWNER = "must be owner of relation workflow_auditentry"
NO_REPLICA = 'permission denied to set parameter "session_replication_role"'
NO_CREATE = "permission denied for schema public"
# roles.sql's refusals, {role} and {owner} filled in.
DOES_TOO_MUCH = "role {role} may do more than the application needs"
MEMBER_OF_OWNER = "role {role} is a member of the owner {owner}"
OWNS_OBJECTS = "role {role} owns database objects"
IS_OWNER = "the application role must not be the owner ({owner})"

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def apply_roles_sql(role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('custapproval.app_role', %s, false)", [role])
        try:
            cursor.execute(ROLES_SQL.read_text())
        finally:
            cursor.execute("RESET custapproval.app_role")


def drop_role(role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone():
            cursor.execute(f"DROP OWNED BY {quoted(role)}")
            cursor.execute(f"DROP ROLE {quoted(role)}")


def database_owner() -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database"
            " WHERE datname = current_database()"
        )
        return cursor.fetchone()[0]


@pytest.fixture
def role_name() -> Iterator[str]:
    """A role name of this test's own: roles belong to the whole server."""
    name = f"ca_app_{uuid.uuid4().hex[:12]}"
    yield name
    drop_role(name)


@pytest.fixture
def app_role(role_name) -> tuple[str, str]:
    apply_roles_sql(role_name)
    password = uuid.uuid4().hex
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER ROLE {quoted(role_name)} PASSWORD %s", [password])
    return role_name, password


@contextmanager
def connected_as(role: tuple[str, str]):
    name, password = role
    database = connection.settings_dict
    app = psycopg2.connect(
        dbname=database["NAME"],
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        user=name,
        password=password,
    )
    app.autocommit = True
    try:
        with app.cursor() as cursor:
            yield cursor
    finally:
        app.close()


def refusal(cursor, statement: str, params=None) -> str:
    with pytest.raises(InsufficientPrivilege) as refused:
        cursor.execute(statement, params)
    return str(refused.value).splitlines()[0]


def acl_snapshot() -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relacl::text FROM pg_class"
            " WHERE relnamespace = 'public'::regnamespace ORDER BY relname"
        )
        tables = cursor.fetchall()
        cursor.execute(
            "SELECT defaclobjtype, defaclacl::text FROM pg_default_acl ORDER BY 1"
        )
        return [tables, cursor.fetchall()]


def triggers_enabled() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger"
            " WHERE tgrelid = 'workflow_auditentry'::regclass AND NOT tgisinternal"
        )
        return dict(cursor.fetchall())


@pytest.fixture
def entry(customer, clerk) -> AuditEntry:
    customer_update(
        customer_id=customer.pk, values={"credit_limit": Decimal("1")}, actor=clerk
    )
    return AuditEntry.objects.latest("id")


def test_the_application_role_reads_and_writes_the_tables(app_role, customer, entry):
    columns = ", ".join(
        field.column
        for field in AuditEntry._meta.concrete_fields
        if not field.primary_key
    )
    with connected_as(app_role) as cursor:
        cursor.execute(
            "SELECT name FROM customers_customer WHERE id = %s", [customer.pk]
        )
        assert cursor.fetchone() == ("Contoso Retail",)
        cursor.execute("INSERT INTO auth_group (name) VALUES ('Auditors') RETURNING id")
        (group_id,) = cursor.fetchone()
        cursor.execute(
            "UPDATE auth_group SET name = 'Readers' WHERE id = %s", [group_id]
        )
        assert Group.objects.get(pk=group_id).name == "Readers"
        cursor.execute("DELETE FROM auth_group WHERE id = %s", [group_id])
        # The audit trail takes new entries.
        cursor.execute(
            f"INSERT INTO workflow_auditentry ({columns})"
            f" SELECT {columns} FROM workflow_auditentry WHERE id = %s",
            [entry.pk],
        )
    assert not Group.objects.filter(pk=group_id).exists()
    assert AuditEntry.objects.filter(object_id=entry.object_id).count() == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE workflow_auditentry SET comment = 'edited'",
        "DELETE FROM workflow_auditentry",
        "TRUNCATE workflow_auditentry",
    ],
)
def test_the_application_role_cannot_change_or_wipe_the_audit_trail(
    app_role, entry, statement
):
    with connected_as(app_role) as cursor:
        assert refusal(cursor, statement) == PERMISSION_DENIED
    assert list(AuditEntry.objects.values_list("pk", "comment")) == [(entry.pk, "")]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "ALTER TABLE workflow_auditentry"
            " DISABLE TRIGGER workflow_auditentry_append_only",
            NOT_OWNER,
        ),
        (
            "ALTER TABLE workflow_auditentry"
            " DISABLE TRIGGER workflow_auditentry_no_truncate",
            NOT_OWNER,
        ),
        ("ALTER TABLE workflow_auditentry DISABLE TRIGGER ALL", NOT_OWNER),
        (
            "ALTER TABLE workflow_auditentry"
            " DISABLE TRIGGER workflow_auditentry_references_exist",
            NOT_OWNER,
        ),
        # Nor let a user the trail names be deleted.
        (
            "ALTER TABLE auth_user DISABLE TRIGGER workflow_audit_actor_kept",
            "must be owner of table auth_user",
        ),
        (
            "DROP TRIGGER workflow_auditentry_append_only ON workflow_auditentry",
            NOT_RELATION_OWNER,
        ),
        (
            "DROP TRIGGER workflow_auditentry_no_truncate ON workflow_auditentry",
            NOT_RELATION_OWNER,
        ),
        ("DROP TABLE workflow_auditentry", NOT_OWNER),
        ("ALTER TABLE workflow_auditentry OWNER TO CURRENT_USER", NOT_OWNER),
        # Nor put a trigger function that lets everything through in its place.
        (
            "CREATE OR REPLACE FUNCTION workflow_auditentry_append_only()"
            " RETURNS trigger AS $$ BEGIN RETURN NULL; END $$ LANGUAGE plpgsql",
            NO_CREATE,
        ),
        # Replica mode skips ordinary triggers; only a superuser may ask for it.
        ("SET session_replication_role = replica", NO_REPLICA),
    ],
)
def test_the_application_role_cannot_switch_off_or_drop_the_audit_triggers(
    app_role, entry, statement, message
):
    with connected_as(app_role) as cursor:
        assert refusal(cursor, statement) == message
    assert triggers_enabled() == {
        "workflow_auditentry_append_only": "O",
        "workflow_auditentry_no_truncate": "O",
        "workflow_auditentry_references_exist": "O",
    }
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (
            "TRUNCATE customers_customer",
            "permission denied for table customers_customer",
        ),
        (
            "ALTER TABLE customers_customer DISABLE TRIGGER ALL",
            "must be owner of table customers_customer",
        ),
        ("DROP TABLE customers_customer", "must be owner of table customers_customer"),
    ],
)
def test_the_application_role_cannot_empty_or_unguard_the_other_tables(
    app_role, customer, statement, message
):
    # The governed tables carry triggers of their own; the same ownership keeps them.
    with connected_as(app_role) as cursor:
        assert refusal(cursor, statement) == message
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_the_application_role_creates_nothing(app_role):
    with connected_as(app_role) as cursor:
        assert refusal(cursor, "CREATE TABLE mine (id int)") == NO_CREATE


def test_tables_of_later_migrations_are_the_application_roles_too(app_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE roles_later"
            " (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, note text)"
        )
    try:
        with connected_as(app_role) as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('roles_later', 'id'))"
            )
            cursor.execute("INSERT INTO roles_later (note) VALUES ('new') RETURNING id")
            (row_id,) = cursor.fetchone()
            cursor.execute("SELECT note FROM roles_later WHERE id = %s", [row_id])
            assert cursor.fetchone() == ("new",)
            assert refusal(cursor, "DROP TABLE roles_later") == (
                "must be owner of table roles_later"
            )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE roles_later")


def test_the_migration_takes_back_what_default_privileges_granted_on_the_audit_trail(
    app_role, entry
):
    # roles.sql before the first migration: the audit table is created with UPDATE and
    # DELETE for the application, as every table. The TRUNCATE migration revokes them.
    with connection.cursor() as cursor:
        cursor.execute(
            "GRANT UPDATE, DELETE, TRUNCATE ON workflow_auditentry"
            f" TO {quoted(app_role[0])}"
        )
    loader = MigrationLoader(connection)
    (migration,) = [
        migration
        for (app_label, name), migration in loader.disk_migrations.items()
        if app_label == "workflow" and name.endswith("_audit_no_truncate")
    ]
    with connection.schema_editor() as schema_editor:
        migration.operations[0].code(apps, schema_editor)
    with connected_as(app_role) as cursor:
        assert refusal(cursor, "DELETE FROM workflow_auditentry") == PERMISSION_DENIED
        assert refusal(cursor, "TRUNCATE workflow_auditentry") == PERMISSION_DENIED
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_roles_sql_changes_nothing_the_second_time(app_role):
    before = acl_snapshot()
    apply_roles_sql(app_role[0])
    assert acl_snapshot() == before


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("CREATE ROLE {role} LOGIN CREATEDB", DOES_TOO_MUCH),
        ("CREATE ROLE {role} LOGIN; GRANT {owner} TO {role}", MEMBER_OF_OWNER),
        (
            "CREATE ROLE {role} LOGIN; CREATE TABLE roles_owned (id int);"
            " ALTER TABLE roles_owned OWNER TO {role}",
            OWNS_OBJECTS,
        ),
    ],
)
def test_roles_sql_refuses_a_role_that_is_more_than_the_application(
    role_name, setup, message
):
    owner = database_owner()
    with connection.cursor() as cursor:
        cursor.execute(setup.format(role=quoted(role_name), owner=quoted(owner)))
    with pytest.raises(DatabaseError) as refused:
        apply_roles_sql(role_name)
    assert str(refused.value).splitlines()[0] == message.format(
        role=role_name, owner=owner
    )


def test_roles_sql_refuses_to_make_the_owner_the_application_role():
    owner = database_owner()
    with pytest.raises(DatabaseError) as refused:
        apply_roles_sql(owner)
    assert str(refused.value).splitlines()[0] == IS_OWNER.format(owner=owner)


# The seals of the audit trail's hash chain and the record of its verifications are
# append-only for the application as the audit trail is.
APPEND_ONLY_CHANGES = [
    ("workflow_auditseal", "UPDATE workflow_auditseal SET link = previous_link"),
    ("workflow_auditseal", "DELETE FROM workflow_auditseal"),
    ("workflow_auditseal", "TRUNCATE workflow_auditseal"),
    (
        "workflow_auditverification",
        "UPDATE workflow_auditverification SET intact = NOT intact",
    ),
    ("workflow_auditverification", "DELETE FROM workflow_auditverification"),
    ("workflow_auditverification", "TRUNCATE workflow_auditverification"),
]


@pytest.fixture
def verified(entry) -> AuditVerification:
    chain_services.audit_trail_seal(wait_seconds=5)
    return chain_services.audit_trail_verify(actor=None)


@contextmanager
def django_connected_as(role: tuple[str, str]):
    """The application's own code, connected as `role` (as docker-compose runs it)."""
    settings_dict = connection.settings_dict
    saved = settings_dict["USER"], settings_dict["PASSWORD"]
    connection.close()
    settings_dict["USER"], settings_dict["PASSWORD"] = role
    try:
        yield
    finally:
        connection.close()
        settings_dict["USER"], settings_dict["PASSWORD"] = saved


def test_the_application_role_seals_and_verifies_the_audit_trail(app_role, entry):
    with django_connected_as(app_role):
        sealing = chain_services.audit_trail_seal(wait_seconds=5)
        verification = chain_services.audit_trail_verify(actor=None)
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            assert cursor.fetchone() == (app_role[0],)
    assert sealing.sealed_up_to == entry.pk
    assert (verification.intact, verification.sealed_up_to) == (True, entry.pk)


@pytest.mark.parametrize(("table", "statement"), APPEND_ONLY_CHANGES)
def test_the_application_role_cannot_change_or_wipe_the_seals_or_verifications(
    app_role, verified, table, statement
):
    with connected_as(app_role) as cursor:
        assert refusal(cursor, statement) == f"permission denied for table {table}"
    assert AuditSeal.objects.count() == 1
    assert list(AuditVerification.objects.values_list("pk", "intact")) == [
        (verified.pk, True)
    ]


def test_the_chain_migration_takes_back_what_default_privileges_granted(
    app_role, verified
):
    with connection.cursor() as cursor:
        cursor.execute(
            "GRANT UPDATE, DELETE, TRUNCATE ON workflow_auditseal,"
            f" workflow_auditverification TO {quoted(app_role[0])}"
        )
    loader = MigrationLoader(connection)
    (migration,) = [
        migration
        for (app_label, name), migration in loader.disk_migrations.items()
        if app_label == "workflow" and name.endswith("_audit_chain")
    ]
    with connection.schema_editor() as schema_editor:
        migration.operations[-1].code(apps, schema_editor)
    with connected_as(app_role) as cursor:
        for table, statement in APPEND_ONLY_CHANGES:
            assert refusal(cursor, statement) == f"permission denied for table {table}"
    assert AuditSeal.objects.count() == 1
