"""Model fields of customer master data."""

from __future__ import annotations

from django.db import models

from .validators import IBAN_INPUT_MAX_LENGTH, normalize_iban, validate_iban


class IBANField(models.CharField):
    """An IBAN, stored compact and upper-case however it was typed or imported.

    The value is normalised before it is validated, so the length limit applies to
    the compact IBAN: written in groups of four, the longest IBANs (Malta, Saint Lucia,
    Russia, ...) are longer than the column, and the form takes them in that way.
    """

    default_validators = [validate_iban]

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("max_length", 34)
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_iban(value) if isinstance(value, str) else value

    def formfield(self, **kwargs):
        return super().formfield(**{**kwargs, "max_length": IBAN_INPUT_MAX_LENGTH})
