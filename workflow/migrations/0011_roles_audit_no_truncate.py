"""On PostgreSQL the audit table refuses TRUNCATE too, and only its owner holds the
privileges to UPDATE, DELETE or TRUNCATE it.

The trigger reuses 0005's function, so TRUNCATE is refused with the same message
("workflow_auditentry is append-only: TRUNCATE refused"), also when it arrives by
CASCADE from a table the audit trail refers to. The privileges are revoked from every
other role, including the application's role when default privileges granted it
UPDATE and DELETE as this table was created (deploy/postgres/roles.sql does the same
for grants made after this migration). The owner may still switch the trigger off
deliberately (ALTER TABLE ... DISABLE TRIGGER); the application's role owns nothing
and cannot.
"""

from django.db import migrations

CREATE = """
DROP TRIGGER IF EXISTS workflow_auditentry_no_truncate ON workflow_auditentry;
CREATE TRIGGER workflow_auditentry_no_truncate
    BEFORE TRUNCATE ON workflow_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION workflow_auditentry_append_only();
"""
# Every grantee but the owner, PUBLIC included; CASCADE takes back what they passed on.
REVOKE = """
DO $revoke$
DECLARE
    grantee text;
BEGIN
    FOR grantee IN
        SELECT DISTINCT CASE WHEN acl.grantee = 0 THEN 'PUBLIC'
                             ELSE acl.grantee::regrole::text END
        FROM pg_class AS c, aclexplode(c.relacl) AS acl
        WHERE c.oid = 'workflow_auditentry'::regclass
          AND acl.grantee <> c.relowner
          AND acl.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
    LOOP
        EXECUTE format(
            'REVOKE UPDATE, DELETE, TRUNCATE ON workflow_auditentry FROM %%s CASCADE',
            grantee
        );
    END LOOP;
END
$revoke$;
"""
DROP = """
DROP TRIGGER IF EXISTS workflow_auditentry_no_truncate ON workflow_auditentry;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)
        schema_editor.execute(REVOKE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("workflow", "0010_access_audit_actions")]

    operations = [migrations.RunPython(create, drop)]
