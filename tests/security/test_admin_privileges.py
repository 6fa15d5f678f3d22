"""An approval administrator manages users in the admin but cannot grant anyone, their
own account included, more than they hold; every change is in the audit trail.

The POSTs are made by hand, as an attacker would send them, not as the page offers.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.forms import ModelForm
from django.urls import reverse

from customers.management.commands.seed_demo import (
    APPROVAL_ADMINISTRATORS,
    APPROVERS,
    CLERKS,
)
from tests.factories import UserFactory
from workflow import selectors_access
from workflow.admin import access as access_admin
from workflow.core.access import (
    GROUP_GRANTS_MORE,
    ONLY_SUPERUSER_GRANTS_SUPERUSER,
    PERMISSIONS_NOT_HELD,
    SUPERUSER_PROTECTED,
)
from workflow.models import AuditAction, AuditEntry

NEW_PASSWORD = "a-long-new-Passw0rd"


def perm(dotted: str) -> Permission:
    app_label, codename = dotted.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def user_url(name: str, user) -> str:
    return reverse(f"admin:auth_user_{name}", args=[user.pk])


def user_post(user, **changes) -> dict:
    """The change form of `user` as the page sends it, with `changes` made by hand."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "groups": [g.pk for g in user.groups.all()],
        "user_permissions": [p.pk for p in user.user_permissions.all()],
    }
    if user.is_active:
        data["is_active"] = "on"
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(changes)
    return data


def audit_of(instance) -> list[tuple[str, str]]:
    return sorted(
        (e.action, e.field_name)
        for e in AuditEntry.objects.filter(object_id=instance.pk).filter(
            content_type__model=instance._meta.model_name
        )
    )


def errors(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True)


@pytest.fixture
def newcomer(db):
    return UserFactory(username="newcomer")


@pytest.fixture
def viewers(roles):
    """A group that grants nothing an approval administrator lacks."""
    group = Group.objects.create(name="Customer viewers")
    group.permissions.set([perm("customers.view_customer")])
    return group


@pytest.fixture
def as_admin(client, approval_admin):
    client.force_login(approval_admin)
    return client


@pytest.fixture
def unlimited_choices(monkeypatch):
    """The forms offer every group and permission, as if the choices were not limited,
    to show that the rules behind the form refuse what a hand-made POST sends."""
    monkeypatch.setattr(
        selectors_access,
        "grantable_permissions",
        lambda grantor, keep=(): Permission.objects.all(),
    )
    monkeypatch.setattr(
        selectors_access,
        "grantable_groups",
        lambda grantor, keep=(): Group.objects.all(),
    )


@pytest.fixture
def unchecked_forms(monkeypatch):
    """The forms do not ask the rules, so that the POST reaches the services."""
    monkeypatch.setattr(
        access_admin.UserChangeAccessForm, "clean", UserChangeForm.clean
    )
    monkeypatch.setattr(access_admin.GroupAccessForm, "clean", ModelForm.clean)


# --- superuser status ------------------------------------------------------------------


@pytest.mark.django_db
def test_superuser_status_is_not_on_the_page_of_an_approval_administrator(
    as_admin, clerk
):
    page = as_admin.get(user_url("change", clerk))

    assert page.status_code == 200
    assert 'name="is_superuser"' not in page.text
    assert 'name="is_staff"' in page.text


@pytest.mark.django_db
def test_a_superuser_sees_superuser_status(client, superuser, clerk):
    client.force_login(superuser)

    assert 'name="is_superuser"' in client.get(user_url("change", clerk)).text


@pytest.mark.django_db
def test_a_hand_made_post_does_not_make_a_user_superuser(as_admin, clerk):
    response = as_admin.post(
        user_url("change", clerk), user_post(clerk, is_superuser="on", last_name="X")
    )

    clerk.refresh_from_db()
    assert response.status_code == 302
    assert clerk.is_superuser is False
    assert clerk.last_name == "X"
    assert audit_of(clerk) == [(AuditAction.FIELD_CHANGED, "last_name")]


@pytest.mark.django_db
def test_an_approval_administrator_cannot_make_themselves_superuser(
    as_admin, approval_admin
):
    as_admin.post(
        user_url("change", approval_admin), user_post(approval_admin, is_superuser="on")
    )

    approval_admin.refresh_from_db()
    assert approval_admin.is_superuser is False
    assert audit_of(approval_admin) == []


