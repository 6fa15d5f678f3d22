"""IBANs as people write them: in groups of four, in any case, from every country,
also the 13 whose grouped form is longer than the 34 characters stored; national check
digits verified; every refusal says what is wrong."""

from __future__ import annotations

from random import Random

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from schwifty import IBAN, registry

from customers.models import Customer
from customers.validators import (
    IBAN_CHARACTER,
    IBAN_CHECK_DIGITS,
    IBAN_COUNTRY,
    IBAN_FORMAT,
    IBAN_LENGTH,
    IBAN_NATIONAL_CHECK,
    validate_iban,
)
from workflow.selectors import open_proposal_for

from .helpers import form_errors, row_errors

# The example IBANs of the SWIFT IBAN registry, written as printed: every SEPA country
# (and Albania, Moldova, Montenegro, North Macedonia and Serbia, which joined SEPA
# lately), then the 13 countries whose grouped IBAN is longer than 34 characters.
SEPA = [
    "AD12 0001 2030 2003 5910 0100",
    "AL47 2121 1009 0000 0002 3569 8741",
    "AT61 1904 3002 3457 3201",
    "BE68 5390 0754 7034",
    "BG80 BNBG 9661 1020 3456 78",
    "CH93 0076 2011 6238 5295 7",
    "CY17 0020 0128 0000 0012 0052 7600",
    "CZ65 0800 0000 1920 0014 5399",
    "DE89 3704 0044 0532 0130 00",
    "DK50 0040 0440 1162 43",
    "EE38 2200 2210 2014 5685",
    "ES91 2100 0418 4502 0005 1332",
    "FI21 1234 5600 0007 85",
    "FR14 2004 1010 0505 0001 3M02 606",
    "GB29 NWBK 6016 1331 9268 19",
    "GI75 NWBK 0000 0000 7099 453",
    "GR16 0110 1250 0000 0001 2300 695",
    "HR12 1001 0051 8630 0016 0",
    "HU42 1177 3016 1111 1018 0000 0000",
    "IE29 AIBK 9311 5212 3456 78",
    "IS14 0159 2600 7654 5510 7303 39",
    "IT60 X054 2811 1010 0000 0123 456",
    "LI21 0881 0000 2324 013A A",
    "LT12 1000 0111 0100 1000",
    "LU28 0019 4006 4475 0000",
    "LV80 BANK 0000 4351 9500 1",
    "MC58 1122 2000 0101 2345 6789 030",
    "MD24 AG00 0225 1000 1310 4168",
    "ME25 5050 0001 2345 6789 51",
    "MK07 2501 2000 0058 984",
    "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
    "NL91 ABNA 0417 1643 00",
    "NO93 8601 1117 947",
    "PL61 1090 1014 0000 0712 1981 2874",
    "PT50 0002 0123 1234 5678 9015 4",
    "RO49 AAAA 1B31 0075 9384 0000",
    "RS35 2600 0560 1001 6113 79",
    "SE45 5000 0000 0583 9825 7466",
    "SI56 1910 0000 0123 438",
    "SK31 1200 0000 1987 4263 7541",
    "SM86 U032 2509 8000 0000 0270 100",
    "VA59 0011 2300 0012 3456 78",
]
LONGER_THAN_THE_COLUMN = [
    "BR18 0000 0000 1414 5512 3924 100C 2",
    "EG38 0019 0005 0000 0000 2631 8000 2",
    "JO94 CBJO 0010 0000 0000 0131 0003 02",
    "KW81 CBKU 0000 0000 0000 1234 5601 01",
    "LC55 HEMM 0001 0001 0012 0012 0002 3015",
    "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
    "MU17 BOMM 0101 1010 3030 0200 000M UR",
    "PS92 PALS 0000 0000 0400 1234 5670 2",
    "QA58 DOHB 0000 1234 5678 90AB CDEF G",
    "RU02 0445 2560 0407 0281 0412 3456 7890 1",
    "SC18 SSCB 1101 0000 0000 0000 1497 USD",
    "UA21 3996 2200 0002 6007 2335 6600 1",
    "YE63 CBYE 0001 0186 1234 5678 9123 45",
]
VALID = sorted(set(SEPA + LONGER_THAN_THE_COLUMN))

