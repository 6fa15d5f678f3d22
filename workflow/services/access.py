"""Users, groups and permissions: every change checked against `core.access` and
written to the audit trail in the same transaction.

A refused change raises `PermissionRefused` before anything is written. Passwords
leave a row saying that they were set, never what they were set to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, TypeVar

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import registry, selectors_access
from ..audit import audit_for_object, audit_write
from ..exceptions import PermissionRefused, WorkflowError
from ..models import AuditAction, AuditEntry, Source

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User

_Item = TypeVar("_Item")

# The fields of a user that the services change; the password has its own service
# and the dates are kept by Django.
USER_FIELDS = (
    "username",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "is_staff",
    "is_superuser",
)
USER_IN_USE = gettext_lazy(
    "%(user)s cannot be deleted because the audit trail or other records refer to "
    "them. Make the user inactive instead."
)
GROUP_IN_USE = gettext_lazy(
    "The group “%(group)s” cannot be deleted because other records, such as a "
    "workflow step, refer to it."
)


def _refuse(refusal: str | None) -> None:
    if refusal:
        raise PermissionRefused(refusal)


# --- audit rows -------------------------------------------------------------------


def _none() -> str:
    return _("(none)")


def _display(value: object) -> str:
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return "" if value is None else str(value)


def _permission_key(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def _permission_list(permissions: Iterable[Permission]) -> str:
    return ", ".join(sorted(str(p) for p in permissions)) or _none()


def _group_list(groups: Iterable[Group]) -> str:
    return ", ".join(sorted(g.name for g in groups)) or _none()


def _added_removed(
    added: list[_Item], removed: list[_Item], name: Callable[[_Item], str]
) -> Callable[[], str]:
    """The comment of a changed set, built again in each language of the site."""

    def make() -> str:
        parts = []
        if added:
            parts.append(
                _("Added: %(items)s.")
                % {"items": ", ".join(sorted(name(i) for i in added))}
            )
        if removed:
            parts.append(
                _("Removed: %(items)s.")
                % {"items": ", ".join(sorted(name(i) for i in removed))}
            )
        return " ".join(parts)

    return make


def _field_entries(
    instance: User | Group,
    actor: User,
    source: str,
    before: Mapping[str, object],
    names: Iterable[str],
) -> list[AuditEntry]:
    entries = []
    for name in names:
        old, new = before.get(name), getattr(instance, name)
        if old == new:
            continue
        entries.append(
            audit_for_object(
                instance=instance,
                action=AuditAction.FIELD_CHANGED,
                actor=actor,
                source=source,
                field_name=name,
                field_label=capfirst(
                    registry.concrete_field(type(instance), name).verbose_name
                ),
                old_value=old,
                new_value=new,
                old_display=_display(old),
                new_display=_display(new),
            )
        )
    return entries


def _permissions_entry(
    instance: User | Group,
    actor: User,
    source: str,
    before: list[Permission],
    after: list[Permission],
) -> AuditEntry | None:
    old, new = {p.pk: p for p in before}, {p.pk: p for p in after}
    if old.keys() == new.keys():
        return None
    added = [p for pk, p in new.items() if pk not in old]
    removed = [p for pk, p in old.items() if pk not in new]
    return audit_for_object(
        instance=instance,
        action=AuditAction.PERMISSIONS_CHANGED,
        actor=actor,
        source=source,
        field_name="permissions" if isinstance(instance, Group) else "user_permissions",
        field_label=_("Permissions"),
        old_value=sorted(_permission_key(p) for p in before),
        new_value=sorted(_permission_key(p) for p in after),
        old_display=_permission_list(before),
        new_display=_permission_list(after),
        comment=_added_removed(added, removed, str),
    )


def _groups_entry(
    user: User, actor: User, source: str, before: list[Group], after: list[Group]
) -> AuditEntry | None:
    old, new = {g.pk: g for g in before}, {g.pk: g for g in after}
    if old.keys() == new.keys():
        return None
    return audit_for_object(
        instance=user,
        action=AuditAction.GROUPS_CHANGED,
        actor=actor,
        source=source,
        field_name="groups",
        field_label=_("Groups"),
        old_value=sorted(g.name for g in before),
        new_value=sorted(g.name for g in after),
        old_display=_group_list(before),
        new_display=_group_list(after),
        comment=_added_removed(
            [g for pk, g in new.items() if pk not in old],
            [g for pk, g in old.items() if pk not in new],
            lambda g: g.name,
        ),
    )


def _password_entry(user: User, actor: User, source: str) -> AuditEntry:
    usable = user.has_usable_password()
    return audit_for_object(
        instance=user,
        action=AuditAction.PASSWORD_CHANGED,
        actor=actor,
        source=source,
        field_name="password",
        field_label=_("Password"),
        comment=(lambda: _("A new password was set."))
        if usable
        else (lambda: _("Password-based authentication was disabled.")),
    )


def _user_permissions(user: User) -> list[Permission]:
    return list(user.user_permissions.select_related("content_type"))


def _group_permissions(group: Group) -> list[Permission]:
    return list(group.permissions.select_related("content_type"))


def _set_password(user: User, password: str | None) -> None:
    if password is None:
        user.set_unusable_password()
        return
    password_validation.validate_password(password, user)
    user.set_password(password)


# --- users ------------------------------------------------------------------------


def user_create(
    *,
    actor: User,
    username: str,
    password: str | None,
    values: Mapping[str, object] | None = None,
    groups: Iterable[Group] = (),
    permissions: Iterable[Permission] = (),
    source: Source | str = Source.BROWSER,
) -> User:
    """Create a user with `password` (None: no password login) and the given fields,
    groups and permissions, none of them more than `actor` holds."""
    values = dict(values or {})
    _check_user_fields(values)
    groups, permissions = list(groups), list(permissions)
    user_model = get_user_model()
    with transaction.atomic():
        _refuse(
            selectors_access.user_change_refusal(
                actor=actor,
                values=values,
                groups=groups,
                permissions=permissions,
            )
        )
        user = user_model(username=username, **values)
        _set_password(user, password)
        user.full_clean()
        user.save()
        user.groups.set(groups)
        user.user_permissions.set(permissions)
        defaults = user_model()
        entries = [
            audit_for_object(
                instance=user,
                action=AuditAction.CREATED,
                actor=actor,
                source=source,
                new_value=user.get_username(),
                new_display=user.get_username(),
            ),
            *_field_entries(
                user,
                actor,
                source,
                {name: getattr(defaults, name) for name in USER_FIELDS},
                [n for n in USER_FIELDS if n != "username"],
            ),
            _password_entry(user, actor, source),
            _groups_entry(user, actor, source, [], groups),
            _permissions_entry(user, actor, source, [], _user_permissions(user)),
        ]
        audit_write([e for e in entries if e is not None])
    return user


def user_update(
    *,
    actor: User,
    user_id: int,
    values: Mapping[str, object] | None = None,
    groups: Iterable[Group] | None = None,
    permissions: Iterable[Permission] | None = None,
    source: Source | str = Source.BROWSER,
) -> User:
    """Change a user's fields and, when given, replace their groups and permissions.

    Refused when `actor` is not a superuser and the user is one, or the change would
    make them a superuser, or give them a permission or a group with a permission
    that `actor` does not hold.
    """
    values = dict(values or {})
    _check_user_fields(values)
    groups = None if groups is None else list(groups)
    permissions = None if permissions is None else list(permissions)
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user_id)
        _refuse(
            selectors_access.user_change_refusal(
                actor=actor,
                user=user,
                values=values,
                groups=groups,
                permissions=permissions,
            )
        )
        before = {name: getattr(user, name) for name in USER_FIELDS}
        groups_before = list(user.groups.all())
        permissions_before = _user_permissions(user)
        for name, value in values.items():
            setattr(user, name, value)
        changed = [name for name in USER_FIELDS if getattr(user, name) != before[name]]
        if changed:
            user.full_clean()
            user.save(update_fields=changed)
        if groups is not None:
            user.groups.set(groups)
        if permissions is not None:
            user.user_permissions.set(permissions)
        entries = [
            *_field_entries(user, actor, source, before, changed),
            _groups_entry(user, actor, source, groups_before, list(user.groups.all()))
            if groups is not None
            else None,
            _permissions_entry(
                user, actor, source, permissions_before, _user_permissions(user)
            )
            if permissions is not None
            else None,
        ]
        audit_write([e for e in entries if e is not None])
    return user


def user_set_password(
    *,
    actor: User,
    user_id: int,
    password: str | None,
    source: Source | str = Source.BROWSER,
) -> User:
    """Set a user's password (None: no password login); the audit row says that it
    was set, never to what. Nobody but a superuser sets a superuser's password."""
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user_id)
        _refuse(selectors_access.user_target_refusal(actor=actor, user=user))
        _set_password(user, password)
        user.save(update_fields=["password"])
        audit_write([_password_entry(user, actor, source)])
    return user


