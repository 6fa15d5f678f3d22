"""Fields under approval are written by the engine only, whoever else tries.

This decides nothing: the rules live in the decision core. It refuses writes of a field
that is under approval now when they come from anywhere but the engine's own writes,
at two levels:

- the model layer: `GovernedRecord.save()` and the `GovernedQuerySet` methods `update`,
  `bulk_update` and `bulk_create` (with `update_conflicts`), whichever code calls them;
- PostgreSQL: a trigger on each governed table refuses an UPDATE that changes such a
  column unless the transaction carries the engine's marker, so a SQL client, another
  application or a forgotten code path cannot change it either.

The engine marks its writes with `engine_writes()`. Direct writes the parameters permit
(approvals off, or the field not under approval) need no marker and pass.
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from django.core import checks
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models, router
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from . import registry, write_behind
from .core import creation
from .exceptions import WorkflowError

if TYPE_CHECKING:
    from django.apps import AppConfig
    from django.db.backends.base.base import BaseDatabaseWrapper

MARKER = "custapproval.engine_write"
WRITE_REFUSED = _(
    "%(fields)s of %(record)s is under approval and cannot be written directly. "
    "Change it on the record's page, or by an import, so that it goes through approval."
)
TRIGGER_FUNCTION = "workflow_governed_write_guard"

_engine_writing: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "engine_writing", default=False
)


class GovernedWriteRefused(WorkflowError):
    """A write of a field under approval that did not come from the engine."""


@contextmanager
def engine_writes(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Mark the writes inside as the engine's own, for the model layer and, on
    PostgreSQL, for the governed tables' trigger (until the block ends, at the latest
    until the transaction does). Must run inside a transaction."""
    connection = connections[using]
    postgres = connection.vendor == "postgresql"
    if postgres and not connection.in_atomic_block:
        raise RuntimeError("engine_writes() needs a transaction (transaction.atomic).")
    token = _engine_writing.set(True)
    if postgres:
        _set_marker(connection, "on")
    try:
        yield
    finally:
        _engine_writing.reset(token)
        if postgres and not connection.needs_rollback:
            _set_marker(connection, "off")


def _set_marker(connection: BaseDatabaseWrapper, value: str) -> None:
    # In order with the writes it marks, also when they are queued (write_behind).
    statement, params = "SELECT set_config(%s, %s, true)", [MARKER, value]
    with connection.cursor() as cursor:
        write_behind.execute(
            cursor, statement, lambda driver: driver.execute(statement, params), params
        )


def engine_is_writing() -> bool:
    return _engine_writing.get()


def _enabled_fields(model: type[models.Model]) -> frozenset[str]:
    """The fields only the engine writes: those under approval now, and the record's
    status (a record becomes active by the approval of its creation only)."""
    from .selectors import enabled_fields_for

    try:
        enabled = enabled_fields_for(model)
    except registry.NotGoverned:
        return frozenset()
    if any(f.name == STATUS_FIELD for f in model._meta.concrete_fields):
        enabled = enabled | {STATUS_FIELD}
    return enabled


def _refuse(model: type[models.Model], names: Iterable[str], record: str) -> None:
    labels = ", ".join(
        capfirst(str(registry.concrete_field(model, n).verbose_name))
        for n in sorted(names)
    )
    raise GovernedWriteRefused(
        str(WRITE_REFUSED % {"fields": labels, "record": record})
    )


def _field_names(model: type[models.Model], names: Iterable[str]) -> set[str]:
    """Field names for names that may be attnames ("payment_terms_id")."""
    by_attname = {f.attname: f.name for f in model._meta.concrete_fields}
    return {by_attname.get(n, n) for n in names}