# Valid IBANs with one national check digit changed and the IBAN's own check digits
# computed again: the mod-97 test passes, only the country's own test can tell.
WRONG_NATIONAL_CHECK = [
    ("BE41 5390 0754 7035", "BE"),  # BE68 5390 0754 7034, last two digits
    ("FR84 2004 1010 0505 0001 3M02 607", "FR"),  # the RIB key
    ("ES29 2100 0418 4602 0005 1332", "ES"),  # the "DC" digits
    ("IT64 Y054 2811 1010 0000 0123 456", "IT"),  # the CIN letter
    ("DE46 3704 0044 0417 2038 95", "DE"),  # Commerzbank's method 13
    ("PT23 0002 0123 1234 5678 9015 5", "PT"),
    ("NO66 8601 1117 948", "NO"),
    ("FI91 1234 5600 0007 86", "FI"),
]


def compact(iban: str) -> str:
    return iban.replace(" ", "")


def message(template, **params) -> str:
    return str(template) % params


def test_the_long_countries_are_the_ones_longer_than_the_column_when_grouped():
    """The table above holds every country whose grouped IBAN does not fit in 34."""
    countries = registry._default_registry._get("iban")
    longer = sorted(
        code
        for code in countries
        if len(IBAN.random(code, random=Random(0)).formatted) > 34
    )
    assert longer == sorted(iban[:2] for iban in LONGER_THAN_THE_COLUMN)
    assert len(longer) == 13


@pytest.mark.parametrize("country", sorted(registry._default_registry._get("iban")))
def test_every_country_in_groups_of_four_and_small_letters(country):
    """Every country schwifty knows, written grouped and in small letters, is stored
    compact: the length limit counts the IBAN, not the spaces."""
    iban = IBAN.random(country, random=Random(country))
    field = Customer._meta.get_field("bank_account")

    assert field.clean(iban.formatted.lower(), None) == iban.compact


@pytest.mark.django_db
@pytest.mark.parametrize("iban", VALID)
def test_the_form_takes_every_sepa_and_long_iban_as_printed(
    client, clerk, customer, edit_customer, iban
):
    client.force_login(clerk)

    response = edit_customer(customer, bank_account=iban)

    assert response.status_code == 302, form_errors(response)
    customer.refresh_from_db()
    assert customer.bank_account == compact(iban)


@pytest.mark.django_db
def test_the_form_lets_the_browser_take_a_grouped_iban_of_38_characters(
    client, clerk, customer
):
    """A maxlength of 34 would make the browser cut a Maltese IBAN off as it is pasted."""
    client.force_login(clerk)
    page = client.get(reverse("admin:customers_customer_change", args=[customer.pk]))

    assert (
        'name="bank_account" value="NL91ABNA0417164300" class="vTextField" maxlength="42"'
        in page.content.decode()
    )


@pytest.mark.django_db
def test_a_long_iban_under_approval_is_proposed_compact(
    client, clerk, customer, approvals_on, edit_customer
):
    client.force_login(clerk)

    edit_customer(customer, bank_account="mt84 malt 0110 0001 2345 mtlc ast0 01s")

    change = open_proposal_for(customer).changes.get(field_name="bank_account")
    assert change.proposed_value == "MT84MALT011000012345MTLCAST001S"


@pytest.mark.django_db
def test_the_import_takes_every_sepa_and_long_iban_as_printed(
    clerk, customer, import_csv
):
    rows = [
        f"N{number:05d};Customer {number};10;{iban}"
        for number, iban in enumerate(VALID, start=1)
    ]
    text = "account;name;customer_group;bank_account\n" + "\n".join(rows) + "\n"

    report = import_csv(text, clerk)

    assert report.ok, report.as_dict()
    assert report.counts == {"new": len(VALID)}
    stored = dict(
        Customer.objects.filter(account__startswith="N").values_list(
            "account", "bank_account"
        )
    )
    assert stored == {
        f"N{number:05d}": compact(iban) for number, iban in enumerate(VALID, start=1)
    }


@pytest.mark.django_db
def test_the_import_reads_a_grouped_long_iban_of_a_stored_customer_as_unchanged(
    clerk, customer, import_csv
):
    Customer.objects.filter(pk=customer.pk).update(
        bank_account="LC55HEMM000100010012001200023015"
    )

    report = import_csv(
        "account;name;bank_account\n"
        "C00001;Contoso Retail;lc55 hemm 0001 0001 0012 0012 0002 3015\n",
        clerk,
    )

    assert report.counts == {"unchanged": 1}, report.as_dict()