def user_delete(
    *, actor: User, user_id: int, source: Source | str = Source.BROWSER
) -> None:
    """Delete a user; the audit row keeps their groups and permissions. Nobody but a
    superuser deletes a superuser; a user whom records refer to stays (inactive)."""
    try:
        with transaction.atomic():
            user = get_user_model().objects.select_for_update().get(pk=user_id)
            _refuse(selectors_access.user_target_refusal(actor=actor, user=user))
            groups, permissions = list(user.groups.all()), _user_permissions(user)
            audit_write(
                [
                    audit_for_object(
                        instance=user,
                        action=AuditAction.DELETED,
                        actor=actor,
                        source=source,
                        old_value={
                            "username": user.get_username(),
                            "groups": sorted(g.name for g in groups),
                            "permissions": sorted(
                                _permission_key(p) for p in permissions
                            ),
                        },
                        old_display=_(
                            "Groups: %(groups)s. Permissions: %(permissions)s."
                        )
                        % {
                            "groups": _group_list(groups),
                            "permissions": _permission_list(permissions),
                        },
                    )
                ]
            )
            user.delete()
    except ProtectedError as error:
        raise WorkflowError(str(USER_IN_USE % {"user": user.get_username()})) from error


def _check_user_fields(values: Mapping[str, object]) -> None:
    unknown = set(values) - set(USER_FIELDS)
    if unknown:
        raise ValueError(f"not a field the user services change: {sorted(unknown)}")


