"""One cell of an import file into one model value, by a documented rule per field type.

- Numbers: one format per import, `point` (1234.56) or `comma` (1234,56); no thousands
  separators, so `1.234,56` is an error, never 1.234 or 123456.
- Yes/no: yes, no, true, false, 1, 0 (also ja, nee).
- Dates: YYYY-MM-DD.
- References: by code (customer groups, terms of payment, ...), by account for a customer,
  by user name for a user.
- A ' that our export added to keep a spreadsheet from running a cell as a formula
  comes off again: one before = + - @ (also full-width), tab, CR or ', at the start of
  the cell or after a separator (see `escape_formula`).
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext as _

# Excel in East Asian locales reads the full-width ＝＋－＠ as = + - @, and their
# small forms fold to the same under NFKC: an escape too many costs a visible ', one
# too few runs a formula.
FORMULA_STARTS = (
    "=",
    "+",
    "-",
    "@",
    "\t",
    "\r",
    "\uff1d",  # ＝ FULLWIDTH EQUALS SIGN
    "\uff0b",  # ＋ FULLWIDTH PLUS SIGN
    "\uff0d",  # － FULLWIDTH HYPHEN-MINUS
    "\uff20",  # ＠ FULLWIDTH COMMERCIAL AT
    "\ufe66",  # ﹦ SMALL EQUALS SIGN
    "\ufe62",  # ﹢ SMALL PLUS SIGN
    "\ufe63",  # ﹣ SMALL HYPHEN-MINUS
    "\ufe6b",  # ﹫ SMALL COMMERCIAL AT
)
NUMBER_PATTERNS = {
    "point": (re.compile(r"^-?\d+(\.\d+)?$"), "1234.56"),
    "comma": (re.compile(r"^-?\d+(,\d+)?$"), "1234,56"),
}
INTEGER = re.compile(r"^-?\d+$")
TRUE_WORDS = {"yes", "true", "1", "ja", "y", "j"}
FALSE_WORDS = {"no", "false", "0", "nee", "n"}


class CellError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


ESCAPED_STARTS = (*FORMULA_STARTS, "'")
# Where a spreadsheet may begin a cell inside our text: our CSV separates by comma and
# quotes a cell that holds one, but Excel with a Dutch (or German, French, ...) list
# separator splits the lines on ; and does not see those quotes, so "a;=1+1" would
# become a cell "=1+1". Quoting every cell would not help for the same reason; a '
# before the formula character does, in every dialect. Line breaks count too: a quoted
# cell's line break ends the row where the quotes are not seen.
_SEPARATORS = ",;\t\r\n"
_STARTS = re.escape("".join(ESCAPED_STARTS))
# At the start of the text or after a separator, spaces allowed in between.
_AT_CELL_START = f"(?<![^{_SEPARATORS}])( *)"
_ESCAPE = re.compile(f"{_AT_CELL_START}(?=[{_STARTS}])")
_UNESCAPE = re.compile(f"{_AT_CELL_START}'(?=[{_STARTS}])")


def escape_formula(value: str) -> str:
    """The text as an export writes it: a formula character (or a ') where a
    spreadsheet in any dialect may start a cell gets a ' before it."""
    return _ESCAPE.sub(r"\1'", value)


def unescape_formula(value: str) -> str:
    """The inverse of `escape_formula`: exactly the ' it added come off."""
    if "'" not in value:
        return value  # Nothing was added: most cells, and no regular expression.
    return _UNESCAPE.sub(r"\1", value)


def is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def lookup_field_of(
    model_field: models.ForeignKey, business_keys: dict[type, str]
) -> str:
    """Which field of the related model an import names a reference by."""
    related = model_field.related_model
    if related is get_user_model():
        return related.USERNAME_FIELD
    if related in business_keys:
        return business_keys[related]
    names = {f.name for f in related._meta.get_fields()}
    return "code" if "code" in names else related._meta.pk.name


def parse_cell(
    model_field: models.Field, raw: object, *, decimal_format: str
) -> object:
    """The value of a non-blank cell for `model_field` (a foreign key: its code, as text)."""
    return _converter(model_field, decimal_format)(_unescaped(raw))


def cell_parser(
    model_field: models.Field, *, decimal_format: str
) -> Callable[[object], object]:
    """`parse_cell` for one column, the kind of its field worked out once: an import
    parses the cells of a column a million times."""
    convert = _converter(model_field, decimal_format)
    return lambda raw: convert(_unescaped(raw))


def _unescaped(raw: object) -> object:
    return unescape_formula(raw.strip()) if isinstance(raw, str) else raw


def _converter(
    model_field: models.Field, decimal_format: str
) -> Callable[[object], object]:
    if isinstance(model_field, models.BooleanField):
        return _boolean
    if isinstance(model_field, models.DecimalField):
        return functools.partial(_decimal, decimal_format=decimal_format)
    if isinstance(model_field, (models.IntegerField,)) and not isinstance(
        model_field, models.ForeignKey
    ):
        return _integer
    if isinstance(model_field, models.DateField) and not isinstance(
        model_field, models.DateTimeField
    ):
        return _date
    return _text


def _text(raw: object) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def _boolean(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(_("“%(value)s” is not yes or no.") % {"value": raw})


def _decimal(raw: object, decimal_format: str) -> Decimal:
    if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool):
        return Decimal(str(raw))
    pattern, example = NUMBER_PATTERNS[decimal_format]
    text = str(raw)
    if not pattern.match(text):
        raise CellError(
            _(
                "“%(value)s” is not a number written as %(example)s (no thousands separators)."
            )
            % {"value": text, "example": example}
        )
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise CellError(_("“%(value)s” is not a number.") % {"value": text}) from None


def _integer(raw: object) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    text = str(raw)
    if not INTEGER.match(text):
        raise CellError(_("“%(value)s” is not a whole number.") % {"value": text})
    return int(text)


def _date(raw: object) -> datetime.date:
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    try:
        return datetime.date.fromisoformat(str(raw))
    except ValueError:
        raise CellError(
            _("“%(value)s” is not a date written as YYYY-MM-DD.") % {"value": raw}
        ) from None
