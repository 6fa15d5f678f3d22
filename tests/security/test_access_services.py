"""The access services refuse whatever would grant more than the actor holds, whoever
calls them, and write every change of users and groups to the audit trail."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from customers.management.commands.seed_demo import (
    APPROVAL_ADMINISTRATORS,
    APPROVERS,
    CLERKS,
)
from tests.factories import UserFactory
from workflow.core.access import (
    GROUP_GRANTS_MORE,
    ONLY_SUPERUSER_GRANTS_SUPERUSER,
    PERMISSIONS_NOT_HELD,
    STAFF_NOT_HELD,
    SUPERUSER_PROTECTED,
)
from workflow.exceptions import PermissionRefused, WorkflowError
from workflow.models import AuditAction, AuditEntry
from workflow.services import access
from workflow.services.access import USER_IN_USE

User = get_user_model()
NEW_PASSWORD = "a-long-new-Passw0rd"


def perm(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def rows(instance) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(
            object_id=instance.pk, content_type__model=instance._meta.model_name
        ).order_by("id")
    )


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def newcomer(db):
    return UserFactory(username="newcomer")


# --- refusals ----------------------------------------------------------------------


@pytest.mark.django_db
def test_only_a_superuser_makes_a_superuser(approval_admin, newcomer):
    with pytest.raises(PermissionRefused) as refused:
        access.user_update(
            actor=approval_admin, user_id=newcomer.pk, values={"is_superuser": True}
        )

    newcomer.refresh_from_db()
    assert refused.value.message == ONLY_SUPERUSER_GRANTS_SUPERUSER
    assert newcomer.is_superuser is False
    assert rows(newcomer) == []


@pytest.mark.django_db
def test_nobody_creates_a_superuser_but_a_superuser(approval_admin):
    with pytest.raises(PermissionRefused) as refused:
        access.user_create(
            actor=approval_admin,
            username="mallory",
            password=NEW_PASSWORD,
            values={"is_superuser": True},
        )

    assert refused.value.message == ONLY_SUPERUSER_GRANTS_SUPERUSER
    assert not User.objects.filter(username="mallory").exists()
    assert not AuditEntry.objects.filter(object_repr="mallory").exists()


@pytest.mark.django_db
def test_a_permission_the_actor_lacks_is_refused_even_for_their_own_account(
    approval_admin,
):
    decide = perm("workflow.decide_workitem")
    with pytest.raises(PermissionRefused) as refused:
        access.user_update(
            actor=approval_admin,
            user_id=approval_admin.pk,
            values={"first_name": "Ada"},
            permissions=[decide],
        )

    approval_admin.refresh_from_db()
    assert refused.value.message == PERMISSIONS_NOT_HELD % {"permissions": str(decide)}
    assert approval_admin.first_name == ""
    assert not approval_admin.user_permissions.exists()
    assert rows(approval_admin) == []


@pytest.mark.django_db
def test_a_group_that_grants_more_than_the_actor_holds_is_refused(
    approval_admin, newcomer, roles
):
    with pytest.raises(PermissionRefused) as refused:
        access.user_update(
            actor=approval_admin, user_id=newcomer.pk, groups=[roles[APPROVERS]]
        )

    assert refused.value.message == GROUP_GRANTS_MORE % {
        "group": APPROVERS,
        "permissions": str(perm("workflow.decide_workitem")),
    }
    assert not newcomer.groups.exists()
    assert rows(newcomer) == []


@pytest.mark.django_db
def test_a_new_user_cannot_be_given_a_group_that_grants_more(approval_admin, roles):
    with pytest.raises(PermissionRefused):
        access.user_create(
            actor=approval_admin,
            username="mallory",
            password=NEW_PASSWORD,
            groups=[roles[APPROVERS]],
        )

    assert not User.objects.filter(username="mallory").exists()


@pytest.mark.django_db
def test_a_group_cannot_be_given_a_permission_the_actor_lacks(approval_admin, roles):
    own = roles[APPROVAL_ADMINISTRATORS]
    before = set(own.permissions.all())
    decide = perm("workflow.decide_workitem")
    with pytest.raises(PermissionRefused) as refused:
        access.group_update(
            actor=approval_admin,
            group_id=own.pk,
            name="Everything",
            permissions=[*before, decide],
        )

    own.refresh_from_db()
    assert refused.value.message == PERMISSIONS_NOT_HELD % {"permissions": str(decide)}
    assert (own.name, set(own.permissions.all())) == (APPROVAL_ADMINISTRATORS, before)
    assert rows(own) == []


@pytest.mark.django_db
def test_a_new_group_cannot_have_a_permission_the_actor_lacks(approval_admin):
    with pytest.raises(PermissionRefused):
        access.group_create(
            actor=approval_admin,
            name="Back door",
            permissions=[perm("auth.delete_user")],
        )

    assert not Group.objects.filter(name="Back door").exists()


@pytest.mark.django_db
def test_staff_status_is_given_only_by_staff(approval_admin, newcomer):
    User.objects.filter(pk=approval_admin.pk).update(is_staff=False)
    User.objects.filter(pk=newcomer.pk).update(is_staff=False)

    with pytest.raises(PermissionRefused) as refused:
        access.user_update(
            actor=approval_admin, user_id=newcomer.pk, values={"is_staff": True}
        )

    assert refused.value.message == STAFF_NOT_HELD


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change",
    [
        lambda actor, su: access.user_update(
            actor=actor, user_id=su.pk, values={"email": "mine@example.com"}
        ),
        lambda actor, su: access.user_update(
            actor=actor, user_id=su.pk, values={"is_active": False}
        ),
        lambda actor, su: access.user_update(actor=actor, user_id=su.pk, groups=[]),
        lambda actor, su: access.user_set_password(
            actor=actor, user_id=su.pk, password=NEW_PASSWORD
        ),
        lambda actor, su: access.user_set_password(
            actor=actor, user_id=su.pk, password=None
        ),
        lambda actor, su: access.user_delete(actor=actor, user_id=su.pk),
    ],
    ids=["email", "deactivate", "groups", "password", "no password", "delete"],
)
def test_a_superuser_is_out_of_reach_of_everybody_else(
    approval_admin, superuser, change
):
    with pytest.raises(PermissionRefused) as refused:
        change(approval_admin, superuser)

    superuser.refresh_from_db()
    assert refused.value.message == SUPERUSER_PROTECTED % {"user": "root"}
    assert superuser.email == "root@example.com"
    assert superuser.is_active
    assert superuser.check_password("pw")
    assert rows(superuser) == []


@pytest.mark.django_db
def test_a_user_whom_the_audit_trail_names_is_not_deleted(
    superuser, approval_admin, approvals_on
):
    with pytest.raises(WorkflowError) as refused:
        access.user_delete(actor=superuser, user_id=approval_admin.pk)

    assert refused.value.message == USER_IN_USE % {"user": "admin"}
    assert User.objects.filter(pk=approval_admin.pk).exists()
    assert rows(approval_admin) == []


# --- what is allowed, and its audit rows -------------------------------------------


@pytest.mark.django_db
def test_a_superuser_may_do_everything(superuser, newcomer, roles):
    decide = perm("workflow.decide_workitem")
    access.user_update(
        actor=superuser,
        user_id=newcomer.pk,
        values={"is_superuser": True, "first_name": "Nina"},
        groups=[roles[APPROVERS], roles[CLERKS]],
        permissions=[decide],
    )

    newcomer.refresh_from_db()
    assert newcomer.is_superuser
    entries = [
        (e.action, e.field_name, e.old_display, e.new_display) for e in rows(newcomer)
    ]
    assert entries == [
        (AuditAction.FIELD_CHANGED, "first_name", "", "Nina"),
        (AuditAction.FIELD_CHANGED, "is_superuser", "No", "Yes"),
        (AuditAction.GROUPS_CHANGED, "groups", "(none)", "Approvers, Clerks"),
        (AuditAction.PERMISSIONS_CHANGED, "user_permissions", "(none)", str(decide)),
    ]
    assert all(e.actor == superuser for e in rows(newcomer))


@pytest.mark.django_db
def test_an_approval_administrator_grants_what_they_hold(approval_admin, newcomer):
    export = perm("customers.export_customer")
    access.user_update(actor=approval_admin, user_id=newcomer.pk, permissions=[export])

    (entry,) = rows(newcomer)
    assert newcomer.has_perm("customers.export_customer")
    assert (entry.action, entry.old_value, entry.new_value, entry.comment) == (
        AuditAction.PERMISSIONS_CHANGED,
        [],
        ["customers.export_customer"],
        f"Added: {export}.",
    )


@pytest.mark.django_db
def test_a_permission_the_user_already_has_is_not_granted_again(
    approval_admin, newcomer
):
    """Keeping a permission the actor lacks is no grant; removing it is allowed."""
    decide = perm("workflow.decide_workitem")
    newcomer.user_permissions.add(decide)

    access.user_update(
        actor=approval_admin,
        user_id=newcomer.pk,
        values={"last_name": "N"},
        permissions=[decide],
    )
    access.user_update(actor=approval_admin, user_id=newcomer.pk, permissions=[])

    assert not newcomer.user_permissions.exists()
    assert [(e.action, e.comment) for e in rows(newcomer)] == [
        (AuditAction.FIELD_CHANGED, ""),
        (AuditAction.PERMISSIONS_CHANGED, f"Removed: {decide}."),
    ]


@pytest.mark.django_db
def test_a_created_user_has_a_row_for_each_thing_given(approval_admin, roles):
    user = access.user_create(
        actor=approval_admin,
        username="claire",
        password=NEW_PASSWORD,
        values={"email": "claire@example.com", "is_staff": True},
        groups=[roles[APPROVAL_ADMINISTRATORS]],
    )

    assert user.check_password(NEW_PASSWORD)
    assert [(e.action, e.field_name, e.new_display) for e in rows(user)] == [
        (AuditAction.CREATED, "", "claire"),
        (AuditAction.FIELD_CHANGED, "email", "claire@example.com"),
        (AuditAction.FIELD_CHANGED, "is_staff", "Yes"),
        (AuditAction.PASSWORD_CHANGED, "password", ""),
        (AuditAction.GROUPS_CHANGED, "groups", APPROVAL_ADMINISTRATORS),
    ]


@pytest.mark.django_db
def test_the_password_is_never_in_the_audit_trail(approval_admin, clerk):
    access.user_set_password(
        actor=approval_admin, user_id=clerk.pk, password=NEW_PASSWORD
    )
    access.user_set_password(actor=approval_admin, user_id=clerk.pk, password=None)

    clerk.refresh_from_db()
    assert not clerk.has_usable_password()
    entries = rows(clerk)
    assert [(e.action, e.comment) for e in entries] == [
        (AuditAction.PASSWORD_CHANGED, "A new password was set."),
        (AuditAction.PASSWORD_CHANGED, "Password-based authentication was disabled."),
    ]
    for entry in entries:
        assert (
            entry.old_value,
            entry.new_value,
            entry.old_display,
            entry.new_display,
        ) == (
            None,
            None,
            "",
            "",
        )


@pytest.mark.django_db
def test_a_weak_password_is_refused(approval_admin, clerk):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        access.user_set_password(actor=approval_admin, user_id=clerk.pk, password="123")

    clerk.refresh_from_db()
    assert clerk.check_password("pw")
    assert rows(clerk) == []


@pytest.mark.django_db
def test_a_deleted_user_leaves_their_groups_in_the_audit_trail(
    superuser, newcomer, roles
):
    newcomer.groups.add(roles[CLERKS])
    access.user_delete(actor=superuser, user_id=newcomer.pk)

    (entry,) = rows(newcomer)
    assert not User.objects.filter(pk=newcomer.pk).exists()
    assert (entry.action, entry.object_repr, entry.old_value) == (
        AuditAction.DELETED,
        "newcomer",
        {"username": "newcomer", "groups": [CLERKS], "permissions": []},
    )
    assert entry.old_display == "Groups: Clerks. Permissions: (none)."


@pytest.mark.django_db
def test_a_group_is_created_renamed_and_deleted_with_audit_rows(superuser, newcomer):
    view = perm("customers.view_customer")
    group = access.group_create(actor=superuser, name="Readers", permissions=[view])
    newcomer.groups.add(group)
    access.group_update(actor=superuser, group_id=group.pk, name="Customer readers")
    access.group_delete(actor=superuser, group_id=group.pk)

    assert not Group.objects.filter(pk=group.pk).exists()
    assert [(e.action, e.old_display, e.new_display) for e in rows(group)] == [
        (AuditAction.CREATED, "", "Readers"),
        (AuditAction.PERMISSIONS_CHANGED, "(none)", str(view)),
        (AuditAction.FIELD_CHANGED, "Readers", "Customer readers"),
        (
            AuditAction.DELETED,
            f"Permissions: {view}. Members: newcomer.",
            "",
        ),
    ]
