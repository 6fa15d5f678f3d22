"""Users and groups in the admin, saved through `services.access` so that nobody
grants more than they hold and every change is in the audit trail.

Django's own UserAdmin and GroupAdmin save the form and its many-to-many fields
directly; these subclasses hand the form's values to the services instead, offer only
what the person may grant, and hide superuser status from whoever is not one. The
services check every POST again, so a hand-made one is refused all the same.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminPasswordChangeForm as OwnPasswordForm
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    UserChangeForm,
)
from django.contrib.auth.models import Group
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from .. import selectors_access
from ..exceptions import WorkflowError
from ..services import access as access_services

User = get_user_model()

SAVED_THROUGH_SERVICES = (
    "Users, groups and passwords are saved through workflow.services.access."
)


class _ActorFormMixin:
    """A form that knows who submits it, so that it can show the refusal of the
    access rules next to the fields instead of failing on save."""

    actor = None

    def save(self, commit=True):
        # The admin hands the cleaned data to the services; a direct save would skip
        # the rules and the audit trail.
        if commit:
            raise ImproperlyConfigured(SAVED_THROUGH_SERVICES)
        return super().save(commit=False)


class UserCreationAccessForm(_ActorFormMixin, AdminUserCreationForm):
    def clean(self):
        cleaned = super().clean()
        refusal = selectors_access.user_change_refusal(
            actor=self.actor, values={"username": cleaned.get("username")}
        )
        if refusal:
            raise ValidationError(refusal)
        return cleaned


class UserChangeAccessForm(_ActorFormMixin, UserChangeForm):
    def clean(self):
        cleaned = super().clean()
        refusal = selectors_access.user_change_refusal(
            actor=self.actor,
            user=self.instance,
            values=_changed_user_values(self),
            groups=cleaned.get("groups") if "groups" in self.fields else None,
            permissions=cleaned.get("user_permissions")
            if "user_permissions" in self.fields
            else None,
        )
        if refusal:
            raise ValidationError(refusal)
        return cleaned


class PasswordAccessForm(_ActorFormMixin, AdminPasswordChangeForm):
    pass


class GroupAccessForm(_ActorFormMixin, forms.ModelForm):
    def clean(self):
        cleaned = super().clean()
        refusal = selectors_access.group_change_refusal(
            actor=self.actor,
            group=self.instance if self.instance.pk else None,
            permissions=cleaned.get("permissions")
            if "permissions" in self.fields
            else None,
        )
        if refusal:
            raise ValidationError(refusal)
        return cleaned


def _changed_user_values(form) -> dict[str, object]:
    return {
        name: form.cleaned_data[name]
        for name in form.changed_data
        if name in access_services.USER_FIELDS and name in form.cleaned_data
    }


def _with_actor(form_class, request):
    # get_form builds a new class on every call, so the attribute is this request's.
    form_class.actor = request.user
    return form_class


class _SavedThroughServicesMixin:
    """Runs the admin's add, change and delete pages so that a refusal of a service
    (raised after the form was valid, e.g. by a change made meanwhile) rolls the whole
    page's transaction back and is shown as an error on the page."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (WorkflowError, ValidationError) as error:
            self._report(request, error)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except (WorkflowError, ValidationError) as error:
            self._report(request, error)
            return HttpResponseRedirect(
                reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                    args=[object_id],
                )
            )

    def _report(self, request, error) -> None:
        text = (
            error.message
            if isinstance(error, WorkflowError)
            else " ".join(error.messages)
        )
        self.message_user(request, text, messages.ERROR)

    def get_actions(self, request):
        # One at a time through the service, which audits each deletion.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_related(self, request, form, formsets, change) -> None:
        """The groups and permissions were saved by the service in `save_model`, in
        the same check and transaction; the form's save_m2m would write them unchecked."""


