"""API tokens: made and revoked by administrators; a key is shown once, kept as a digest."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..audit import audit_for_object, audit_write
from ..exceptions import NO_PERMISSION, PermissionRefused
from ..models import ApiToken, AuditAction, Source

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User

MANAGE_PERMISSION = "workflow.add_apitoken"
REVOKE_PERMISSION = "workflow.change_apitoken"


def api_key_digest(key: str) -> str:
    """The stored form of a key: its SHA-256. A key is 256 random bits, so a plain
    digest suffices (no salt or slow hash: nothing to guess from a dictionary)."""
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(
    *, user: User, name: str, actor: User | None
) -> tuple[ApiToken, str]:
    """Make a token for `user`; returns it and its key, which is never stored.

    `actor` None is the operator at the command line (`create_api_token`)."""
    if actor is not None and not actor.has_perm(MANAGE_PERMISSION):
        raise PermissionRefused(NO_PERMISSION)
    key = secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name.strip(),
        prefix=key[:8],
        key_digest=api_key_digest(key),
        created_by=actor,
    )
    token.full_clean()
    with transaction.atomic():
        token.save()
        audit_write(
            [
                audit_for_object(
                    instance=token,
                    action=AuditAction.CREATED,
                    actor=actor,
                    source=Source.COMMAND if actor is None else Source.BROWSER,
                    comment=lambda: (
                        _("API token of %(user)s.") % {"user": user.get_username()}
                    ),
                )
            ]
        )
    return token, key


def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """Stop a token from working, at once and for good; it stays for the audit trail."""
    if not actor.has_perm(REVOKE_PERMISSION):
        raise PermissionRefused(NO_PERMISSION)
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_write(
                [
                    audit_for_object(
                        instance=token,
                        action=AuditAction.FIELD_CHANGED,
                        actor=actor,
                        source=Source.BROWSER,
                        field_name="revoked_at",
                        field_label=str(
                            ApiToken._meta.get_field("revoked_at").verbose_name
                        ),
                        new_value=token.revoked_at.isoformat(),
                        comment=lambda: _("API token revoked."),
                    )
                ]
            )
    return token


def api_token_used(*, token: ApiToken) -> None:
    """Note when a token was last used, at most once a minute (no write per request)."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