@pytest.mark.django_db
def test_superuser_status_that_reaches_the_service_is_refused_and_nothing_is_saved(
    as_admin, clerk, approval_admin, monkeypatch, unchecked_forms
):
    monkeypatch.setattr(
        access_admin, "_changed_user_values", lambda form: {"is_superuser": True}
    )
    response = as_admin.post(user_url("change", clerk), user_post(clerk))

    clerk.refresh_from_db()
    assert response.status_code == 302
    assert response.url == user_url("change", clerk)
    assert errors(response) == [str(ONLY_SUPERUSER_GRANTS_SUPERUSER)]
    assert clerk.is_superuser is False
    assert audit_of(clerk) == []


# --- permissions and groups of a user --------------------------------------------------


@pytest.mark.django_db
def test_a_permission_the_administrator_lacks_is_not_offered(as_admin, clerk):
    page = as_admin.get(user_url("change", clerk))
    offered = set(page.context["adminform"].form.fields["user_permissions"].queryset)

    assert perm("auth.change_user") in offered
    assert perm("workflow.decide_workitem") not in offered
    assert perm("auth.delete_user") not in offered


@pytest.mark.django_db
def test_a_hand_made_post_cannot_grant_a_permission_the_administrator_lacks(
    as_admin, newcomer
):
    decide = perm("workflow.decide_workitem")
    response = as_admin.post(
        user_url("change", newcomer), user_post(newcomer, user_permissions=[decide.pk])
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["user_permissions"]
    assert not newcomer.user_permissions.exists()
    assert audit_of(newcomer) == []


@pytest.mark.django_db
def test_a_permission_outside_the_choices_is_refused_by_the_rules_too(
    as_admin, newcomer, unlimited_choices
):
    decide = perm("workflow.decide_workitem")
    response = as_admin.post(
        user_url("change", newcomer),
        user_post(newcomer, user_permissions=[decide.pk], first_name="Eve"),
    )

    newcomer.refresh_from_db()
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        PERMISSIONS_NOT_HELD % {"permissions": str(decide)}
    ]
    assert newcomer.first_name == ""
    assert not newcomer.user_permissions.exists()
    assert audit_of(newcomer) == []


@pytest.mark.django_db
def test_an_approval_administrator_cannot_grant_themselves_a_permission(
    as_admin, approval_admin, unchecked_forms, unlimited_choices
):
    decide = perm("workflow.decide_workitem")
    response = as_admin.post(
        user_url("change", approval_admin),
        user_post(approval_admin, user_permissions=[decide.pk], first_name="Ada"),
    )

    approval_admin.refresh_from_db()
    assert errors(response) == [PERMISSIONS_NOT_HELD % {"permissions": str(decide)}]
    assert approval_admin.first_name == ""
    assert not approval_admin.has_perm("workflow.decide_workitem")
    assert audit_of(approval_admin) == []


@pytest.mark.django_db
def test_a_group_that_grants_more_is_not_offered(as_admin, newcomer, roles, viewers):
    page = as_admin.get(user_url("change", newcomer))
    offered = set(page.context["adminform"].form.fields["groups"].queryset)

    assert offered == {viewers, roles[APPROVAL_ADMINISTRATORS]}


@pytest.mark.django_db
def test_the_groups_a_user_has_stay_offered(as_admin, clerk, roles, viewers):
    page = as_admin.get(user_url("change", clerk))
    offered = set(page.context["adminform"].form.fields["groups"].queryset)

    assert offered == {viewers, roles[APPROVAL_ADMINISTRATORS], roles[CLERKS]}


@pytest.mark.django_db
def test_a_hand_made_post_cannot_put_a_user_in_a_group_that_grants_more(
    as_admin, newcomer, roles, unlimited_choices
):
    approvers = roles[APPROVERS]
    response = as_admin.post(
        user_url("change", newcomer), user_post(newcomer, groups=[approvers.pk])
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        GROUP_GRANTS_MORE
        % {
            "group": APPROVERS,
            "permissions": str(perm("workflow.decide_workitem")),
        }
    ]
    assert not newcomer.groups.exists()
    assert audit_of(newcomer) == []


@pytest.mark.django_db
def test_an_approval_administrator_cannot_put_anyone_in_clerks(
    as_admin, newcomer, roles, unlimited_choices
):
    """Clerks add, change and submit customers, which approval administrators may not
    (ROLE_PERMISSIONS); only a superuser gives that role."""
    response = as_admin.post(
        user_url("change", newcomer), user_post(newcomer, groups=[roles[CLERKS].pk])
    )

    missing = sorted(
        str(perm(p))
        for p in (
            "customers.add_customer",
            "customers.change_customer",
            "workflow.submit_changeproposal",
        )
    )
    assert response.context["adminform"].form.non_field_errors() == [
        GROUP_GRANTS_MORE % {"group": CLERKS, "permissions": ", ".join(missing)}
    ]
    assert not newcomer.groups.exists()


