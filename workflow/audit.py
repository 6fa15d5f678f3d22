"""The only code that writes audit rows."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .bulk_sql import rows_insert
from .models import AuditAction, AuditEntry, ChangeProposal, Source

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
)


def audit_row(
    *,
    action: AuditAction | str,
    actor,
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
    comment: str = "",
    created_at=None,
) -> tuple:
    """One audit row as plain values: what the bulk paths write without model instances."""
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
        str(comment),
    )


def audit_rows_write(rows: list[tuple]) -> None:
    """Append rows built by `audit_row`."""
    rows_insert(AuditEntry, AUDIT_ROW_FIELDS, rows)


def audit_entry_build(
    *,
    action: AuditAction,
    actor,
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
    comment: str = "",
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
        entry._prepare_related_fields_for_save(operation_name="audit_write")
        rows.append(tuple(getattr(entry, name) for name in AUDIT_ROW_FIELDS))
    audit_rows_write(rows)


def audit_for_proposal(
    *, proposal: ChangeProposal, action: AuditAction, actor, comment: str = "", **fields
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
    actor,
    source: Source | str,
    **fields,
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
