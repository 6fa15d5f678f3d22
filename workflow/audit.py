"""The only code that writes audit rows."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models

from .models import AuditAction, AuditEntry, ChangeProposal, Source


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
    return AuditEntry(
        action=action,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor.get_username() if actor is not None else "",
        source=source,
        content_type=content_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        proposal=proposal,
        field_name=field_name,
        field_label=str(field_label)[:200],
        old_value=old_value,
        new_value=new_value,
        old_display=old_display,
        new_display=new_display,
        comment=comment,
    )


def audit_write(entries: Iterable[AuditEntry]) -> list[AuditEntry]:
    return AuditEntry.objects.bulk_create(list(entries))


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