def _changed(
    model: type[models.Model], instances: Sequence[models.Model], names: set[str]
) -> set[str]:
    """Which of `names` hold another value on `instances` than stored."""
    fields = [registry.concrete_field(model, n) for n in names]
    stored = {
        row[0]: row[1:]
        for row in model._base_manager.filter(
            pk__in=[i.pk for i in instances if i.pk is not None]
        ).values_list("pk", *[f.attname for f in fields])
    }
    changed: set[str] = set()
    for instance in instances:
        values = stored.get(instance.pk)
        if values is None:
            continue
        for model_field, value in zip(fields, values, strict=True):
            if not _same(model_field, getattr(instance, model_field.attname), value):
                changed.add(model_field.name)
    return changed


def _same(model_field: models.Field, value: object, stored: object) -> bool:
    try:
        return model_field.to_python(value) == model_field.to_python(stored)
    except ValidationError:
        return False


_M = TypeVar("_M", bound=models.Model)


class GovernedQuerySet(models.QuerySet[_M]):
    """Refuses queryset writes of fields under approval made around the engine."""

    def update(self, **kwargs: Any) -> int:
        if not engine_is_writing():
            guarded = _field_names(self.model, kwargs) & _enabled_fields(self.model)
            moving = {n for n in guarded if self._would_change(n, kwargs)}
            if moving:
                _refuse(self.model, moving, str(self.model._meta.verbose_name_plural))
        return super().update(**kwargs)

    def _would_change(self, name: str, kwargs: dict[str, Any]) -> bool:
        model_field = registry.concrete_field(self.model, name)
        value = kwargs.get(name, kwargs.get(model_field.attname))
        if hasattr(value, "resolve_expression"):
            return True
        if isinstance(value, models.Model):
            value = value.pk
        return self.filter(~Q(**{model_field.attname: value})).exists()

    def bulk_update(
        self,
        objs: Iterable[_M],
        fields: Iterable[str],
        batch_size: int | None = None,
    ) -> int:
        if not engine_is_writing():
            objs = list(objs)
            guarded = _field_names(self.model, fields) & _enabled_fields(self.model)
            moving = _changed(self.model, objs, guarded) if guarded else set()
            if moving:
                _refuse(self.model, moving, str(self.model._meta.verbose_name_plural))
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        if kwargs.get("update_conflicts") and not engine_is_writing():
            guarded = _field_names(
                self.model, kwargs.get("update_fields") or ()
            ) & _enabled_fields(self.model)
            if guarded:
                _refuse(self.model, guarded, str(self.model._meta.verbose_name_plural))
        return super().bulk_create(objs, *args, **kwargs)


GovernedManager = models.Manager.from_queryset(GovernedQuerySet)


class RecordStatus(models.TextChoices):
    """Whether a record is in use (core.creation says what each means)."""

    ACTIVE = creation.ACTIVE, _("Active")
    AWAITING = creation.AWAITING, _("Awaiting approval")
    REJECTED = creation.REJECTED, _("Rejected")


STATUS_FIELD = creation.STATUS_FIELD


class GovernedRecord(models.Model):
    """A governed model's base: refuses a save() that changes a field under approval,
    or the record's status, unless the engine makes it. New records pass: there is no
    value to protect yet."""

    record_status = models.CharField(
        _("record status"),
        max_length=10,
        choices=RecordStatus.choices,
        default=RecordStatus.ACTIVE,
        # Rows written by SQL of the engine's own (COPY in imports, the benchmark's
        # floor) are active as a saved record is; few rows are not, so a governed
        # model indexes only those (partial index), sparing every insert an index.
        db_default=RecordStatus.ACTIVE.value,
        editable=False,
    )

    objects = GovernedManager()

    class Meta:
        abstract = True
        # Django's internals and code reaching for `_base_manager` get the guard too.
        base_manager_name = "objects"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Also a new instance with the primary key of an existing row (force_update):
        # the stored row is what is protected.
        if self.pk is not None and not engine_is_writing():
            model = type(self)
            guarded = _enabled_fields(model)
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                guarded &= _field_names(model, update_fields)
            moving = _changed(model, [self], set(guarded)) if guarded else set()
            if moving:
                _refuse(model, moving, str(self))
        super().save(*args, **kwargs)


# --- PostgreSQL ------------------------------------------------------------------

