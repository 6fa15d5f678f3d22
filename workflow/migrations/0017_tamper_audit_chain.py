"""The audit trail's hash chain: its seals and the record of each verification.

Both tables are append-only on PostgreSQL as the audit trail is (0005, 0011): a trigger
refuses UPDATE, DELETE and TRUNCATE whoever asks, and only the owner holds those
privileges (the grants that default privileges gave the application's role are taken
back; deploy/postgres/roles.sql does the same when it runs after this migration).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

TABLES = ("workflow_auditseal", "workflow_auditverification")
FUNCTION = """
CREATE OR REPLACE FUNCTION workflow_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%% is append-only: %% refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""
TRIGGERS = """
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION workflow_append_only();
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
CREATE TRIGGER {table}_no_truncate
    BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION workflow_append_only();
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
        WHERE c.oid = '{table}'::regclass
          AND acl.grantee <> c.relowner
          AND acl.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
    LOOP
        EXECUTE format(
            'REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM %%s CASCADE', grantee
        );
    END LOOP;
END
$revoke$;
"""
DROP = """
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        for table in TABLES:
            schema_editor.execute(TRIGGERS.format(table=table))
            schema_editor.execute(REVOKE.format(table=table))


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(DROP.format(table=table))
        schema_editor.execute("DROP FUNCTION IF EXISTS workflow_append_only()")


class Migration(migrations.Migration):

    dependencies = [
        ('workflow', '0016_resilience_heartbeat'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditSeal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('first_id', models.BigIntegerField(unique=True, verbose_name='first row')),
                ('last_id', models.BigIntegerField(verbose_name='last row')),
                ('never_committed', models.JSONField(blank=True, default=list, verbose_name='ids without a row')),
                ('row_digests', models.BinaryField(verbose_name='row digests')),
                ('previous_link', models.CharField(max_length=64, verbose_name='previous link')),
                ('link', models.CharField(max_length=64, verbose_name='link')),
                ('key_id', models.CharField(blank=True, max_length=16, verbose_name='key')),
                ('scheme', models.PositiveSmallIntegerField(default=1, verbose_name='scheme')),
                ('sealed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='sealed at')),
            ],
            options={
                'verbose_name': 'audit seal',
                'verbose_name_plural': 'audit seals',
                'ordering': ['first_id'],
                'default_permissions': (),
                'constraints': [models.CheckConstraint(condition=models.Q(('last_id__gte', models.F('first_id'))), name='auditseal_range_not_empty')],
            },
        ),
        migrations.CreateModel(
            name='AuditVerification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('started_at', models.DateTimeField(verbose_name='started at')),
                ('finished_at', models.DateTimeField(db_index=True, verbose_name='verified at')),
                ('actor_name', models.CharField(blank=True, max_length=150, verbose_name='verified by')),
                ('intact', models.BooleanField(verbose_name='intact')),
                ('seals_checked', models.PositiveIntegerField(default=0, verbose_name='seals checked')),
                ('rows_checked', models.PositiveBigIntegerField(default=0, verbose_name='rows checked')),
                ('sealed_up_to', models.BigIntegerField(blank=True, null=True, verbose_name='sealed up to row')),
                ('head_link', models.CharField(blank=True, max_length=64, verbose_name='link at the end')),
                ('unsealed_rows', models.PositiveBigIntegerField(default=0, verbose_name='rows not sealed yet')),
                ('break_kind', models.CharField(blank=True, choices=[('row_changed', 'row changed'), ('row_missing', 'row deleted'), ('rows_reordered', 'rows reordered'), ('row_appeared', 'row added afterwards'), ('seal_altered', 'seal changed'), ('seal_broken', 'seal removed or out of order'), ('seal_other_key', 'sealed with another key'), ('head_lost', 'end of the chain lost')], max_length=20, verbose_name='broken link')),
                ('break_seal', models.BigIntegerField(blank=True, null=True, verbose_name='seal')),
                ('break_row', models.BigIntegerField(blank=True, null=True, verbose_name='row')),
                ('break_other_row', models.BigIntegerField(blank=True, null=True, verbose_name='other row')),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='verified by')),
            ],
            options={
                'verbose_name': 'audit trail verification',
                'verbose_name_plural': 'audit trail verifications',
                'ordering': ['-finished_at', '-id'],
                'permissions': [('run_auditverification', 'Can verify the audit trail')],
                'default_permissions': ('view',),
            },
        ),
        migrations.RunPython(create, drop),
    ]