@pytest.mark.parametrize(("iban", "country"), WRONG_NATIONAL_CHECK)
def test_a_wrong_national_check_digit_is_refused_though_mod_97_passes(iban, country):
    IBAN(iban)  # the IBAN's own check digits are right

    with pytest.raises(ValidationError) as refused:
        validate_iban(iban)

    assert refused.value.messages == [
        message(IBAN_NATIONAL_CHECK, value=compact(iban), country=country)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(("iban", "country"), WRONG_NATIONAL_CHECK[:4])
def test_the_form_refuses_a_wrong_national_check_digit(
    client, clerk, customer, edit_customer, iban, country
):
    client.force_login(clerk)

    response = edit_customer(customer, bank_account=iban)

    assert response.status_code == 200
    assert form_errors(response) == {
        "bank_account": [
            message(IBAN_NATIONAL_CHECK, value=compact(iban), country=country)
        ]
    }
    customer.refresh_from_db()
    assert customer.bank_account == "NL91ABNA0417164300"


@pytest.mark.django_db
def test_the_import_refuses_a_wrong_national_check_digit_and_writes_nothing(
    clerk, customer, import_csv
):
    report = import_csv(
        "account;name;bank_account\n"
        "C00001;Contoso Retail;FR84 2004 1010 0505 0001 3M02 607\n"
        "C00300;New;BE41 5390 0754 7035\n",
        clerk,
    )

    assert row_errors(report) == [
        (
            2,
            "bank_account",
            message(
                IBAN_NATIONAL_CHECK, value="FR8420041010050500013M02607", country="FR"
            ),
        ),
        (
            3,
            "bank_account",
            message(IBAN_NATIONAL_CHECK, value="BE41539007547035", country="BE"),
        ),
        (3, "customer_group", "This field cannot be null."),
    ]
    customer.refresh_from_db()
    assert customer.bank_account == "NL91ABNA0417164300"
    assert not Customer.objects.filter(account="C00300").exists()


REFUSALS = [
    (
        "NL91 ABNA 0417 1643 01",
        IBAN_CHECK_DIGITS,
        {"value": "NL91ABNA0417164301"},
    ),
    ("NLAB ABNA 0417 1643 00", IBAN_CHECK_DIGITS, {"value": "NLABABNA0417164300"}),
    (
        "NL91 ABNA 0417 1643 0",
        IBAN_LENGTH,
        {"value": "NL91ABNA041716430", "country": "NL", "expected": 18, "actual": 17},
    ),
    (
        "MT84 MALT 0110 0001 2345 MTLC AST0 01S 1",
        IBAN_LENGTH,
        {
            "value": "MT84MALT011000012345MTLCAST001S1",
            "country": "MT",
            "expected": 31,
            "actual": 32,
        },
    ),
    (
        "XX91 ABNA 0417 1643 00",
        IBAN_COUNTRY,
        {"value": "XX91ABNA0417164300", "code": "XX"},
    ),
    (
        "NL91 1234 0417 1643 00",
        IBAN_FORMAT,
        {
            "value": "NL9112340417164300",
            "country": "NL",
            "format": "4 letters, 10 digits",
        },
    ),
    (
        "NL91\u200bABNA0417164300",
        IBAN_CHARACTER,
        {"value": "NL91\u200bABNA0417164300", "character": "U+200B ZERO WIDTH SPACE"},
    ),
    (
        "NL91-ABNA-0417-1643-00",
        IBAN_CHARACTER,
        {"value": "NL91-ABNA-0417-1643-00", "character": "U+002D HYPHEN-MINUS"},
    ),
]


@pytest.mark.parametrize(("iban", "template", "params"), REFUSALS)
def test_each_refusal_names_the_problem(iban, template, params):
    with pytest.raises(ValidationError) as refused:
        validate_iban(iban)

    assert refused.value.messages == [message(template, **params)]


@pytest.mark.django_db
def test_the_form_says_what_is_wrong_with_a_too_long_iban(
    client, clerk, customer, edit_customer
):
    client.force_login(clerk)

    response = edit_customer(
        customer, bank_account="MT84 MALT 0110 0001 2345 MTLC AST0 01S 1"
    )

    assert form_errors(response) == {
        "bank_account": [
            message(
                IBAN_LENGTH,
                value="MT84MALT011000012345MTLCAST001S1",
                country="MT",
                expected=31,
                actual=32,
            )
        ]
    }
