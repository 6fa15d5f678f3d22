"""Whether proposed values still apply to the record: nothing moved, and the whole
record with them passes the model's validation."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import models

from ..registry import concrete_field

Equal = Callable[[str, object, object], bool]


def moved_fields(
    originals: Mapping[str, object], current: Mapping[str, object], equal: Equal
) -> list[str]:
    """The fields whose value is no longer the one the change was proposed against."""
    return [
        name
        for name, original in originals.items()
        if not equal(name, current[name], original)
    ]


def record_problems(
    candidate: models.Model,
    changed: Iterable[str],
    *,
    references_resolved: Iterable[str] = (),
    uniqueness_checked: bool = False,
) -> dict[str, list[str]]:
    """What is wrong with `candidate` (a record with the changed values set), checked as
    a whole: a stored value that no longer passes fails the change, whichever path
    makes it. Field name -> messages; {} when the record is valid.

    References that do not change point at rows that cannot be deleted while used, and
    `references_resolved` were looked up by the caller for a whole batch: neither is
    fetched again, but a required one that is empty still fails. Uniqueness is checked
    only when a change touches a unique field, and not when the caller checked it
    (`uniqueness_checked`: an import knows which keys are new).
    """
    model = type(candidate)
    changed = set(changed)
    skipped = {
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.ForeignKey)
        and (f.name not in changed or f.name in set(references_resolved))
    }
    errors: dict[str, list[str]] = {}
    try:
        candidate.full_clean(
            exclude=skipped,
            validate_unique=not uniqueness_checked
            and touches_uniqueness(model, changed),
        )
    except ValidationError as error:
        errors = {name: list(messages) for name, messages in error.message_dict.items()}
    for name in sorted(skipped):
        model_field = concrete_field(model, name)
        if not model_field.null and getattr(candidate, model_field.attname) is None:
            errors.setdefault(name, []).append(str(model_field.error_messages["null"]))
    return errors


def touches_uniqueness(model: type[models.Model], changed: set[str]) -> bool:
    unique_sets = [set(fields) for fields in model._meta.unique_together]
    unique_sets += [
        set(c.fields)
        for c in model._meta.constraints
        if isinstance(c, models.UniqueConstraint)
    ]
    return any(concrete_field(model, n).unique for n in changed) or any(
        s & changed for s in unique_sets
    )


def attvalue(model_field: models.Field, value: object) -> object:
    if isinstance(model_field, models.ForeignKey) and isinstance(value, models.Model):
        return value.pk
    return value


def with_values(record: models.Model, values: Mapping[str, object]) -> models.Model:
    """A copy of `record` with `values` set, to validate before anything is written."""
    # Not copy.copy(): a model instance copies through pickling, which an import of a
    # million rows would feel.
    candidate = record.__class__.__new__(record.__class__)
    candidate.__dict__ = record.__dict__.copy()
    candidate._state = copy.copy(record._state)
    candidate._state.fields_cache = dict(record._state.fields_cache)
    for name, value in values.items():
        model_field = concrete_field(type(record), name)
        setattr(candidate, model_field.attname, attvalue(model_field, value))
    return candidate


def cleaned(candidate: models.Model, names: Iterable[str]) -> dict[str, object]:
    """The values of `names` as the model's clean() left them on `candidate`."""
    model = type(candidate)
    return {n: getattr(candidate, concrete_field(model, n).attname) for n in names}