# --- groups -----------------------------------------------------------------------


def group_create(
    *,
    actor: User,
    name: str,
    permissions: Iterable[Permission] = (),
    source: Source | str = Source.BROWSER,
) -> Group:
    """Create a group with permissions that `actor` holds."""
    permissions = list(permissions)
    with transaction.atomic():
        _refuse(
            selectors_access.group_change_refusal(actor=actor, permissions=permissions)
        )
        group = Group(name=name)
        group.full_clean()
        group.save()
        group.permissions.set(permissions)
        entries = [
            audit_for_object(
                instance=group,
                action=AuditAction.CREATED,
                actor=actor,
                source=source,
                new_value=group.name,
                new_display=group.name,
            ),
            _permissions_entry(group, actor, source, [], _group_permissions(group)),
        ]
        audit_write([e for e in entries if e is not None])
    return group


def group_update(
    *,
    actor: User,
    group_id: int,
    name: str | None = None,
    permissions: Iterable[Permission] | None = None,
    source: Source | str = Source.BROWSER,
) -> Group:
    """Rename a group and, when given, replace its permissions; a permission that
    `actor` does not hold is refused, as it would reach every member."""
    permissions = None if permissions is None else list(permissions)
    with transaction.atomic():
        group = Group.objects.select_for_update().get(pk=group_id)
        _refuse(
            selectors_access.group_change_refusal(
                actor=actor, group=group, permissions=permissions
            )
        )
        before = {"name": group.name}
        permissions_before = _group_permissions(group)
        entries: list[AuditEntry | None] = []
        if name is not None and name != group.name:
            group.name = name
            group.full_clean()
            group.save(update_fields=["name"])
            entries.extend(_field_entries(group, actor, source, before, ["name"]))
        if permissions is not None:
            group.permissions.set(permissions)
            entries.append(
                _permissions_entry(
                    group, actor, source, permissions_before, _group_permissions(group)
                )
            )
        audit_write([e for e in entries if e is not None])
    return group


def group_delete(
    *, actor: User, group_id: int, source: Source | str = Source.BROWSER
) -> None:
    """Delete a group; the audit row keeps its permissions and its members, who lose
    what the group gave them."""
    try:
        with transaction.atomic():
            group = Group.objects.select_for_update().get(pk=group_id)
            permissions = _group_permissions(group)
            members = sorted(u.get_username() for u in group.user_set.all())
            audit_write(
                [
                    audit_for_object(
                        instance=group,
                        action=AuditAction.DELETED,
                        actor=actor,
                        source=source,
                        old_value={
                            "name": group.name,
                            "permissions": sorted(
                                _permission_key(p) for p in permissions
                            ),
                            "members": members,
                        },
                        old_display=_(
                            "Permissions: %(permissions)s. Members: %(members)s."
                        )
                        % {
                            "permissions": _permission_list(permissions),
                            "members": ", ".join(members) or _none(),
                        },
                    )
                ]
            )
            group.delete()
    except ProtectedError as error:
        raise WorkflowError(str(GROUP_IN_USE % {"group": group.name})) from error