# --- the ordinary work -----------------------------------------------------------------


@pytest.mark.django_db
def test_an_approval_administrator_creates_a_user(as_admin, approval_admin):
    response = as_admin.post(
        reverse("admin:auth_user_add"),
        {
            "username": "claire",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )

    claire = get_user_model().objects.get(username="claire")
    assert response.status_code == 302
    assert response.url == user_url("change", claire)
    assert claire.check_password(NEW_PASSWORD)
    assert claire.is_superuser is False
    assert audit_of(claire) == [
        (AuditAction.CREATED, ""),
        (AuditAction.PASSWORD_CHANGED, "password"),
    ]
    created = AuditEntry.objects.get(object_id=claire.pk, action=AuditAction.CREATED)
    assert (created.actor, created.object_repr) == (approval_admin, "claire")


@pytest.mark.django_db
def test_an_approval_administrator_puts_a_user_in_a_group_and_names_it_in_the_audit(
    as_admin, newcomer, viewers
):
    response = as_admin.post(
        user_url("change", newcomer), user_post(newcomer, groups=[viewers.pk])
    )

    assert response.status_code == 302
    assert list(newcomer.groups.all()) == [viewers]
    entry = AuditEntry.objects.get(object_id=newcomer.pk)
    assert (entry.action, entry.old_display, entry.new_display) == (
        AuditAction.GROUPS_CHANGED,
        "(none)",
        "Customer viewers",
    )
    assert entry.comment == "Added: Customer viewers."


@pytest.mark.django_db
def test_an_approval_administrator_changes_a_clerk_in_clerks(as_admin, clerk, roles):
    """A user keeps a group that grants more than the administrator holds when the
    administrator changes something else."""
    response = as_admin.post(
        user_url("change", clerk), user_post(clerk, email="claire@example.com")
    )

    clerk.refresh_from_db()
    assert response.status_code == 302
    assert clerk.email == "claire@example.com"
    assert list(clerk.groups.all()) == [roles[CLERKS]]
    assert audit_of(clerk) == [(AuditAction.FIELD_CHANGED, "email")]


@pytest.mark.django_db
def test_an_approval_administrator_takes_a_clerk_out_of_clerks(as_admin, clerk):
    as_admin.post(user_url("change", clerk), user_post(clerk, groups=[]))

    entry = AuditEntry.objects.get(object_id=clerk.pk)
    assert not clerk.groups.exists()
    assert (entry.action, entry.old_display, entry.new_display, entry.comment) == (
        AuditAction.GROUPS_CHANGED,
        CLERKS,
        "(none)",
        "Removed: Clerks.",
    )


@pytest.mark.django_db
def test_a_superuser_puts_a_clerk_in_clerks(client, superuser, newcomer, roles):
    client.force_login(superuser)
    response = client.post(
        user_url("change", newcomer), user_post(newcomer, groups=[roles[CLERKS].pk])
    )

    assert response.status_code == 302
    assert newcomer.has_perm("customers.change_customer")
    assert audit_of(newcomer) == [(AuditAction.GROUPS_CHANGED, "groups")]


@pytest.mark.django_db
def test_an_approval_administrator_resets_a_clerks_password(as_admin, clerk):
    response = as_admin.post(
        user_url("password_change", clerk),
        {
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )

    clerk.refresh_from_db()
    entry = AuditEntry.objects.get(object_id=clerk.pk)
    assert response.status_code == 302
    assert clerk.check_password(NEW_PASSWORD)
    assert entry.action == AuditAction.PASSWORD_CHANGED
    assert entry.comment == "A new password was set."
    written = " ".join(
        str(v)
        for v in (
            entry.old_value,
            entry.new_value,
            entry.old_display,
            entry.new_display,
        )
    )
    assert NEW_PASSWORD not in written
    assert clerk.password not in written


@pytest.mark.django_db
def test_changing_ones_own_password_is_audited(as_admin, approval_admin):
    response = as_admin.post(
        reverse("admin:password_change"),
        {
            "old_password": "pw",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    approval_admin.refresh_from_db()
    assert response.status_code == 302
    assert approval_admin.check_password(NEW_PASSWORD)
    assert audit_of(approval_admin) == [(AuditAction.PASSWORD_CHANGED, "password")]
    # The session stays valid after the change.
    assert as_admin.get(reverse("admin:index")).status_code == 200


# --- superusers are out of reach ----------------------------------------------------


@pytest.mark.django_db
def test_an_approval_administrator_cannot_set_a_superusers_password(
    as_admin, superuser
):
    response = as_admin.post(
        user_url("password_change", superuser),
        {
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )

    superuser.refresh_from_db()
    assert response.status_code == 403
    assert superuser.check_password("pw")
    assert audit_of(superuser) == []


@pytest.mark.django_db
def test_an_approval_administrator_cannot_change_a_superuser(as_admin, superuser):
    response = as_admin.post(
        user_url("change", superuser),
        user_post(superuser, email="mine@example.com", is_superuser="on"),
    )

    superuser.refresh_from_db()
    assert response.status_code == 403
    assert superuser.email == "root@example.com"
    assert audit_of(superuser) == []


@pytest.mark.django_db
def test_a_superuser_change_that_reaches_the_service_is_refused(
    as_admin, superuser, monkeypatch, unchecked_forms
):
    monkeypatch.setattr(
        access_admin.UserAccessAdmin, "has_change_permission", lambda *a, **k: True
    )
    response = as_admin.post(
        user_url("change", superuser),
        user_post(superuser, is_active="", email="mine@example.com"),
    )

    superuser.refresh_from_db()
    assert errors(response) == [SUPERUSER_PROTECTED % {"user": "root"}]
    assert (superuser.email, superuser.is_active) == ("root@example.com", True)
    assert audit_of(superuser) == []


@pytest.mark.django_db
def test_a_user_administrator_who_may_delete_users_cannot_delete_a_superuser(
    as_admin, approval_admin, superuser
):
    approval_admin.user_permissions.add(perm("auth.delete_user"))
    response = as_admin.post(user_url("delete", superuser), {"post": "yes"})

    assert response.status_code == 403
    assert get_user_model().objects.filter(pk=superuser.pk).exists()
    assert audit_of(superuser) == []


@pytest.mark.django_db
def test_a_user_administrator_who_may_delete_users_deletes_a_clerk(
    as_admin, approval_admin, newcomer, roles
):
    newcomer.groups.add(roles[CLERKS])
    approval_admin.user_permissions.add(perm("auth.delete_user"))
    response = as_admin.post(user_url("delete", newcomer), {"post": "yes"})

    entry = AuditEntry.objects.get(object_id=newcomer.pk)
    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=newcomer.pk).exists()
    assert (entry.action, entry.object_repr, entry.old_value["groups"]) == (
        AuditAction.DELETED,
        "newcomer",
        [CLERKS],
    )


@pytest.mark.django_db
def test_users_are_not_deleted_in_bulk(rf, superuser):
    request = rf.get("/")
    request.user = superuser
    user_admin = admin.site._registry[get_user_model()]
    group_admin = admin.site._registry[Group]

    assert "delete_selected" not in user_admin.get_actions(request)
    assert "delete_selected" not in group_admin.get_actions(request)


# --- groups ------------------------------------------------------------------------


def group_url(name: str, group=None) -> str:
    return reverse(f"admin:auth_group_{name}", args=[group.pk] if group else [])


@pytest.mark.django_db
def test_a_group_cannot_be_given_a_permission_the_administrator_lacks(
    as_admin, viewers
):
    decide = perm("workflow.decide_workitem")
    response = as_admin.post(
        group_url("change", viewers),
        {
            "name": viewers.name,
            "permissions": [perm("customers.view_customer").pk, decide.pk],
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["permissions"]
    assert list(viewers.permissions.all()) == [perm("customers.view_customer")]
    assert audit_of(viewers) == []


@pytest.mark.django_db
def test_a_group_permission_outside_the_choices_is_refused_by_the_rules_too(
    as_admin, roles, unlimited_choices
):
    """The approval administrators' own group: the shortest way to grant oneself more."""
    own = roles[APPROVAL_ADMINISTRATORS]
    before = set(own.permissions.all())
    decide = perm("workflow.decide_workitem")
    response = as_admin.post(
        group_url("change", own),
        {"name": "Root", "permissions": [p.pk for p in before] + [decide.pk]},
    )

    own.refresh_from_db()
    assert response.context["adminform"].form.non_field_errors() == [
        PERMISSIONS_NOT_HELD % {"permissions": str(decide)}
    ]
    assert own.name == APPROVAL_ADMINISTRATORS
    assert set(own.permissions.all()) == before
    assert audit_of(own) == []


@pytest.mark.django_db
def test_a_group_permission_that_reaches_the_service_is_refused(
    as_admin, roles, unlimited_choices, unchecked_forms
):
    own = roles[APPROVAL_ADMINISTRATORS]
    before = set(own.permissions.all())
    decide = perm("workflow.decide_workitem")
    response = as_admin.post(
        group_url("change", own),
        {"name": "Root", "permissions": [p.pk for p in before] + [decide.pk]},
    )

    own.refresh_from_db()
    assert errors(response) == [PERMISSIONS_NOT_HELD % {"permissions": str(decide)}]
    assert own.name == APPROVAL_ADMINISTRATORS
    assert set(own.permissions.all()) == before
    assert audit_of(own) == []


@pytest.mark.django_db
def test_an_approval_administrator_renames_a_group_and_changes_its_permissions(
    as_admin, viewers
):
    export = perm("customers.export_customer")
    response = as_admin.post(
        group_url("change", viewers),
        {"name": "Customer readers", "permissions": [export.pk]},
    )

    viewers.refresh_from_db()
    entries = {e.action: e for e in AuditEntry.objects.filter(object_id=viewers.pk)}
    assert response.status_code == 302
    assert viewers.name == "Customer readers"
    assert list(viewers.permissions.all()) == [export]
    assert set(entries) == {AuditAction.FIELD_CHANGED, AuditAction.PERMISSIONS_CHANGED}
    renamed = entries[AuditAction.FIELD_CHANGED]
    assert (renamed.old_display, renamed.new_display) == (
        "Customer viewers",
        "Customer readers",
    )
    changed = entries[AuditAction.PERMISSIONS_CHANGED]
    assert (changed.old_display, changed.new_display) == (
        str(perm("customers.view_customer")),
        str(export),
    )
    assert changed.new_value == ["customers.export_customer"]


@pytest.mark.django_db
def test_a_superuser_creates_a_group(client, superuser):
    client.force_login(superuser)
    decide = perm("workflow.decide_workitem")
    response = client.post(
        group_url("add"), {"name": "Controllers", "permissions": [decide.pk]}
    )

    group = Group.objects.get(name="Controllers")
    assert response.status_code == 302
    assert audit_of(group) == [
        (AuditAction.CREATED, ""),
        (AuditAction.PERMISSIONS_CHANGED, "permissions"),
    ]


@pytest.mark.django_db
def test_every_user_and_group_page_answers_an_approval_administrator(
    as_admin, clerk, roles
):
    pages = {
        reverse("admin:auth_user_changelist"): 200,
        reverse("admin:auth_user_add"): 200,
        user_url("change", clerk): 200,
        user_url("password_change", clerk): 200,
        reverse("admin:password_change"): 200,
        reverse("admin:auth_group_changelist"): 200,
        group_url("change", roles[CLERKS]): 200,
        # Approval administrators may not add or delete groups or delete users.
        group_url("add"): 403,
        group_url("delete", roles[CLERKS]): 403,
        user_url("delete", clerk): 403,
    }

    assert {url: as_admin.get(url).status_code for url in pages} == pages
    change = as_admin.get(user_url("change", clerk))
    # The admin's two-pane choosers, as in Django's own user page.
    assert 'name="groups"' in change.text
    assert change.text.count('class="selectfilter"') == 2


@pytest.mark.django_db
def test_a_hand_made_post_to_the_add_page_creates_a_plain_user(as_admin, roles):
    as_admin.post(
        reverse("admin:auth_user_add"),
        {
            "username": "mallory",
            "usable_password": "true",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "is_superuser": "on",
            "groups": [roles[APPROVERS].pk],
            "user_permissions": [perm("auth.delete_user").pk],
        },
    )

    mallory = get_user_model().objects.get(username="mallory")
    assert mallory.is_superuser is False
    assert not mallory.groups.exists()
    assert not mallory.user_permissions.exists()


def test_the_user_and_group_pages_are_ours():
    assert isinstance(
        admin.site._registry[get_user_model()], access_admin.UserAccessAdmin
    )
    assert isinstance(admin.site._registry[Group], access_admin.GroupAccessAdmin)


ROOT = Path(__file__).resolve().parents[2]
ACCESS_WRITE = re.compile(
    r"\.(groups|user_permissions|permissions|user_set)\.(set|add|remove|clear)\("
    r"|\.set_(unusable_)?password\("
)


def test_only_the_access_services_write_groups_permissions_and_passwords():
    """A new path that changes access would skip the rules and the audit trail."""
    allowed = {
        "workflow/services/access.py",
        # Demo data: the roles and the demo users, set up from the shell.
        "customers/management/commands/seed_demo.py",
    }
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for app in ("customers", "workflow", "custapproval")
        for path in (ROOT / app).rglob("*.py")
        if path.relative_to(ROOT).as_posix() not in allowed
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ACCESS_WRITE.search(line)
    ]
    assert found == []
