"""Indexes so that searching 1M customers by city, e-mail, IBAN or phone does not scan
them, as 0004 does for account and name.

PostgreSQL only. City and e-mail are searched by "contains", by trigram indexes, only
where the pg_trgm extension can be had (elsewhere those searches scan); the phone
likewise, on the number's digits, on exactly the expression
customers.selectors.phone_digits() writes. The IBAN is searched by its start, by a
b-tree index: a part in the middle would have trigrams that many IBANs share.
"""

from django.db import migrations

CREATE = """
CREATE INDEX IF NOT EXISTS customers_customer_bank_account_prefix
    ON customers_customer (upper(bank_account) text_pattern_ops);
DO $$ BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pg_trgm is not available: customer searches will scan the table';
END $$;
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS customers_customer_city_trgm
            ON customers_customer USING gin (upper(city) gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS customers_customer_email_trgm
            ON customers_customer USING gin (upper(email) gin_trgm_ops);
        CREATE INDEX IF NOT EXISTS customers_customer_phone_digits_trgm
            ON customers_customer USING gin ((
                replace(replace(replace(replace(replace(replace(replace(
                    phone, ' ', ''), '-', ''), '.', ''), '/', ''), '(', ''), ')', ''),
                    '+', '')
            ) gin_trgm_ops);
    END IF;
END $$;
"""
DROP = """
DROP INDEX IF EXISTS customers_customer_city_trgm;
DROP INDEX IF EXISTS customers_customer_email_trgm;
DROP INDEX IF EXISTS customers_customer_bank_account_prefix;
DROP INDEX IF EXISTS customers_customer_phone_digits_trgm;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_values_keys_and_text")]

    operations = [migrations.RunPython(create, drop)]
