"""Reads of customers: what the customer list's search box finds.

The list searches account, name, city and e-mail by "contains", as Django's admin does,
each by a trigram index on PostgreSQL, and the IBAN by its start, by a b-tree index
(customers/migrations). Two kinds of input are read the way people type them rather
than the way they are stored:

- an IBAN written in groups ("NL91 ABNA 0417 1643 00") is searched compact, as IBANs
  are stored;
- a phone number ("020 555 0102", "+31 20 555 0102", "(020) 555-0102") is searched by
  its digits in the digits of the stored numbers, without the leading 0, 00 or + of a
  trunk or international prefix, so the national and international forms of a number
  find each other where the stored one has its country code written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connections
from django.db.models import CharField, F, Func, OrderBy, Q, QuerySet, Value
from django.db.models.functions import Collate, Concat, Replace
from django.db.models.lookups import Contains

# Up to this many customers found by a search are sorted by account after they are found
# rather than found by walking the account index in order.
FEW_MATCHES = 10_000

# What people put between the digits of a phone number; stripped on both sides.
PHONE_SEPARATORS = (" ", "-", ".", "/", "(", ")", "+")
# Fewer digits than this read as a number to search in every field, not as a phone.
PHONE_MIN_DIGITS = 4

_IBAN_IN_GROUPS = re.compile(
    r"[A-Za-z]{2}[0-9]{2}[A-Za-z0-9]{0,4}(\s+[A-Za-z0-9]{1,4})+"
)
_PHONE = re.compile(r"\+?[0-9 ./()\-]+")
# One word of letters and digits, with at least one of each: perhaps an account's start.
_ACCOUNT_START = re.compile(r"(?=\S*[A-Za-z])(?=\S*[0-9])[A-Za-z0-9._/-]+")


def phone_digits(field: str = "phone") -> Func:
    """The phone number without its separators. The trigram index
    customers_customer_phone_digits_trgm is on exactly this expression."""
    expression: Func | str = field
    for separator in PHONE_SEPARATORS:
        expression = Replace(expression, Value(separator), Value(""))
    assert isinstance(expression, Func)
    return expression


@dataclass(frozen=True)
class CustomerSearch:
    """What to look for: `text` in the searched fields (as Django's admin splits it into
    words), and `phone` (digits, or "") in the phone numbers."""

    text: str
    phone: str = ""


def customer_search(term: str) -> CustomerSearch:
    """How the list reads what was typed in its search box."""
    term = term.strip()
    if _IBAN_IN_GROUPS.fullmatch(term):
        return CustomerSearch(text="".join(term.split()))
    if _PHONE.fullmatch(term):
        digits = "".join(c for c in term if c.isdigit())
        if len(digits) >= PHONE_MIN_DIGITS:
            if term.startswith("+"):
                national = digits
            elif digits.startswith("00"):
                national = digits[2:]
            else:
                national = digits.removeprefix("0")
            # The same digits may be part of an account or an IBAN: search those too,
            # written together.
            return CustomerSearch(text=digits, phone=national)
    return CustomerSearch(text=term)


def phone_matches(digits: str) -> Q:
    """Customers whose phone number holds `digits`, whatever its separators."""
    return Q(Contains(phone_digits(), digits))


def account_order_without_index() -> OrderBy:
    """The account order, as an expression no index provides: the database finds the
    rows by the search's indexes first, then sorts them."""
    return Concat("account", Value(""), output_field=CharField()).asc()


def _account_key(queryset: QuerySet) -> Collate | F:
    """The account in byte order: on PostgreSQL the index customers_customer_account_c
    holds exactly this expression, so a range of it is read in order from the index."""
    if connections[queryset.db].vendor == "postgresql":
        return Collate("account", "C")
    return F("account")  # SQLite compares text byte by byte already.


def account_order(queryset: QuerySet) -> OrderBy:
    return _account_key(queryset).asc()


def customers_by_account_start(queryset: QuerySet, term: str) -> QuerySet | None:
    """The customers whose account starts with `term` (as typed, or in capitals), when
    `term` looks like the start of an account and some account starts with it; None
    otherwise. Read as a range of the account index: as fast in a table of a million
    customers as in one of a hundred thousand, wherever the accounts lie in the order."""
    term = term.strip()
    if not _ACCOUNT_START.fullmatch(term):
        return None
    for start in dict.fromkeys((term, term.upper())):
        # The first string in byte order that does not start with `start`.
        end = start[:-1] + chr(ord(start[-1]) + 1)
        key = _account_key(queryset)
        found = queryset.alias(account_key=key).filter(
            account_key__gte=start, account_key__lt=end
        )
        # The first one in the index's order: one row read, found or not.
        if found.order_by(key.asc()).values("pk")[:1]:
            return found
    return None
