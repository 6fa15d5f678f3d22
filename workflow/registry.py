"""Governed models register here; the engine learns fields and labels only from this.

The engine never imports an app that uses it: an app calls `register()` from its
`AppConfig.ready()` and hands over its model, the fields an admin may put under
approval, and the words its users know (Dynamics 365 calls the customer settings
"Accounts receivable parameters", the vendor ones "Accounts payable parameters").
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from django.db import models
from django.utils.formats import localize
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.contenttypes.models import ContentType

BLANK_DISPLAY = _("(blank)")


@dataclass(frozen=True)
class GovernedModelLabels:
    parameters: Promise | str
    approval_section: Promise | str
    enable_approvals: Promise | str
    workflows: Promise | str
    workflow_type: Promise | str
    approval_step: Promise | str


@dataclass(frozen=True)
class BankDetails:
    """Which fields of a governed model hold its bank account and the facts the
    bank-detail controls read: the phone numbers a call-back may ring (as they were
    before a change), the country an IBAN should match, and the contact fields whose
    change beside the account's is a warning."""

    account_field: str
    callback_phone_fields: tuple[str, ...] = ()
    country_field: str = ""
    contact_fields: tuple[str, ...] = ()
    # The export's column of the verified status; an import ignores it.
    status_column: str = "bank_account_status"


@dataclass(frozen=True)
class GovernedModel:
    model: type[models.Model]
    governable_field_names: tuple[str, ...]
    labels: GovernedModelLabels
    business_key: str = "pk"
    import_required_columns: tuple[str, ...] = ()
    # The proxies of ApprovalSettings and Workflow the model's app shows its parameters
    # and workflows under: their permissions are the ones that allow changing them.
    parameters_proxy: type[models.Model] | None = None
    workflows_proxy: type[models.Model] | None = None
    bank: BankDetails | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def governable_fields(self) -> list[models.Field]:
        return [
            concrete_field(self.model, name) for name in self.governable_field_names
        ]

    def field_label(self, name: str) -> str:
        return capfirst(str(concrete_field(self.model, name).verbose_name))

    def assignee_field_choices(self) -> list[tuple[str, str]]:
        """Fields of the record that point at a user: a step may assign to that user."""
        from django.contrib.auth import get_user_model

        user_model = get_user_model()
        return [
            (f.name, self.field_label(f.name))
            for f in self.model._meta.concrete_fields
            if isinstance(f, models.ForeignKey) and f.related_model is user_model
        ]

    def field_choices(self) -> list[tuple[str, str]]:
        return [(f.name, self.field_label(f.name)) for f in self.governable_fields()]

    def object_repr(self, instance: models.Model) -> str:
        return str(instance)[:200]


_registry: dict[str, GovernedModel] = {}


class NotGoverned(LookupError):
    pass


def _default_governable_fields(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(
        f.name
        for f in model._meta.concrete_fields
        if f.editable and not f.primary_key and not f.unique and not f.auto_created
    )


def register(
    model: type[models.Model],
    *,
    labels: GovernedModelLabels,
    fields: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    business_key: str = "pk",
    import_required_columns: Iterable[str] = (),
    parameters_proxy: type[models.Model] | None = None,
    workflows_proxy: type[models.Model] | None = None,
    bank: BankDetails | None = None,
) -> GovernedModel:
    """Put `model` under the engine. By default every editable field may be governed."""
    excluded = set(exclude)
    names = tuple(fields) if fields is not None else _default_governable_fields(model)
    governed = GovernedModel(
        model=model,
        governable_field_names=tuple(n for n in names if n not in excluded),
        labels=labels,
        business_key=business_key,
        import_required_columns=tuple(import_required_columns),
        parameters_proxy=parameters_proxy,
        workflows_proxy=workflows_proxy,
        bank=bank,
    )
    _registry[model._meta.label_lower] = governed
    return governed


def get(model_or_label: type[models.Model] | models.Model | str) -> GovernedModel:
    label = (
        model_or_label
        if isinstance(model_or_label, str)
        else model_or_label._meta.label_lower
    )
    try:
        return _registry[label]
    except KeyError:
        raise NotGoverned(label) from None


def all_governed() -> list[GovernedModel]:
    return list(_registry.values())


def model_of(content_type: ContentType) -> type[models.Model]:
    """The model a proposal, workflow or import job is about. Their content types
    point at governed models: one whose model is gone is not governed."""
    model = content_type.model_class()
    if model is None:
        raise NotGoverned(f"{content_type.app_label}.{content_type.model}")
    return model


def governed_of(content_type: ContentType) -> GovernedModel:
    return get(model_of(content_type))


def concrete_field(model: type[models.Model], name: str) -> models.Field:
    """The field `name` of `model`. The engine names only concrete fields (governed
    fields, proposed changes, conditions, constraints), never reverse relations, which
    `get_field` may also return."""
    return cast(models.Field, model._meta.get_field(name))


# Values are stored in proposals and audit rows as JSON. These three helpers are the
# only place that knows how a model value becomes JSON and back.


def serialize_value(model_field: models.Field, value: object) -> object:
    """The JSON form of a model value (foreign keys by primary key)."""
    if value is None:
        return None
    if isinstance(model_field, models.ForeignKey):
        return value.pk if isinstance(value, models.Model) else value
    if isinstance(model_field, models.DecimalField) and value != "":
        # One spelling per amount, so "25000" and "25000.00" read and compare the same.
        quantum = decimal.Decimal(1).scaleb(-model_field.decimal_places)
        # A decimal field holds a Decimal, or a number or text from a form or a file.
        number = cast("decimal.Decimal | float | str", value)
        return str(decimal.Decimal(number).quantize(quantum))
    if isinstance(value, (decimal.Decimal, datetime.date, datetime.time)):
        return str(value)
    return value


def deserialize_value(model_field: models.Field, raw: object) -> object:
    """The model value (for a foreign key: its primary key) of a stored JSON value."""
    if raw is None:
        return None
    return model_field.to_python(raw)


def current_value(instance: models.Model, model_field: models.Field) -> object:
    """The JSON form of the value `instance` holds now."""
    return serialize_value(model_field, getattr(instance, model_field.attname))


def values_equal(model_field: models.Field, left: object, right: object) -> bool:
    """Whether two stored values mean the same (so "1000.00" equals "1000")."""
    return deserialize_value(model_field, left) == deserialize_value(model_field, right)


def record_version(instance: models.Model) -> str:
    """A token that changes whenever the record is written (its `updated_at`), or ""."""
    stamp = getattr(instance, "updated_at", None)
    return stamp.isoformat() if stamp else ""


def display_value(
    model_field: models.Field,
    raw: object,
    references: Mapping[object, models.Model] | None = None,
) -> str:
    """How a person reads a stored value: codes of related rows, choice labels, Yes/No.

    `references` are the related rows of a foreign key by primary key, loaded by the
    caller for a whole page at once; without them the row is fetched.
    """
    value = deserialize_value(model_field, raw)
    if value in (None, ""):
        return str(BLANK_DISPLAY)
    if isinstance(model_field, models.ForeignKey):
        if references is not None:
            related = references.get(value)
        else:
            related = model_field.related_model._default_manager.filter(
                pk=value
            ).first()
        return str(related) if related is not None else str(value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    return str(localize(value))
