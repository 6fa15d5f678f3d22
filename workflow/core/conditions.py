"""When a step applies, and when a change needs no approval: one small vocabulary.

A condition names a field of the governed model and a test of the proposed change of
that field. Values arrive in their stored (JSON) form: numbers as strings.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import registry
from .facts import StepLike


class ConditionKind(models.TextChoices):
    ALWAYS = "", _("Always")
    CHANGES = "changes", _("the field changes")
    INCREASES = "increases", _("the value increases")
    INCREASES_BY_MORE_THAN_PERCENT = (
        "increases_pct",
        _("the value increases by more than (%)"),
    )
    DECREASES = "decreases", _("the value decreases")
    ABOVE = "above", _("the new value is above")


NUMERIC_KINDS = {
    ConditionKind.INCREASES,
    ConditionKind.INCREASES_BY_MORE_THAN_PERCENT,
    ConditionKind.DECREASES,
    ConditionKind.ABOVE,
}
KINDS_WITH_VALUE = {ConditionKind.INCREASES_BY_MORE_THAN_PERCENT, ConditionKind.ABOVE}
NUMERIC_FIELDS = (
    models.DecimalField,
    models.IntegerField,
    models.FloatField,
)

FIELD_REQUIRED = _("Choose the field this condition is about.")
VALUE_REQUIRED = _("Give the number this condition compares with.")
NOT_NUMERIC = _("%(field)s is not a number, so it cannot increase or decrease.")
FIELD_WITHOUT_KIND = _("Choose what the condition tests, or clear the field.")

Changes = dict[str, tuple[object, object]]


def _number(raw: object) -> Decimal:
    if raw in (None, ""):
        return Decimal(0)
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return Decimal(0)


def condition_holds(
    kind: str, field_name: str, value: Decimal | None, changes: Changes
) -> bool:
    """Whether the condition is true of `changes` (field name -> (original, proposed))."""
    if kind == ConditionKind.ALWAYS:
        return True
    if field_name not in changes:
        return False
    if kind == ConditionKind.CHANGES:
        return True
    original, proposed = (_number(v) for v in changes[field_name])
    if kind == ConditionKind.INCREASES:
        return proposed > original
    if kind == ConditionKind.DECREASES:
        return proposed < original
    if kind == ConditionKind.ABOVE:
        return value is not None and proposed > value
    if kind == ConditionKind.INCREASES_BY_MORE_THAN_PERCENT:
        if proposed <= original:
            return False
        if original <= 0:
            return True
        return (proposed - original) / original * 100 > (value or 0)
    return False


def condition_errors(
    kind: str, field_name: str, value: Decimal | None, governed: registry.GovernedModel
) -> dict[str, str]:
    """What is wrong with a condition as an administrator entered it, by form field."""
    errors: dict[str, str] = {}
    if kind == ConditionKind.ALWAYS:
        if field_name:
            errors["condition_kind"] = str(FIELD_WITHOUT_KIND)
        return errors
    if not field_name:
        errors["condition_field"] = str(FIELD_REQUIRED)
        return errors
    if kind in NUMERIC_KINDS and not isinstance(
        governed.model._meta.get_field(field_name), NUMERIC_FIELDS
    ):
        errors["condition_kind"] = str(
            NOT_NUMERIC % {"field": governed.field_label(field_name)}
        )
    if kind in KINDS_WITH_VALUE and value is None:
        errors["condition_value"] = str(VALUE_REQUIRED)
    return errors


def condition_text(
    kind: str, field_name: str, value: Decimal | None, governed: registry.GovernedModel
) -> str:
    """The condition as a sentence: "Credit limit: the value increases by more than (%) 50"."""
    if kind == ConditionKind.ALWAYS:
        return str(ConditionKind.ALWAYS.label)
    label = governed.field_label(field_name) if field_name else "?"
    text = f"{label}: {ConditionKind(kind).label}"
    return (
        f"{text} {value.normalize():f}"
        if value is not None and kind in KINDS_WITH_VALUE
        else text
    )


def skipped_step_text(step: StepLike, governed: registry.GovernedModel) -> str:
    """The audit comment of a step whose condition does not hold for a proposal."""
    return _(
        "Step “%(step)s” skipped: its condition (%(condition)s) does not hold."
    ) % {
        "step": step,
        "condition": condition_text(
            step.condition_kind, step.condition_field, step.condition_value, governed
        ),
    }
