"""Lifting a paused sign-in: an access change, so it is checked and audited like one.

django-axes pauses a user name or an address after too many wrong passwords
(`selectors_lockouts`). Lifting the pause forgets the wrong passwords it counted, so
that sign-in works again at once, and writes who lifted it in the audit trail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..audit import audit_entry_build, audit_write
from ..exceptions import NO_PERMISSION, PermissionRefused
from ..models import AuditAction, AuditEntry, PausedSignIn, Source
from ..selectors_lockouts import ADDRESS, USER_NAME

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User

LIFT_PERMISSION = "workflow.lift_pausedsignin"
SUPERUSER_PAUSE_PROTECTED = gettext_lazy(
    "%(user)s is a superuser: only a superuser can lift the pause of a superuser's "
    "user name."
)


def sign_in_pause_lift(
    *,
    actor: User,
    kind: str,
    key: str,
    source: Source | str = Source.BROWSER,
) -> int:
    """Lift the pause of a user name (`kind` USER_NAME) or of an address (ADDRESS)
    by forgetting the wrong passwords counted for it, and write the audit row.

    Lifting an address also forgets the wrong passwords typed from it for each user
    name. Needs `workflow.lift_pausedsignin`; only a superuser lifts a superuser's
    user name. Returns the number of wrong passwords forgotten: 0 when none were left
    (the pause had ended or was lifted meanwhile), and then nothing is written.
    """
    if kind not in (USER_NAME, ADDRESS):
        raise ValueError(f"not a kind of sign-in pause: {kind!r}")
    if not actor.is_active or not actor.has_perm(LIFT_PERMISSION):
        raise PermissionRefused(str(NO_PERMISSION))
    if kind == USER_NAME and not actor.is_superuser:
        if get_user_model().objects.filter(username=key, is_superuser=True).exists():
            raise PermissionRefused(str(SUPERUSER_PAUSE_PROTECTED % {"user": key}))
    match = Q(username=key) if kind == USER_NAME else Q(ip_address=key)
    with transaction.atomic():
        rows = list(
            AccessAttempt.objects.select_for_update()
            .filter(match)
            .values_list("pk", "failures_since_start", "username", "ip_address")
        )
        if not rows:
            return 0
        failures = sum(count for _pk, count, _name, _address in rows)
        AccessAttempt.objects.filter(pk__in=[pk for pk, *_rest in rows]).delete()
        audit_write([_lift_entry(actor, source, kind, key, failures, rows)])
    return failures


def _lift_entry(
    actor: User,
    source: Source | str,
    kind: str,
    key: str,
    failures: int,
    rows: list[tuple[int, int, str | None, str | None]],
) -> AuditEntry:
    if kind == USER_NAME:
        addresses = sorted({address for *_rest, address in rows if address})
        old_value: dict[str, object] = {"failures": failures, "addresses": addresses}

        def comment() -> str:
            return ngettext(
                "The pause of sign-in with the user name “%(key)s” was lifted: its "
                "%(count)d wrong password no longer counts.",
                "The pause of sign-in with the user name “%(key)s” was lifted: its "
                "%(count)d wrong passwords no longer count.",
                failures,
            ) % {"key": key, "count": failures}

        label = _("User name")
    else:
        user_names = sorted({name for _pk, _count, name, _a in rows if name})
        old_value = {"failures": failures, "user_names": len(user_names)}

        def comment() -> str:
            return ngettext(
                "The pause of sign-in from the address %(key)s was lifted: its "
                "%(count)d wrong password no longer counts.",
                "The pause of sign-in from the address %(key)s was lifted: its "
                "%(count)d wrong passwords no longer count.",
                failures,
            ) % {"key": key, "count": failures}

        label = _("Address")
    return audit_entry_build(
        action=AuditAction.SIGN_IN_PAUSE_LIFTED,
        actor=actor,
        source=source,
        content_type=ContentType.objects.get_for_model(
            PausedSignIn, for_concrete_model=False
        ),
        object_id=None,
        object_repr=key,
        field_name="username" if kind == USER_NAME else "ip_address",
        field_label=label,
        old_value=old_value,
        old_display=ngettext(
            "%(count)d wrong password", "%(count)d wrong passwords", failures
        )
        % {"count": failures},
        comment=comment,
    )
