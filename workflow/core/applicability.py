"""Whether proposed values still apply to the record: nothing moved, and the whole
record with them passes the model's validation."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models.base import ModelState
from django.db.models.expressions import BaseExpression, DatabaseDefault

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
    checks: FieldChecks | None = None,
) -> dict[str, list[str]]:
    """What is wrong with `candidate` (a record with the changed values set), checked as
    a whole: a stored value that no longer passes fails the change, whichever path
    makes it. Field name -> messages; {} when the record is valid.

    References that do not change point at rows that cannot be deleted while used, and
    `references_resolved` were looked up by the caller for a whole batch: neither is
    fetched again, but a required one that is empty still fails. Uniqueness is checked
    only when a change touches a unique field, and not when the caller checked it
    (`uniqueness_checked`: an import knows which keys are new). `checks` remembers
    each field's verdict on a value for a caller that checks many records (an import):
    the messages are the same, only not worked out again.
    """
    model = type(candidate)
    plan = _validation_plan(
        model, frozenset(changed), frozenset(references_resolved), uniqueness_checked
    )
    try:
        if checks is None or not checks.applies_to(model):
            candidate.full_clean(
                exclude=set(plan.skipped),
                validate_unique=plan.check_unique,
                validate_constraints=plan.check_constraints,
            )
        else:
            checks.full_clean(
                candidate,
                exclude=set(plan.skipped),
                validate_unique=plan.check_unique,
                validate_constraints=plan.check_constraints,
            )
        errors: dict[str, list[str]] = {}
    except ValidationError as error:
        errors = {name: list(messages) for name, messages in error.message_dict.items()}
    for name, attname, message in plan.required_skipped:
        if getattr(candidate, attname) is None:
            errors.setdefault(name, []).append(str(message))
    return errors


class _ValidationPlan(NamedTuple):
    """What `record_problems` checks for one shape of change, worked out once."""

    skipped: frozenset[str]
    check_unique: bool
    check_constraints: bool
    # Skipped references that may not be empty: (name, attname, message), by name.
    required_skipped: tuple[tuple[str, str, object], ...]


def _validation_plan(
    model: type[models.Model],
    changed: frozenset[str],
    resolved: frozenset[str],
    uniqueness_checked: bool,
) -> _ValidationPlan:
    """The plan of a model class is remembered (an import asks for every row, with
    the same few shapes of change); a stand-in that is no class is worked out anew."""
    if isinstance(model, type):
        return _validation_plan_of_class(model, changed, resolved, uniqueness_checked)
    return _validation_plan_uncached(model, changed, resolved, uniqueness_checked)


@functools.lru_cache(maxsize=1024)
def _validation_plan_of_class(
    model: type[models.Model],
    changed: frozenset[str],
    resolved: frozenset[str],
    uniqueness_checked: bool,
) -> _ValidationPlan:
    return _validation_plan_uncached(model, changed, resolved, uniqueness_checked)


def _validation_plan_uncached(
    model: type[models.Model],
    changed: frozenset[str],
    resolved: frozenset[str],
    uniqueness_checked: bool,
) -> _ValidationPlan:
    skipped = frozenset(
        name for name in _foreign_keys(model) if name not in changed or name in resolved
    )
    check_unique = not uniqueness_checked and touches_uniqueness(model, set(changed))
    # A unique constraint costs a query, like a unique field: checked when a change
    # touches it; other constraints (checks) always.
    check_constraints = check_unique or any(
        not isinstance(c, models.UniqueConstraint) for c in model._meta.constraints
    )
    required_skipped = []
    for name in sorted(skipped):
        model_field = concrete_field(model, name)
        if not model_field.null:
            required_skipped.append(
                (name, model_field.attname, model_field.error_messages["null"])
            )
    return _ValidationPlan(
        skipped, check_unique, check_constraints, tuple(required_skipped)
    )


class FieldChecks:
    """Django's `full_clean`, step for step, with each field's verdict on a value
    remembered: an import checks the same currency, country, terms and credit limits
    on row after row, and a field's `clean` is a function of the value alone (the
    fields whose check looks at the record or the database are asked every time).

    At most `max_values` values are remembered per field, so a column of values that
    never repeat (names, accounts, IBANs) costs a bounded dictionary, not a growing one.

    The verdicts on a batch's values may also be worked out ahead, by a copy of the
    checks in another process (`verdicts_ahead`, then `take_ahead` here): only the
    values that pass come back, so every refusal is still worded where it is shown.
    """

    def __init__(self, model: type[models.Model], *, max_values: int = 4096) -> None:
        self.model = model
        self.max_values = max_values
        value_fields = [f for f in model._meta.fields if _verdict_depends_on_value(f)]
        self.remembered: dict[str, dict[tuple[type, object], tuple[bool, object]]] = {
            f.attname: {} for f in value_fields
        }
        self.ahead: dict[str, dict[tuple[type, object], tuple[bool, object]]] = {
            f.attname: {} for f in value_fields
        }
        self._value_fields = {f.name: f for f in value_fields}
        # In the process that works verdicts out ahead: the values already sent.
        self._sent: dict[str, set[tuple[type, object]]] = {
            f.attname: set() for f in value_fields
        }
        self._steps_by_exclude: dict[frozenset[str], list] = {}

    def verdicts_ahead(
        self, rows: Iterable[dict[str, object]]
    ) -> dict[str, dict[tuple[type, object], tuple[bool, object]]]:
        """The passing verdicts on the values of `rows` (field name -> value), for
        `take_ahead` in the process that checks the records. A value sent before is
        not sent again while the other side may still remember it."""
        found: dict[str, dict[tuple[type, object], tuple[bool, object]]] = {}
        for values in rows:
            for name, value in values.items():
                f = self._value_fields.get(name)
                key = _value_key(value) if f is not None else None
                if key is None:
                    continue
                sent = self._sent[f.attname]  # type: ignore[union-attr]
                if key in sent:
                    continue
                if len(sent) < self.max_values:
                    sent.add(key)
                try:
                    cleaned = f.clean(value, None)  # type: ignore[union-attr]
                except ValidationError:
                    continue  # Worded by the side that shows it.
                found.setdefault(f.attname, {})[key] = (True, cleaned)  # type: ignore[union-attr]
        return found

    def take_ahead(
        self, verdicts: dict[str, dict[tuple[type, object], tuple[bool, object]]]
    ) -> None:
        """Use the verdicts worked out ahead for the next batch, instead of the last's."""
        for attname, known in self.ahead.items():
            known.clear()
            known.update(verdicts.get(attname, ()))

    def applies_to(self, model: type[models.Model]) -> bool:
        """Only a model that validates the way Django's Model does: one that changed
        `full_clean` or `clean_fields` is asked itself."""
        return (
            model is self.model
            and model.full_clean is models.Model.full_clean
            and model.clean_fields is models.Model.clean_fields
        )

    def full_clean(
        self,
        candidate: models.Model,
        *,
        exclude: set[str],
        validate_unique: bool,
        validate_constraints: bool,
    ) -> None:
        """As `Model.full_clean` (Django 5.2), with `clean_fields` remembering."""
        exclude = set(exclude)
        errors: dict = {}
        try:
            self.clean_fields(candidate, exclude)
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        try:
            candidate.clean()
        except ValidationError as e:
            errors = e.update_error_dict(errors)
        if validate_unique:
            exclude |= {name for name in errors if name != NON_FIELD_ERRORS}
            try:
                candidate.validate_unique(exclude=exclude)
            except ValidationError as e:
                errors = e.update_error_dict(errors)
        if validate_constraints:
            exclude |= {name for name in errors if name != NON_FIELD_ERRORS}
            try:
                candidate.validate_constraints(exclude=exclude)
            except ValidationError as e:
                errors = e.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def clean_fields(self, candidate: models.Model, exclude: set[str]) -> None:
        errors = {}
        max_values = self.max_values
        for f, attname, blank, remembered, ahead in self._steps(exclude):
            raw_value = getattr(candidate, attname)
            # The blank test and the remembered verdict's key of `Model.clean_fields`
            # and `_value_key`, spelled out for the types a record mostly holds: this
            # runs for every field of every row an import checks.
            kind = type(raw_value)
            if kind is str:
                if blank and not raw_value:
                    continue
                key: tuple[type, object] | None = (kind, raw_value)
            elif raw_value is None:
                if blank:
                    continue
                key = None
            elif kind is int or kind is bool:
                key = (kind, raw_value)
            elif kind is Decimal:
                key = (kind, str(raw_value))
            else:
                if blank and raw_value in f.empty_values:
                    continue
                if isinstance(raw_value, DatabaseDefault):
                    continue
                key = None
            if key is not None and remembered is not None:
                verdict = remembered.get(key)
                if verdict is None:
                    verdict = ahead.get(key)  # type: ignore[union-attr]
                    if verdict is None:
                        verdict = _verdict(f, raw_value, candidate)
                    if len(remembered) < max_values:
                        remembered[key] = verdict
            else:
                verdict = _verdict(f, raw_value, candidate)
            if verdict[0]:
                if verdict[1] is not raw_value:
                    setattr(candidate, attname, verdict[1])
            else:
                errors[f.name] = verdict[1]
        if errors:
            raise ValidationError(errors)

    def _steps(
        self, exclude: set[str]
    ) -> list[tuple[models.Field, str, bool, dict | None, dict | None]]:
        """The fields `clean_fields` checks, with what it needs of each, worked out once
        per set of excluded fields (an import excludes the same on every row)."""
        key = frozenset(exclude)
        steps = self._steps_by_exclude.get(key)
        if steps is None:
            steps = self._steps_by_exclude[key] = [
                (
                    f,
                    f.attname,
                    f.blank,
                    self.remembered.get(f.attname),
                    self.ahead.get(f.attname),
                )
                for f in self.model._meta.fields
                if f.name not in exclude and not f.generated
            ]
        return steps


