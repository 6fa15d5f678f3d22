"""Field validators for customer master data."""

from __future__ import annotations

import re
import unicodedata
import warnings
from typing import NoReturn

import pycountry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from schwifty import IBAN, registry
from schwifty.exceptions import (
    InvalidBBANChecksum,
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidStructure,
    NationalChecksumNotVerified,
    SchwiftyException,
)

from workflow.text import character_label

INVALID_IBAN = _("“%(value)s” is not a valid IBAN: %(reason)s")
IBAN_CHARACTER = _(
    "“%(value)s” is not a valid IBAN: it contains %(character)s, but an IBAN has "
    "only letters and digits (spaces between the groups of four are fine)."
)
IBAN_COUNTRY = _(
    "“%(value)s” is not a valid IBAN: it has to begin with the code of a country "
    "that uses IBANs, such as NL or DE, not “%(code)s”."
)
IBAN_LENGTH = _(
    "“%(value)s” is not a valid IBAN: an IBAN from %(country)s has %(expected)s "
    "characters, this one has %(actual)s."
)
IBAN_FORMAT = _(
    "“%(value)s” is not a valid IBAN: after the country code and two check digits, "
    "an IBAN from %(country)s has %(format)s."
)
IBAN_CHECK_DIGITS = _(
    "“%(value)s” is not a valid IBAN: its check digits (the third and fourth "
    "characters) do not match the rest. Look for a typing error."
)
IBAN_NATIONAL_CHECK = _(
    "“%(value)s” is not a valid IBAN: the account number in it fails the check digit "
    "test of banks in %(country)s. Look for a typing error."
)
INVALID_COUNTRY = _("“%(value)s” is not an ISO 3166 country code, such as NL or DE.")
INVALID_CURRENCY = _(
    "“%(value)s” is not an ISO 4217 currency code, such as EUR or USD."
)
ACCOUNT_INVISIBLE_CHARACTER = _(
    "A customer account cannot contain %(character)s (at position %(position)s): it "
    "cannot be seen or looks like a space, so two accounts would look the same. Type "
    "the account again without it."
)

# The warning says only that a country's national digits cannot be verified; for those
# the IBAN's own check digits are all there is to test. Set once for the process: a
# filter set around each check would cost a tenth of the check, and is not thread-safe.
warnings.filterwarnings("ignore", category=NationalChecksumNotVerified)

# The longest IBAN (34 characters) written in groups of four: what a form takes in.
IBAN_INPUT_MAX_LENGTH = 34 + 8

_IBAN_CHARACTERS = re.compile(r"[A-Z0-9]*")
_BBAN_PART = re.compile(r"(\d+)!?([nace])")


def normalize_iban(value: str) -> str:
    """The IBAN in its compact, upper-case form, as banks and the audit show it."""
    return "".join(value.split()).upper()


def validate_iban(value: str) -> None:
    """A valid IBAN of any country, its national check digits verified where the
    country has them and schwifty knows their algorithm (Belgium, France, Spain,
    Italy, Germany by bank, ...); elsewhere only the IBAN's own check digits."""
    iban = normalize_iban(value)
    if not _IBAN_CHARACTERS.fullmatch(iban):
        odd = next(c for c in iban if not ("A" <= c <= "Z" or "0" <= c <= "9"))
        _refuse(IBAN_CHARACTER, iban, character=character_label(odd))
    try:
        spec = registry.get_iban_spec(iban[:2])
    except InvalidCountryCode:
        _refuse(IBAN_COUNTRY, iban, code=iban[:2])
    country = iban[:2]
    if len(iban) != spec.iban_length:
        _refuse(
            IBAN_LENGTH,
            iban,
            country=country,
            expected=spec.iban_length,
            actual=len(iban),
        )
    try:
        IBAN(iban, validate_bban=True)
    except InvalidStructure:
        if not iban[2:4].isdigit():
            _refuse(IBAN_CHECK_DIGITS, iban)
        _refuse(IBAN_FORMAT, iban, country=country, format=bban_format(spec.bban_spec))
    except InvalidChecksumDigits:
        _refuse(IBAN_CHECK_DIGITS, iban)
    except InvalidBBANChecksum:
        _refuse(IBAN_NATIONAL_CHECK, iban, country=country)
    except SchwiftyException as error:
        _refuse(INVALID_IBAN, iban, reason=str(error))


def bban_format(spec: str) -> str:
    """The IBAN registry's "4!a10!n" in words: "4 letters, 10 digits"."""
    parts: list[list] = []
    for count, kind in _BBAN_PART.findall(spec):
        if parts and parts[-1][1] == kind:
            parts[-1][0] += int(count)
        else:
            parts.append([int(count), kind])
    words = {
        "n": lambda n: ngettext("%(count)s digit", "%(count)s digits", n),
        "a": lambda n: ngettext("%(count)s letter", "%(count)s letters", n),
        "c": lambda n: ngettext(
            "%(count)s letter or digit", "%(count)s letters or digits", n
        ),
        "e": lambda n: ngettext("%(count)s space", "%(count)s spaces", n),
    }
    return ", ".join(words[kind](count) % {"count": count} for count, kind in parts)


def _refuse(message, value: str, **params) -> NoReturn:
    raise ValidationError(
        message, code="invalid_iban", params={"value": value, **params}
    )


def invisible_character(value: str) -> tuple[int, str] | None:
    """The first character of `value` that cannot be seen or passes for a space
    (controls, format characters such as zero-width spaces, joiners, the byte order
    mark and direction marks, and every space but the plain one), with its position."""
    if value.isprintable():
        # The same set in C: Python calls exactly these characters not printable (every
        # code point agrees, tests/customers/test_account_characters.py).
        return None
    for position, character in enumerate(value, start=1):
        category = unicodedata.category(character)
        if category[0] == "C" or category in ("Zl", "Zp"):
            return position, character
        if category == "Zs" and character != " ":
            return position, character
    return None


def validate_account(value: str) -> None:
    """A customer account is a business key people type and read: it may hold no
    character that cannot be seen, or two accounts would look alike."""
    found = invisible_character(value)
    if found is not None:
        position, character = found
        raise ValidationError(
            ACCOUNT_INVISIBLE_CHARACTER,
            code="invisible_character",
            params={"character": character_label(character), "position": position},
        )


def validate_country(value: str) -> None:
    if pycountry.countries.get(alpha_2=value.upper()) is None:
        raise ValidationError(
            INVALID_COUNTRY, code="invalid_country", params={"value": value}
        )


def validate_currency(value: str) -> None:
    if pycountry.currencies.get(alpha_3=value.upper()) is None:
        raise ValidationError(
            INVALID_CURRENCY, code="invalid_currency", params={"value": value}
        )