_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {TRIGGER_FUNCTION}() RETURNS trigger AS $$
DECLARE
    settings_row record;
    columns jsonb := TG_ARGV[2]::jsonb;
    field text;
    column_name text;
BEGIN
    IF current_setting('{MARKER}', true) = 'on' THEN
        RETURN NEW;
    END IF;
    IF (to_jsonb(NEW) -> 'record_status') IS DISTINCT FROM (to_jsonb(OLD) -> 'record_status')
    THEN
        RAISE EXCEPTION '%.record_status: a record becomes active only when the approval engine approves its creation.',
            TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT s.approvals_enabled, s.enabled_fields INTO settings_row
      FROM workflow_approvalsettings s
      JOIN django_content_type c ON c.id = s.content_type_id
     WHERE c.app_label = TG_ARGV[0] AND c.model = TG_ARGV[1];
    IF NOT FOUND OR NOT settings_row.approvals_enabled THEN
        RETURN NEW;
    END IF;
    FOR field IN SELECT jsonb_array_elements_text(settings_row.enabled_fields) LOOP
        column_name := columns ->> field;
        IF column_name IS NOT NULL
           AND (to_jsonb(NEW) -> column_name) IS DISTINCT FROM (to_jsonb(OLD) -> column_name)
        THEN
            RAISE EXCEPTION '%.% is under approval: change it through the approval engine, not directly.',
                TG_TABLE_NAME, column_name
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END LOOP;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def _trigger_name(model: type[models.Model]) -> str:
    return f"{model._meta.db_table}_governed_guard"[:63]


def install_database_guards(using: str = DEFAULT_DB_ALIAS) -> None:
    """Create or refresh the trigger of every governed table (PostgreSQL only).

    Runs after each `migrate`, as the role that owns the tables; the application's own
    role owns nothing and so cannot drop or disable it.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(_FUNCTION_SQL)
        for governed in registry.all_governed():
            model = governed.model
            if not router.allow_migrate_model(using, model):
                continue
            columns = {
                name: registry.concrete_field(model, name).column
                for name in governed.governable_field_names
            }
            table = connection.ops.quote_name(model._meta.db_table)
            trigger = connection.ops.quote_name(_trigger_name(model))
            # Options.model_name is None only while a model class is being built.
            arguments = ", ".join(
                "'" + value.replace("'", "''") + "'"  # type: ignore[union-attr]
                for value in (
                    model._meta.app_label,
                    model._meta.model_name,
                    json.dumps(columns, sort_keys=True),
                )
            )
            cursor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            # The engine's own writes skip the function: PostgreSQL checks the marker
            # itself, where calling the function for each row of an import's UPDATE
            # cost a sixth of the statement.
            cursor.execute(
                f"CREATE TRIGGER {trigger} BEFORE UPDATE ON {table} FOR EACH ROW "
                f"WHEN (current_setting('{MARKER}', true) IS DISTINCT FROM 'on') "
                f"EXECUTE FUNCTION {TRIGGER_FUNCTION}({arguments})"
            )


def install_after_migrate(
    sender: AppConfig, using: str = DEFAULT_DB_ALIAS, **kwargs: Any
) -> None:
    """post_migrate receiver: the guards follow every change of the schema."""
    install_database_guards(using)


@checks.register(checks.Tags.models)
def governed_models_are_guarded(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[checks.Error]:
    """Every governed model refuses writes made around the engine."""
    return [
        checks.Error(
            f"{governed.model._meta.label} is governed but does not refuse writes made "
            "around the engine.",
            hint="Inherit workflow.enforcement.GovernedRecord, extend its Meta "
            "(class Meta(GovernedRecord.Meta)) and keep its manager as the default "
            "and base manager.",
            obj=governed.model,
            id="workflow.E001",
        )
        for governed in registry.all_governed()
        if not issubclass(governed.model, GovernedRecord)
        or not all(
            isinstance(manager.get_queryset(), GovernedQuerySet)
            for manager in (
                governed.model._default_manager,
                governed.model._base_manager,
            )
        )
    ]
