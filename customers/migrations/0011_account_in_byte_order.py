"""The account in byte order, so that the customers whose account starts with what was
typed are read as one range of an index, in order (customers.selectors.
customers_by_account_start), whatever the database's collation.

PostgreSQL only; SQLite compares text byte by byte already.
"""

from django.db import migrations

CREATE = """
CREATE INDEX IF NOT EXISTS customers_customer_account_c
    ON customers_customer ((account COLLATE "C"));
"""
DROP = "DROP INDEX IF EXISTS customers_customer_account_c;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("customers", "0010_record_status")]

    operations = [migrations.RunPython(create, drop)]
