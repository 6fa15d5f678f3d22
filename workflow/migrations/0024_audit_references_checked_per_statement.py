"""On PostgreSQL the audit trail's references (who, which model, which proposal) are
checked once per statement, not once per row, with the same guarantees.

A foreign key checks each inserted row by itself: for the 230,000 audit rows of a
100,000-row import, 690,000 lookups of the same user, the same model and a few
thousand proposals (about 1.8 s of the server's work on 2 cores). Here a trigger
after each INSERT or COPY locks every *distinct* row its audit rows name FOR KEY SHARE,
as a foreign key's check does (so that no one can delete it until the transaction
ends), and refuses the statement, as a foreign-key violation, when one is not there.
The other side is kept by triggers on the named tables: a DELETE of a row the audit
trail names, or a change of its key, is refused as a foreign key refuses it (a
transaction that deletes such a row first waits for any transaction that locked it,
then looks), and so is a TRUNCATE of the table while the audit table's own guard
against TRUNCATE is on (its owner switches that off deliberately, as the test suite and
the benchmark do to empty every table together). A foreign key also sees, in a
REPEATABLE READ or SERIALIZABLE transaction, the rows committed after its snapshot; a
trigger cannot, so those refuse every DELETE, key change and TRUNCATE of the named
tables (the application works in READ COMMITTED).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

AUDIT_TABLE = "workflow_auditentry"
REFERENCES = ("actor", "content_type", "proposal")


def _referenced(apps):
    """(column, table, key column, short name) of each reference of the audit trail."""
    audit = apps.get_model("workflow", "AuditEntry")
    found = []
    for name in REFERENCES:
        field = audit._meta.get_field(name)
        target = field.related_model._meta
        found.append((field.column, target.db_table, target.pk.column, name))
    return found


def _statement_check(references) -> str:
    # One pass over the statement's rows gathers the distinct rows each reference
    # names; each is then locked and counted by its key.
    gathered = ",\n           ".join(
        f"array_agg(DISTINCT {column}) FILTER (WHERE {column} IS NOT NULL)"
        for column, _table, _key, _name in references
    )
    names = ", ".join(f"named_{name}" for _column, _table, _key, name in references)
    declared = "".join(
        f"\n    named_{name} bigint[];" for _column, _table, _key, name in references
    )
    checks = []
    for column, table, key, name in references:
        checks.append(
            f"""
    IF named_{name} IS NOT NULL THEN
        SELECT count(*) INTO found FROM (
            SELECT 1 FROM {table} WHERE {key} = ANY(named_{name}) FOR KEY SHARE
        ) AS locked;
        IF found < cardinality(named_{name}) THEN
            SELECT min(n)::text INTO missing FROM unnest(named_{name}) AS n
             WHERE NOT EXISTS (SELECT 1 FROM {table} AS t WHERE t.{key} = n);
            RAISE EXCEPTION 'insert or update on table "{AUDIT_TABLE}" violates foreign key constraint "{AUDIT_TABLE}_{column}_exists"'
                USING ERRCODE = 'foreign_key_violation',
                      DETAIL = format('Key ({column})=(%%s) is not present in table "{table}".', missing);
        END IF;
    END IF;"""
        )
    return f"""
CREATE OR REPLACE FUNCTION {AUDIT_TABLE}_references_exist() RETURNS trigger AS $$
DECLARE{declared}
    found bigint;
    missing text;
BEGIN
    SELECT {gathered}
      INTO {names} FROM inserted;{"".join(checks)}
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {AUDIT_TABLE}_references_exist ON {AUDIT_TABLE};
CREATE TRIGGER {AUDIT_TABLE}_references_exist
    AFTER INSERT ON {AUDIT_TABLE} REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION {AUDIT_TABLE}_references_exist();
"""


def _kept(column, table, key, name) -> str:
    function = f"workflow_audit_{name}_kept"
    return f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
BEGIN
    -- Under snapshot isolation the checks below could miss audit rows committed
    -- after the transaction's snapshot was taken (a foreign key checks those with a
    -- snapshot of its own, which a trigger cannot take): refused there.
    IF current_setting('transaction_isolation') IN ('repeatable read', 'serializable') THEN
        RAISE EXCEPTION '%% on table "{table}" refused in a %% transaction: the audit trail''s references to it are checked in READ COMMITTED transactions only',
            TG_OP, upper(current_setting('transaction_isolation'))
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        IF EXISTS (
            SELECT 1 FROM pg_trigger
             WHERE tgrelid = '{AUDIT_TABLE}'::regclass
               AND tgname = '{AUDIT_TABLE}_no_truncate' AND tgenabled <> 'D'
        ) AND EXISTS (SELECT 1 FROM {AUDIT_TABLE} WHERE {column} IS NOT NULL) THEN
            RAISE EXCEPTION 'cannot truncate table "{table}": the audit trail names its rows'
                USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM {AUDIT_TABLE} WHERE {column} = OLD.{key}) THEN
        RAISE EXCEPTION 'update or delete on table "{table}" violates foreign key constraint "{AUDIT_TABLE}_{column}_exists" on table "{AUDIT_TABLE}"'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('Key ({key})=(%%s) is still referenced from table "{AUDIT_TABLE}".', OLD.{key});
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {function} ON {table};
CREATE TRIGGER {function}
    BEFORE DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {function}();
DROP TRIGGER IF EXISTS {function}_key ON {table};
CREATE TRIGGER {function}_key
    BEFORE UPDATE OF {key} ON {table} FOR EACH ROW
    WHEN (OLD.{key} IS DISTINCT FROM NEW.{key}) EXECUTE FUNCTION {function}();
DROP TRIGGER IF EXISTS {function}_truncate ON {table};
CREATE TRIGGER {function}_truncate
    BEFORE TRUNCATE ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    references = _referenced(apps)
    schema_editor.execute(_statement_check(references))
    for reference in references:
        schema_editor.execute(_kept(*reference))


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"DROP TRIGGER IF EXISTS {AUDIT_TABLE}_references_exist ON {AUDIT_TABLE}; "
        f"DROP FUNCTION IF EXISTS {AUDIT_TABLE}_references_exist();"
    )
    for _column, table, _key, name in _referenced(apps):
        function = f"workflow_audit_{name}_kept"
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {function} ON {table}; "
            f"DROP TRIGGER IF EXISTS {function}_key ON {table}; "
            f"DROP TRIGGER IF EXISTS {function}_truncate ON {table}; "
            f"DROP FUNCTION IF EXISTS {function}();"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("workflow", "0023_dashboard_tallies"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The checks are in place before the constraints go (one transaction).
        migrations.RunPython(create, drop),
        migrations.AlterField(
            model_name="auditentry",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="who",
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="content_type",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="contenttypes.contenttype",
                verbose_name="model",
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="proposal",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="audit_entries",
                to="workflow.changeproposal",
                verbose_name="proposal",
            ),
        ),
    ]
