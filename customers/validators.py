"""Field validators for customer master data."""

from __future__ import annotations

import pycountry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

INVALID_IBAN = _("“%(value)s” is not a valid IBAN: %(reason)s")
INVALID_COUNTRY = _("“%(value)s” is not an ISO 3166 country code, such as NL or DE.")
INVALID_CURRENCY = _(
    "“%(value)s” is not an ISO 4217 currency code, such as EUR or USD."
)


def validate_iban(value: str) -> None:
    try:
        IBAN(value)
    except SchwiftyException as error:
        raise ValidationError(
            INVALID_IBAN,
            code="invalid_iban",
            params={"value": value, "reason": str(error)},
        ) from None


def normalize_iban(value: str) -> str:
    """The IBAN in its compact, upper-case form, as banks and the audit show it."""
    return "".join(value.split()).upper()


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