class UserAccessAdmin(_SavedThroughServicesMixin, UserAdmin):
    form = UserChangeAccessForm
    add_form = UserCreationAccessForm
    change_password_form = PasswordAccessForm
    readonly_fields = ("last_login", "date_joined")

    def get_fieldsets(self, request, obj=None):
        """Superuser status is shown only to superusers."""
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": _without(options["fields"], "is_superuser")})
            for name, options in fieldsets
        ]

    def get_form(self, request, obj=None, **kwargs):
        """Offers the groups and permissions the person may grant, and those the user
        has already."""
        form_class = _with_actor(super().get_form(request, obj, **kwargs), request)
        grantor = selectors_access.grantor_for(request.user)
        fields = form_class.base_fields
        if "groups" in fields:
            keep = obj.groups.values_list("pk", flat=True) if obj else []
            fields["groups"].queryset = selectors_access.grantable_groups(
                grantor, keep=keep
            )
        if "user_permissions" in fields:
            keep = obj.user_permissions.values_list("pk", flat=True) if obj else []
            fields[
                "user_permissions"
            ].queryset = selectors_access.grantable_permissions(grantor, keep=keep)
            fields[
                "user_permissions"
            ].label_from_instance = selectors_access.permission_label
        return form_class

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and selectors_access.user_target_refusal(
            actor=request.user, user=obj
        ):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and selectors_access.user_target_refusal(
            actor=request.user, user=obj
        ):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        """Creates or changes the user through the services, groups and permissions
        included; a refusal rolls the page back (`changeform_view`)."""
        if change:
            access_services.user_update(
                actor=request.user,
                user_id=obj.pk,
                values=_changed_user_values(form),
                groups=form.cleaned_data["groups"] if "groups" in form.fields else None,
                permissions=form.cleaned_data["user_permissions"]
                if "user_permissions" in form.fields
                else None,
            )
            return
        created = access_services.user_create(
            actor=request.user,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password1"]
            if form.cleaned_data.get("set_usable_password", True)
            else None,
        )
        obj.pk = created.pk
        obj._state.adding = False

    def delete_model(self, request, obj) -> None:
        access_services.user_delete(actor=request.user, user_id=obj.pk)

    def delete_queryset(self, request, queryset) -> None:
        for user in queryset:
            access_services.user_delete(actor=request.user, user_id=user.pk)

    @method_decorator(sensitive_post_parameters())
    def user_change_password(self, request, id, form_url=""):
        """Django's password page, with the password set by `user_set_password`."""
        user = self.get_object(request, unquote(id))
        if (
            request.method != "POST"
            or user is None
            or not self.has_change_permission(request, user)
        ):
            return super().user_change_password(request, id, form_url)
        form = self.change_password_form(user, request.POST)
        if not form.is_valid() or not (
            form.cleaned_data["set_usable_password"] or "unset-password" in request.POST
        ):
            # Django's page shows the errors and the conflicting submission.
            return super().user_change_password(request, id, form_url)
        try:
            user = access_services.user_set_password(
                actor=request.user,
                user_id=user.pk,
                password=form.cleaned_data["password1"]
                if form.cleaned_data["set_usable_password"]
                else None,
            )
        except (WorkflowError, ValidationError) as error:
            self._report(request, error)
            return HttpResponseRedirect(request.get_full_path())
        self.log_change(
            request, user, self.construct_change_message(request, form, None)
        )
        self.message_user(
            request,
            _("Password changed successfully.")
            if user.has_usable_password()
            else _("Password-based authentication was disabled."),
            messages.SUCCESS,
        )
        update_session_auth_hash(request, user)
        return HttpResponseRedirect(
            reverse(
                f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change",
                args=[user.pk],
            )
        )


class GroupAccessAdmin(_SavedThroughServicesMixin, GroupAdmin):
    form = GroupAccessForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        """Offers the permissions the person may grant, and those the group has."""
        form_class = _with_actor(
            super().get_form(request, obj, change=change, **kwargs), request
        )
        if "permissions" in form_class.base_fields:
            keep = obj.permissions.values_list("pk", flat=True) if obj else []
            form_class.base_fields[
                "permissions"
            ].queryset = selectors_access.grantable_permissions(
                selectors_access.grantor_for(request.user), keep=keep
            )
            form_class.base_fields[
                "permissions"
            ].label_from_instance = selectors_access.permission_label
        return form_class

    def save_model(self, request, obj, form, change) -> None:
        """Creates or changes the group through the services, permissions included."""
        permissions = (
            form.cleaned_data["permissions"] if "permissions" in form.fields else None
        )
        if change:
            access_services.group_update(
                actor=request.user,
                group_id=obj.pk,
                name=form.cleaned_data.get("name"),
                permissions=permissions,
            )
            return
        created = access_services.group_create(
            actor=request.user,
            name=form.cleaned_data["name"],
            permissions=permissions or (),
        )
        obj.pk = created.pk
        obj._state.adding = False

    def delete_model(self, request, obj) -> None:
        access_services.group_delete(actor=request.user, group_id=obj.pk)

    def delete_queryset(self, request, queryset) -> None:
        for group in queryset:
            access_services.group_delete(actor=request.user, group_id=group.pk)


def _without(fields, name: str) -> tuple:
    return tuple(f for f in fields if f != name)


class OwnPasswordChangeView(PasswordChangeView):
    """The admin's "Change password" for one's own account, through the service."""

    form_class = OwnPasswordForm

    def form_valid(self, form):
        user = access_services.user_set_password(
            actor=self.request.user,
            user_id=self.request.user.pk,
            password=form.cleaned_data["new_password1"],
        )
        update_session_auth_hash(self.request, user)
        return HttpResponseRedirect(self.get_success_url())


def own_password_change(request):
    """Replaces `AdminSite.password_change`, which saves the form directly."""
    site = admin.site
    request.current_app = site.name
    return OwnPasswordChangeView.as_view(
        success_url=reverse("admin:password_change_done", current_app=site.name),
        extra_context=site.each_context(request),
    )(request)


admin.site.unregister(User)
admin.site.unregister(Group)
admin.site.register(User, UserAccessAdmin)
admin.site.register(Group, GroupAccessAdmin)
