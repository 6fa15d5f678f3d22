"""Reads behind the access rules: what a person holds, what they may hand out, and
whether a change of a user or a group would give away more (`core.access`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db.models import Q, QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .core import access
from .core.access import Grantor

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User


def grantor_for(actor: User) -> Grantor:
    """What `actor` holds now, from the database rather than the permission cache of
    the request, so that a change earlier in the same request counts."""
    flags = (
        get_user_model()
        .objects.filter(pk=actor.pk, is_active=True)
        .values("is_superuser", "is_staff")
        .first()
    )
    if flags is None:
        return Grantor(is_superuser=False, is_staff=False, permission_ids=frozenset())
    held = Permission.objects.filter(
        Q(user__pk=actor.pk) | Q(group__user__pk=actor.pk)
    ).values_list("pk", flat=True)
    return Grantor(
        is_superuser=flags["is_superuser"],
        is_staff=flags["is_staff"],
        permission_ids=frozenset(held),
    )


def grantable_permissions(
    grantor: Grantor, *, keep: Iterable[int] = ()
) -> QuerySet[Permission]:
    """The permissions `grantor` may give, and those in `keep` (what the user or group
    has already, so that a form does not drop them unseen)."""
    permissions = Permission.objects.select_related("content_type")
    if grantor.is_superuser:
        return permissions
    return permissions.filter(pk__in=[*grantor.permission_ids, *keep])


def grantable_groups(grantor: Grantor, *, keep: Iterable[int] = ()) -> QuerySet[Group]:
    """The groups `grantor` may put people in (none grants more than they hold), and
    those in `keep`."""
    groups = Group.objects.order_by("name")
    if grantor.is_superuser:
        return groups
    more = Permission.objects.exclude(pk__in=grantor.permission_ids)
    return groups.filter(
        Q(pk__in=list(keep)) | ~Q(pk__in=Group.objects.filter(permissions__in=more))
    )


# Django names the permissions it makes for every model in English when it migrates
# ("Can change customer"); a reader reads them in their language.
DEFAULT_PERMISSION_NAMES = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission: Permission) -> str:
    """A permission as the reader reads it, "Klanten | klant | Kan klant wijzigen":
    a model's own permissions named from its name in the reader's language, the others
    (Meta.permissions, translatable texts) looked up in the catalogue."""
    model = permission.content_type.model_class()
    action, _sep, model_name = permission.codename.partition("_")
    if (
        model is not None
        and action in DEFAULT_PERMISSION_NAMES
        and model_name == model._meta.model_name
    ):
        name = DEFAULT_PERMISSION_NAMES[action] % {"model": model._meta.verbose_name}
    else:
        name = gettext(permission.name)
    return f"{permission.content_type} | {name}"


def _names(permissions: Iterable[Permission]) -> dict[int, str]:
    return {p.pk: permission_label(p) for p in permissions}


def user_change_refusal(
    *,
    actor: User,
    user: User | None = None,
    values: Mapping[str, object] | None = None,
    groups: Iterable[Group] | None = None,
    permissions: Iterable[Permission] | None = None,
    grantor: Grantor | None = None,
) -> str | None:
    """Why `actor` may not create (`user` None) or change a user this way; None when
    they may. `groups` and `permissions` are the user's new sets, None to keep them."""
    grantor = grantor or grantor_for(actor)
    values = values or {}
    if user is not None:
        refusal = access.target_refusal(
            grantor,
            username=user.get_username(),
            target_is_superuser=user.is_superuser,
        )
        if refusal:
            return refusal
    refusal = access.flags_refusal(
        grantor,
        superuser_before=bool(user and user.is_superuser),
        superuser_after=bool(
            values.get("is_superuser", user.is_superuser if user else False)
        ),
        staff_before=bool(user and user.is_staff),
        staff_after=bool(values.get("is_staff", user.is_staff if user else False)),
    )
    if refusal:
        return refusal
    if permissions is not None:
        current = (
            set(user.user_permissions.values_list("pk", flat=True)) if user else set()
        )
        added = [p for p in permissions if p.pk not in current]
        refusal = access.permissions_refusal(grantor, added=_names(added))
        if refusal:
            return refusal
    if groups is not None:
        current = set(user.groups.values_list("pk", flat=True)) if user else set()
        added_ids = [g.pk for g in groups if g.pk not in current]
        added_groups = {
            group.name: _names(group.permissions.select_related("content_type"))
            for group in Group.objects.filter(pk__in=added_ids)
        }
        refusal = access.groups_refusal(grantor, added=added_groups)
        if refusal:
            return refusal
    return None


def user_target_refusal(
    *, actor: User, user: User, grantor: Grantor | None = None
) -> str | None:
    """Why `actor` may not delete `user` or set their password; None when they may."""
    return access.target_refusal(
        grantor or grantor_for(actor),
        username=user.get_username(),
        target_is_superuser=user.is_superuser,
    )


def group_change_refusal(
    *,
    actor: User,
    group: Group | None = None,
    permissions: Iterable[Permission] | None = None,
    grantor: Grantor | None = None,
) -> str | None:
    """Why `actor` may not create (`group` None) or change a group to hold
    `permissions` (None: unchanged); None when they may."""
    if permissions is None:
        return None
    current = set(group.permissions.values_list("pk", flat=True)) if group else set()
    added = [p for p in permissions if p.pk not in current]
    return access.permissions_refusal(
        grantor or grantor_for(actor), added=_names(added)
    )