def _verdict(
    f: models.Field, raw_value: object, candidate: models.Model
) -> tuple[bool, object]:
    """(True, the cleaned value) or (False, the field's errors)."""
    try:
        return (True, f.clean(raw_value, candidate))
    except ValidationError as e:
        return (False, e.error_list)


def _verdict_depends_on_value(f: models.Field) -> bool:
    """Whether a field's `clean` looks at nothing but the value: not a relation (it
    asks the database), and no `clean` or `validate` of its own that may look at the
    record."""
    return (
        not f.is_relation
        and type(f).clean is models.Field.clean
        and type(f).validate in _VALUE_ONLY_VALIDATES
    )


_VALUE_ONLY_VALIDATES = {
    models.Field.validate,
    models.AutoField.validate,
    models.BigAutoField.validate,
}


def _value_key(value: object) -> tuple[type, object] | None:
    """Values told apart by their type and spelling: Decimal("1.0") == Decimal("1.000"),
    but only one of them fits two decimal places; 1 == True, but not as a value."""
    kind = type(value)
    if kind is str or kind is int or kind is bool:
        return (kind, value)
    if kind is Decimal:
        return (kind, str(value))
    return None


def _foreign_keys(model: type[models.Model]) -> tuple[str, ...]:
    if isinstance(model, type):
        return _foreign_keys_of_class(model)
    return _foreign_keys_uncached(model)


@functools.cache
def _foreign_keys_of_class(model: type[models.Model]) -> tuple[str, ...]:
    return _foreign_keys_uncached(model)


def _foreign_keys_uncached(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(
        f.name for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)
    )


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
    # As copy.copy() of the state, which goes through the copy protocol per call.
    state = candidate._state = ModelState.__new__(ModelState)
    state.__dict__.update(record._state.__dict__)
    state.fields_cache = dict(record._state.fields_cache)
    for name, value in values.items():
        model_field = concrete_field(type(record), name)
        setattr(candidate, model_field.attname, attvalue(model_field, value))
    return candidate


def cleaned(candidate: models.Model, names: Iterable[str]) -> dict[str, object]:
    """The values of `names` as the model's clean() left them on `candidate`."""
    model = type(candidate)
    return {n: getattr(candidate, concrete_field(model, n).attname) for n in names}
