"""The customer list's search finds a customer by city, e-mail, IBAN and phone number
too, an IBAN also written in groups and a phone number written another way."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from customers.selectors import CustomerSearch, customer_search
from tests.factories import CustomerFactory

CUSTOMERS = reverse("admin:customers_customer_changelist")
ACCOUNT = re.compile(r'<th class="field-account"><a href="[^"]*">([^<]+)</a></th>')


@pytest.fixture
def book(db):
    """Three customers that differ in every searched field."""
    CustomerFactory(
        account="C1",
        name="Contoso Retail",
        city="Utrecht",
        email="orders@contoso.nl",
        phone="+31 20 555 0102",
        bank_account="NL91ABNA0417164300",
    )
    CustomerFactory(
        account="C2",
        name="Fabrikam",
        city="'s-Hertogenbosch",
        email="ap@fabrikam.example",
        phone="030-2345678",
        bank_account="DE89370400440532013000",
    )
    CustomerFactory(
        account="C3",
        name="Northwind",
        city="Antwerpen",
        email="info@northwind.be",
        phone="",
        bank_account="BE68539007547034",
    )


def found(client, term: str) -> list[str]:
    response = client.get(CUSTOMERS, {"q": term})
    assert response.status_code == 200
    return sorted(ACCOUNT.findall(response.content.decode()))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("term", "accounts"),
    [
        # City and e-mail in any case and by part, the IBAN by its start.
        ("utrecht", ["C1"]),
        ("Hertogenbosch", ["C2"]),
        ("@northwind.be", ["C3"]),
        ("ORDERS@CONTOSO", ["C1"]),
        ("NL91ABNA0417164300", ["C1"]),
        ("de89370400440532013000", ["C2"]),
        ("DE8937", ["C2"]),
        ("0417164300", []),
        # An IBAN as it is printed on an invoice, in groups, in small letters, or begun.
        ("NL91 ABNA 0417 1643 00", ["C1"]),
        ("de89 3704 0044 0532 0130 00", ["C2"]),
        ("BE68 5390", ["C3"]),
        # A phone number as stored, without its spaces, nationally or with 00.
        ("+31 20 555 0102", ["C1"]),
        ("+31205550102", ["C1"]),
        ("020 555 0102", ["C1"]),
        ("(020) 555-0102", ["C1"]),
        ("0031 20 5550102", ["C1"]),
        ("030 234 56 78", ["C2"]),
        ("2345678", ["C2"]),
        # Account and name still, and words that are in no customer.
        ("c2", ["C2"]),
        ("contoso retail", ["C1"]),
        ("Rotterdam", []),
        ("NL20 INGB 0001 2345 67", []),
        ("010 555 0102", []),
    ],
)
def test_the_search_finds_the_customer(client, clerk, book, term, accounts):
    client.force_login(clerk)

    assert found(client, term) == accounts


@pytest.mark.django_db
def test_the_search_box_says_what_it_searches(client, clerk, book):
    client.force_login(clerk)

    page = client.get(CUSTOMERS).content.decode()

    assert "Search by account, name, city, email, IBAN or phone number." in page


@pytest.mark.parametrize(
    ("typed", "search"),
    [
        ("NL91 ABNA 0417 1643 00", CustomerSearch(text="NL91ABNA0417164300")),
        ("  nl91abna0417164300 ", CustomerSearch(text="nl91abna0417164300")),
        ("020 555 0102", CustomerSearch(text="0205550102", phone="205550102")),
        ("+31 20 555 0102", CustomerSearch(text="31205550102", phone="31205550102")),
        ("0031 20 5550102", CustomerSearch(text="0031205550102", phone="31205550102")),
        # Three digits are too few for a phone number: searched as typed.
        ("123", CustomerSearch(text="123")),
        ("Van der Berg", CustomerSearch(text="Van der Berg")),
        ("B0000123", CustomerSearch(text="B0000123")),
    ],
)
def test_what_is_typed_is_read_as_an_iban_a_phone_number_or_words(typed, search):
    assert customer_search(typed) == search
