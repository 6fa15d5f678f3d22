"""Whether proposed values still apply to the record: nothing moved, and the whole
record with them passes the model's validation."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.expressions import BaseExpression

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
    check_unique = not uniqueness_checked and touches_uniqueness(model, changed)
    try:
        candidate.full_clean(
            exclude=skipped,
            validate_unique=check_unique,
            # A unique constraint costs a query, like a unique field: checked when a
            # change touches it; other constraints (checks) always.
            validate_constraints=check_unique
            or any(
                not isinstance(c, models.UniqueConstraint)
                for c in model._meta.constraints
            ),
        )
    except ValidationError as error:
        errors = {name: list(messages) for name, messages in error.message_dict.items()}
    for name in sorted(skipped):
        model_field = concrete_field(model, name)
        if not model_field.null and getattr(candidate, model_field.attname) is None:
            errors.setdefault(name, []).append(str(model_field.error_messages["null"]))
    return errors


def touches_uniqueness(model: type[models.Model], changed: set[str]) -> bool:
    return any(concrete_field(model, n).unique for n in changed) or any(
        s & changed for s in _unique_sets(model)
    )


def _unique_sets(model: type[models.Model]) -> tuple[frozenset[str], ...]:
    """The sets of fields that are unique together, by `unique_together` and unique
    constraints: a model's declaration, so worked out once per model class (an import
    asks for every row); a stand-in that is no class is worked out each time."""
    if isinstance(model, type):
        return _unique_sets_of_class(model)
    return _unique_sets_uncached(model)


@functools.cache
def _unique_sets_of_class(model: type[models.Model]) -> tuple[frozenset[str], ...]:
    return _unique_sets_uncached(model)


def _unique_sets_uncached(model: type[models.Model]) -> tuple[frozenset[str], ...]:
    unique_sets = [frozenset(fields) for fields in model._meta.unique_together]
    unique_sets += [
        frozenset(_constraint_fields(model, c))
        for c in model._meta.constraints
        if isinstance(c, models.UniqueConstraint)
    ]
    return tuple(unique_sets)


def _constraint_fields(
    model: type[models.Model], constraint: models.UniqueConstraint
) -> set[str]:
    """The fields a unique constraint covers, also through expressions such as
    UniqueConstraint(Lower("account"))."""
    nodes: list[object] = [
        node
        for expression in constraint.expressions
        if isinstance(expression, BaseExpression)
        for node in expression.flatten()
    ]
    return set(constraint.fields) | {
        f.name for f in model._meta.concrete_fields if models.F(f.name) in nodes
    }


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
