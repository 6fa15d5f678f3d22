"""The migration that makes accounts unique whatever their case loses no customer: with
accounts that clash (or hold an invisible character) it stops, lists them and changes
nothing; once they are renamed it goes through."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

SUFFIX = "_values_keys_and_text"


def migration_targets():
    """(before, after): the migration is found by its name, whatever its number."""
    loader = MigrationExecutor(connection).loader
    (name,) = [
        name
        for app, name in loader.disk_migrations
        if app == "customers" and name.endswith(SUFFIX)
    ]
    (parent,) = [
        dependency
        for dependency in loader.get_migration("customers", name).dependencies
        if dependency[0] == "customers"
    ]
    return [parent], [("customers", name)]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor


@pytest.mark.django_db(transaction=True)
def test_clashing_accounts_stop_the_migration_and_are_listed():
    before, after = migration_targets()
    executor = migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        customers = apps.get_model("customers", "Customer").objects
        group = apps.get_model("customers", "CustomerGroup").objects.create(code="10")
        for account in ["C00001", "c00001", "C00002", "C\u200b00003"]:
            customers.create(account=account, name=account, customer_group=group)
        hidden = customers.get(account="C\u200b00003").pk

        with pytest.raises(CommandError) as refused:
            migrate(after)

        assert str(refused.value) == (
            "Customer accounts need renaming before this migration can run:\n"
            "These accounts differ only in case; accounts are now unique whatever "
            "their case (at most 50 shown):\n"
            "  C00001 / c00001\n"
            "These accounts hold an invisible character (at most 50 shown):\n"
            f"  'C\\u200b00003' (id {hidden}): U+200B at position 2\n"
            "Nothing was changed. Rename them and run the migration again."
        )
        assert sorted(customers.values_list("account", flat=True)) == [
            "C00001",
            "C00002",
            "C\u200b00003",
            "c00001",
        ]

        customers.filter(account="c00001").update(account="C00011")
        customers.filter(pk=hidden).update(account="C00003")
        migrate(after)

        assert sorted(customers.values_list("account", flat=True)) == [
            "C00001",
            "C00002",
            "C00003",
            "C00011",
        ]
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
