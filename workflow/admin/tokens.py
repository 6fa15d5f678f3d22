"""API tokens in the admin: an administrator makes one for a system user and sees its
key once; revoking stops it at once. Only the digest of a key is stored."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..exceptions import PermissionRefused
from ..models import ApiToken
from ..services import tokens as token_services


class ApiTokenAddForm(forms.ModelForm):
    user = forms.ModelChoiceField(
        queryset=get_user_model()._default_manager.filter(is_active=True),
        label=gettext_lazy("user"),
        help_text=gettext_lazy("The API acts as this user, with their permissions."),
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "user",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "created_by"]
    search_fields = ["name", "user__username"]
    readonly_fields = [
        "name",
        "user",
        "prefix",
        "created_at",
        "created_by",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["revoke_selected"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return ["user", "name"] if obj is None else self.readonly_fields

    def has_delete_permission(self, request, obj=None) -> bool:
        # A token named by audit rows stays; revoke it instead.
        return False

    def save_model(self, request, obj, form, change) -> None:
        """Only adding comes here (a token is never edited): the service makes the key,
        which is shown this once."""
        if change:
            return
        try:
            token, key = token_services.api_token_create(
                user=form.cleaned_data["user"],
                name=form.cleaned_data["name"],
                actor=request.user,
            )
        except PermissionRefused as refused:
            raise PermissionDenied(refused.message) from refused
        obj.pk = token.pk
        obj.refresh_from_db()
        messages.warning(
            request,
            _(
                "The key of API token “%(name)s” is %(key)s — copy it now: it is not "
                "stored and cannot be shown again. Send it as the header "
                "“Authorization: Token <key>”."
            )
            % {"name": token.name, "key": key},
        )

    @admin.action(
        description=gettext_lazy("Revoke the selected API tokens"),
        permissions=["change"],
    )
    def revoke_selected(self, request, queryset) -> None:
        count = 0
        for token in queryset:
            if token.revoked_at is None:
                token_services.api_token_revoke(token=token, actor=request.user)
                self.log_change(request, token, _("Revoked."))
                count += 1
        self.message_user(
            request,
            _("%(count)d API tokens revoked.") % {"count": count},
            messages.SUCCESS,
        )
