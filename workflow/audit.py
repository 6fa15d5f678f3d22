"""The only code that writes audit rows."""

from __future__ import annotations

import contextlib
import contextvars
import datetime
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone, translation

from .bank_status import statuses_following
from .bulk_sql import rows_insert
from .models import (
    API_TOKEN_KEY,
    AuditAction,
    AuditEntry,
    BankAccountStatus,
    ChangeProposal,
    Source,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User

    # Who an audit row names: a person, or None for the system itself.
    Actor = User | AnonymousUser | None

# The columns of an audit row, in the order `audit_row` returns them.
AUDIT_ROW_FIELDS = (
    "created_at",
    "action",
    "actor_id",
    "actor_name",
    "source",
    "content_type_id",
    "object_id",
    "object_repr",
    "proposal_id",
    "field_name",
    "field_label",
    "old_value",
    "new_value",
    "old_display",
    "new_display",
    "comment",
    "comment_translations",
)


# The API token whose request writes the rows now; None outside the API.
_api_token: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "audit_api_token", default=None
)


@contextlib.contextmanager
def audit_api_token(name: str) -> Iterator[None]:
    """Every audit row written inside names the API token `name` (who wrote them is
    the token's user, the source is the API): the change log reads it back."""
    reset = _api_token.set(name)
    try:
        yield
    finally:
        _api_token.reset(reset)


class Translated(NamedTuple):
    """A sentence of the system in the current language and in every language."""

    text: str
    translations: dict[str, str]


SystemComment = Callable[[], str]


def in_every_language(make: SystemComment) -> Translated:
    """Runs `make` (which builds a sentence with gettext) once per language of the site,
    so that the audit trail can show it to each reader in their own language."""
    translations = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translations[code] = str(make())
    return Translated(str(make()), translations)


def _comment_columns(
    comment: str | SystemComment | Translated,
) -> tuple[str, dict | None]:
    if callable(comment):
        comment = in_every_language(comment)
    token = _api_token.get()
    if isinstance(comment, Translated):
        if token is None:
            return comment.text, comment.translations
        return comment.text, {**comment.translations, API_TOKEN_KEY: token}
    return str(comment), {API_TOKEN_KEY: token} if token is not None else None


def audit_row(
    *,
    action: AuditAction | str,
    actor: Actor,
    source: Source | str,
    content_type_id: int,
    object_id: int | None,
    object_repr: str = "",
    proposal_id: int | None = None,
    field_name: str = "",
    field_label: str = "",
    old_value: object = None,
    new_value: object = None,
    old_display: str = "",
    new_display: str = "",
    comment: str | SystemComment | Translated = "",
    created_at: datetime.datetime | None = None,
) -> tuple[object, ...]:
    """One audit row as plain values: what the bulk paths write without model instances.

    A comment the system writes is given as a function building it (or its `Translated`
    form), so that it is kept in every language; a person's comment as text.
    """
    return (
        created_at or timezone.now(),
        str(action),
        actor.pk if actor is not None and actor.is_authenticated else None,
        actor.get_username() if actor is not None else "",
        str(source),
        content_type_id,
        object_id,
        object_repr[:200],
        proposal_id,
        field_name,
        str(field_label)[:200],
        old_value,
        new_value,
        old_display,
        new_display,
        *_comment_columns(comment),
    )


def audit_rows_write(rows: list[tuple[object, ...]]) -> None:
    """Append rows built by `audit_row`; the bank accounts they change take their
    verified status in the same transaction (`bank_status`)."""
    rows_insert(AuditEntry, AUDIT_ROW_FIELDS, rows)
    statuses = statuses_following(AUDIT_ROW_FIELDS, rows)
    if statuses:
        BankAccountStatus.objects.bulk_create(
            statuses,
            update_conflicts=True,
            unique_fields=["content_type", "object_id", "field_name"],
            update_fields=[
                "verified",
                "verified_at",
                "verified_by",
                "verified_by_name",
                "proposal",
                "changed_at",
            ],
        )


def audit_entry_build(
    *,
    action: AuditAction,
    actor: Actor,
    source: Source | str,
    content_type: ContentType,
    object_id: int | None,
    object_repr: str = "",
    proposal: ChangeProposal | None = None,
    field_name: str = "",
    field_label: str = "",
    old_value: object = None,
    new_value: object = None,
    old_display: str = "",
    new_display: str = "",
    comment: str | SystemComment | Translated = "",
) -> AuditEntry:
    entry = AuditEntry(
        **dict(
            zip(
                AUDIT_ROW_FIELDS,
                audit_row(
                    action=action,
                    actor=actor,
                    source=source,
                    content_type_id=content_type.pk,
                    object_id=object_id,
                    object_repr=object_repr,
                    proposal_id=proposal.pk if proposal is not None else None,
                    field_name=field_name,
                    field_label=field_label,
                    old_value=old_value,
                    new_value=new_value,
                    old_display=old_display,
                    new_display=new_display,
                    comment=comment,
                ),
                strict=True,
            )
        )
    )
    # The instances are cached so that code reading the entry needs no query.
    entry.content_type = content_type
    if proposal is not None:
        entry.proposal = proposal
    return entry


def audit_write(entries: Iterable[AuditEntry]) -> None:
    """Append audit entries, all in one statement."""
    rows = []
    for entry in entries:
        # Takes the key of a proposal saved after the entry was built, as save() would.
        # Not declared by django-stubs: a private method of Model.
        entry._prepare_related_fields_for_save(  # type: ignore[attr-defined]
            operation_name="audit_write"
        )
        rows.append(tuple(getattr(entry, name) for name in AUDIT_ROW_FIELDS))
    audit_rows_write(rows)


def audit_for_proposal(
    *,
    proposal: ChangeProposal,
    action: AuditAction,
    actor: Actor,
    comment: str | SystemComment | Translated = "",
    **fields: Any,
) -> AuditEntry:
    return audit_entry_build(
        action=action,
        actor=actor,
        source=fields.pop("source", proposal.source),
        content_type=proposal.content_type,
        object_id=proposal.object_id,
        object_repr=proposal.object_repr,
        proposal=proposal,
        comment=comment,
        **fields,
    )


def audit_for_object(
    *,
    instance: models.Model,
    action: AuditAction,
    actor: Actor,
    source: Source | str,
    **fields: Any,
) -> AuditEntry:
    return audit_entry_build(
        action=action,
        actor=actor,
        source=source,
        content_type=ContentType.objects.get_for_model(instance),
        object_id=instance.pk,
        object_repr=str(instance),
        **fields,
    )
