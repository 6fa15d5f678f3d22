"""Trigram indexes so that searching 1M customers by account or name does not scan them.

PostgreSQL only, and only where the pg_trgm extension can be had; elsewhere searches
still work, by scanning.
"""

from django.db import migrations

CREATE = """
DO $$ BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pg_trgm is not available: customer searches will scan the table';
END $$;
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS customers_customer_account_trgm
            ON customers_customer USING gin (upper(account) gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS customers_customer_name_trgm
            ON customers_customer USING gin (upper(name) gin_trgm_ops);
    END IF;
END $$;
"""
DROP = """
DROP INDEX IF EXISTS customers_customer_account_trgm;
DROP INDEX IF EXISTS customers_customer_name_trgm;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_export_permissions")]

    operations = [migrations.RunPython(create, drop)]
