"""Typing the start of an account finds the customers whose account starts with it, in
account order; a word that starts no account is searched in every field as before."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory

CUSTOMERS = reverse("admin:customers_customer_changelist")
ACCOUNT = re.compile(r'<th class="field-account"><a href="[^"]*">([^<]+)</a></th>')


@pytest.fixture
def book(db):
    for account, name in [
        ("K0990", "Kaasboer"),
        ("K0991", "Kaashandel"),
        ("K1000", "Molen"),
        ("X5", "Partner of K099 and more"),
    ]:
        CustomerFactory(account=account, name=name)


def listed(client, term: str, **params) -> list[str]:
    response = client.get(CUSTOMERS, {"q": term, **params})
    assert response.status_code == 200
    return ACCOUNT.findall(response.content.decode())


@pytest.mark.django_db
def test_the_start_of_an_account_finds_the_accounts_that_start_with_it(
    client, clerk, book
):
    client.force_login(clerk)

    assert listed(client, "K099") == ["K0990", "K0991"]
    assert listed(client, "k099") == ["K0990", "K0991"]
    assert listed(client, "K0991") == ["K0991"]


@pytest.mark.django_db
def test_sorting_by_a_column_is_kept(client, clerk, book):
    client.force_login(clerk)

    # Column 1 is the account, descending.
    assert listed(client, "K099", o="-1") == ["K0991", "K0990"]


@pytest.mark.django_db
def test_a_word_that_starts_no_account_is_searched_in_every_field(client, clerk, book):
    client.force_login(clerk)

    assert listed(client, "aas") == ["K0990", "K0991"]
    assert listed(client, "0990") == ["K0990"]
    assert listed(client, "Y099") == []
