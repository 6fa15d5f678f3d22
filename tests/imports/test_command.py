"""python manage.py import_customers prints the summary and fails on errors."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from customers.models import Customer


@pytest.mark.django_db
def test_dry_run_prints_the_summary_and_writes_nothing(customer, importer, write_file):
    out = StringIO()
    call_command(
        "import_customers",
        write_file("account;name\nC00001;Renamed\n"),
        user="importer",
        dry_run=True,
        stdout=out,
    )
    assert "1 rows: 0 new, 1 updated" in out.getvalue()
    assert "nothing was written" in out.getvalue()
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"


@pytest.mark.django_db
def test_errors_are_listed_and_the_command_fails(customer, importer, write_file):
    out = StringIO()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command(
            "import_customers",
            write_file("account;name;credit_limit\nC00001;X;1.234,5\n"),
            user="importer",
            stdout=out,
        )
    assert "line 2, column credit_limit, value '1.234,5'" in out.getvalue()


@pytest.mark.django_db
def test_behaviour_option_overrides_the_parameters(
    customer, importer, approval_admin, write_file
):
    from tests.imports.test_behaviours import parameters_say

    parameters_say("allow", approval_admin)
    with pytest.raises(CommandError):
        call_command(
            "import_customers",
            write_file("account;name;credit_limit\nC00001;X;5\n"),
            user="importer",
            behaviour="reject",
            stdout=StringIO(),
        )
    call_command(
        "import_customers",
        write_file("account;name;credit_limit\nC00001;X;5\n"),
        user="importer",
        behaviour="allow",
        stdout=StringIO(),
    )
    assert Customer.objects.get(pk=customer.pk).credit_limit == 5


@pytest.mark.django_db
def test_the_command_cannot_loosen_the_parameters(
    customer, importer, approvals_on, write_file
):
    with pytest.raises(
        CommandError, match="do not let imports change fields under approval"
    ):
        call_command(
            "import_customers",
            write_file("account;name;credit_limit\nC00001;X;5\n"),
            user="importer",
            behaviour="allow",
            stdout=StringIO(),
        )
