"""Who may grant what: the one decision about changes of users, groups and permissions.

Nobody hands out more than they hold. A person who is not a superuser cannot make
anyone a superuser, cannot give a user or a group a permission they do not hold
themselves (directly or through a group), cannot put a user in a group that grants
more, and cannot change, delete or set the password of a superuser, which would let
them take the superuser's account over. Superusers may do everything.

Pure functions over facts the caller loads (`selectors_access`): the services ask them
under a lock before writing, the admin forms ask them to show the refusal on the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

ONLY_SUPERUSER_GRANTS_SUPERUSER = _("Only a superuser can make someone a superuser.")
SUPERUSER_PROTECTED = _(
    "%(user)s is a superuser: only a superuser can change or delete a superuser or "
    "set their password."
)
STAFF_NOT_HELD = _("You cannot give staff status: you do not have it yourself.")
PERMISSIONS_NOT_HELD = _(
    "You cannot grant permissions you do not hold yourself: %(permissions)s."
)
GROUP_GRANTS_MORE = _(
    "You cannot add anyone to the group “%(group)s”: it grants permissions you do not "
    "hold yourself: %(permissions)s."
)


@dataclass(frozen=True)
class Grantor:
    """What the person making an access change holds, read afresh for each change."""

    is_superuser: bool
    is_staff: bool
    permission_ids: frozenset[int]


def target_refusal(
    grantor: Grantor, *, username: str, target_is_superuser: bool
) -> str | None:
    """Changing, deleting or setting the password of a superuser is for superusers."""
    if target_is_superuser and not grantor.is_superuser:
        return str(SUPERUSER_PROTECTED % {"user": username})
    return None


def flags_refusal(
    grantor: Grantor,
    *,
    superuser_before: bool,
    superuser_after: bool,
    staff_before: bool,
    staff_after: bool,
) -> str | None:
    """Superuser and staff status are given only by someone who has them."""
    if grantor.is_superuser:
        return None
    if superuser_after and not superuser_before:
        return str(ONLY_SUPERUSER_GRANTS_SUPERUSER)
    if staff_after and not staff_before and not grantor.is_staff:
        return str(STAFF_NOT_HELD)
    return None


def permissions_refusal(grantor: Grantor, *, added: Mapping[int, str]) -> str | None:
    """`added` maps the permissions given to a user or a group to their names."""
    if grantor.is_superuser:
        return None
    missing = [name for pk, name in added.items() if pk not in grantor.permission_ids]
    if missing:
        return str(PERMISSIONS_NOT_HELD % {"permissions": ", ".join(sorted(missing))})
    return None


def groups_refusal(
    grantor: Grantor, *, added: Mapping[str, Mapping[int, str]]
) -> str | None:
    """`added` maps each group a user is put in to its permissions and their names."""
    if grantor.is_superuser:
        return None
    for group, permissions in sorted(added.items()):
        missing = [
            name for pk, name in permissions.items() if pk not in grantor.permission_ids
        ]
        if missing:
            return str(
                GROUP_GRANTS_MORE
                % {"group": group, "permissions": ", ".join(sorted(missing))}
            )
    return None
