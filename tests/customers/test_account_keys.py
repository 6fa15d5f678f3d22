"""A customer account is one whatever its case, and holds nothing invisible: on the
form, in an import (which finds "c00001" as the customer C00001) and in the database."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from customers.models import ACCOUNT_TAKEN, Customer
from customers.services import customer_create
from customers.validators import ACCOUNT_INVISIBLE_CHARACTER
from tests.factories import CustomerFactory

from .helpers import form_errors, row_errors

INVISIBLE = [
    ("C\u200b00300", "U+200B ZERO WIDTH SPACE", 2),
    ("C00\u200d300", "U+200D ZERO WIDTH JOINER", 4),
    ("C00\u200c300", "U+200C ZERO WIDTH NON-JOINER", 4),
    ("\ufeffC00300", "U+FEFF ZERO WIDTH NO-BREAK SPACE", 1),
    ("C00300\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE", 7),
    ("C00\u2066300", "U+2066 LEFT-TO-RIGHT ISOLATE", 4),
    ("C00\u200f300", "U+200F RIGHT-TO-LEFT MARK", 4),
    ("C00\u00a0300", "U+00A0 NO-BREAK SPACE", 4),
    ("C00\x01300", "U+0001 SOH", 4),
]


def invisible(character: str, position: int) -> str:
    return str(ACCOUNT_INVISIBLE_CHARACTER) % {
        "character": character,
        "position": position,
    }


@pytest.mark.django_db
def test_the_form_refuses_an_account_that_differs_only_in_case(
    client, clerk, customer, add_customer
):
    client.force_login(clerk)

    response = add_customer(account="c00001", name="Contoso again")

    assert response.status_code == 200
    assert form_errors(response) == {"__all__": [str(ACCOUNT_TAKEN)]}
    assert list(Customer.objects.values_list("account", flat=True)) == ["C00001"]


@pytest.mark.django_db
def test_the_form_keeps_the_case_as_typed(client, clerk, customer, add_customer):
    client.force_login(clerk)

    response = add_customer(account="Fab-0300")

    assert response.status_code == 302, form_errors(response)
    assert Customer.objects.filter(account="Fab-0300").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("account", "character", "position"), INVISIBLE)
def test_the_form_refuses_an_account_with_an_invisible_character(
    client, clerk, customer, add_customer, account, character, position
):
    client.force_login(clerk)

    response = add_customer(account=account)

    assert response.status_code == 200
    assert form_errors(response) == {"account": [invisible(character, position)]}
    assert not Customer.objects.exclude(pk=customer.pk).exists()


@pytest.mark.django_db
def test_an_import_finds_the_customer_whatever_the_case_of_its_account(
    clerk, customer, import_csv
):
    report = import_csv("account;name\nc00001;Contoso Retail BV\n", clerk)

    assert report.counts == {"updated": 1}, report.as_dict()
    customer.refresh_from_db()
    assert (customer.account, customer.name) == ("C00001", "Contoso Retail BV")
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_an_import_finds_an_account_with_letters_beyond_ascii_as_written(
    clerk, import_csv
):
    """SQLite's lower() folds ASCII letters only: an account such as "CÄ001" is found
    by its exact spelling, also in a batch beside plain ASCII accounts."""
    umlaut = CustomerFactory(account="CÄ001", name="Müller")
    plain = CustomerFactory(account="C00002", name="Plain")

    report = import_csv("account;name\nCÄ001;Müller GmbH\nc00002;Plain BV\n", clerk)

    assert report.counts == {"updated": 2}, report.as_dict()
    umlaut.refresh_from_db()
    plain.refresh_from_db()
    assert (umlaut.name, plain.name) == ("Müller GmbH", "Plain BV")
    assert Customer.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_import_finds_an_ascii_account_where_the_database_folds_it_otherwise(
    clerk, import_csv, monkeypatch
):
    """Under a Turkish collation the database's lower("CI001") is "cı001", not
    Python's "ci001": the account is found by its exact spelling, not created again
    (which the database would refuse as taken)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE customers_customer "
            'ALTER COLUMN account TYPE varchar(20) COLLATE "tr-x-icu"'
        )
    monkeypatch.setattr(Customer._meta.get_field("account"), "db_collation", "tr-x-icu")
    customer = CustomerFactory(account="CI001", name="Ilse")

    report = import_csv("account;name\nCI001;Ilse BV\n", clerk)

    assert report.counts == {"updated": 1}, report.as_dict()
    customer.refresh_from_db()
    assert customer.name == "Ilse BV"
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_an_import_of_a_stored_account_in_other_case_is_unchanged(
    clerk, customer, import_csv
):
    report = import_csv("account;name\nc00001;Contoso Retail\n", clerk)

    assert report.counts == {"unchanged": 1}, report.as_dict()


@pytest.mark.django_db
def test_an_import_refuses_an_account_twice_in_the_file_in_other_case(
    clerk, customer, import_csv
):
    report = import_csv(
        "account;name;customer_group\nC00300;New;10\nc00300;New again;10\n", clerk
    )

    assert row_errors(report) == [
        (3, "account", "“c00300” appears twice in the file: on line 2 and on line 3.")
    ]
    assert not Customer.objects.filter(account__iexact="C00300").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("account", "character", "position"), INVISIBLE)
def test_an_import_refuses_a_new_account_with_an_invisible_character(
    clerk, customer, import_csv, account, character, position
):
    report = import_csv(f"account;name;customer_group\n{account};New;10\n", clerk)

    assert row_errors(report) == [(2, "account", invisible(character, position))]
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_the_service_refuses_a_nul_in_an_account(clerk, customer):
    """The form refuses NUL itself (Django's "Null characters are not allowed."); a
    script that calls the service gets the account's own message, not a server error."""
    with pytest.raises(ValidationError) as refused:
        customer_create(
            values={
                "account": "C00\x00300",
                "name": "New",
                "customer_group": customer.customer_group,
            },
            actor=clerk,
        )

    assert refused.value.message_dict == {"account": [invisible("U+0000 NUL", 4)]}
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_the_database_refuses_an_account_that_differs_only_in_case(customer):
    """Whatever path writes it: the unique index is on LOWER(account)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        CustomerFactory(account="c00001")

    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_case_blind_matching_leaves_references_to_new_customers_working(
    clerk, customer, import_csv
):
    """A key is found whatever its case; a reference names the account as written."""
    report = import_csv(
        "account;name;customer_group;invoice_account\n"
        "C00300;Head office;10;\n"
        "C00301;Branch;10;C00300\n"
        "c00001;Contoso Retail BV;;C00300\n",
        clerk,
    )

    assert report.counts == {"new": 2, "updated": 1}, report.as_dict()
    head = Customer.objects.get(account="C00300")
    assert Customer.objects.get(account="C00301").invoice_account == head
    customer.refresh_from_db()
    assert (customer.name, customer.invoice_account) == ("Contoso Retail BV", head)
