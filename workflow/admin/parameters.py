"""Approval parameters of a governed model, on one audited page."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import registry, selectors, services
from ..models import (
    AuditEntry,
    DataEntityBehavior,
)

# --- Approval parameters ------------------------------------------------------------


class FieldTableWidget(forms.CheckboxSelectMultiple):
    template_name = "admin/workflow/widgets/field_table.html"


class ApprovalSettingsForm(forms.Form):
    approvals_enabled = forms.BooleanField(required=False)
    data_entity_behavior = forms.ChoiceField(
        choices=DataEntityBehavior.choices, widget=forms.RadioSelect
    )
    new_records_need_approval = forms.BooleanField(required=False)
    enabled_fields = forms.MultipleChoiceField(required=False, widget=FieldTableWidget)

    def __init__(self, *args, governed: registry.GovernedModel, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approvals_enabled"].label = governed.labels.enable_approvals
        self.fields["data_entity_behavior"].label = gettext_lazy("Data entity behavior")
        self.fields["data_entity_behavior"].help_text = gettext_lazy(
            "What imports do with a change to a field that needs approval."
        )
        self.fields["new_records_need_approval"].label = gettext_lazy(
            "New records wait for approval"
        )
        self.fields["new_records_need_approval"].help_text = gettext_lazy(
            "A new record is “Awaiting approval”, not active, until the workflow "
            "approves its creation; a rejected one stays inactive until it is edited "
            "and submitted again, or deleted."
        )
        self.fields["enabled_fields"].label = gettext_lazy("Fields")
        self.fields["enabled_fields"].choices = governed.field_choices()


class ApprovalSettingsAdmin(admin.ModelAdmin):
    """Admin of a proxy of ApprovalSettings: one page per governed model, audited."""

    governed_model: type

    def get_queryset(self, request):
        content_type = ContentType.objects.get_for_model(self.governed_model)
        return super().get_queryset(request).filter(content_type=content_type)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        return redirect(self._change_url())

    def _change_url(self) -> str:
        opts = self.model._meta
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change", args=["current"]
        )

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<str:object_id>/change/",
                self.admin_site.admin_view(self.parameters_view),
                name=f"{opts.app_label}_{opts.model_name}_change",
            ),
            path(
                "",
                self.admin_site.admin_view(self.changelist_view),
                name=f"{opts.app_label}_{opts.model_name}_changelist",
            ),
        ]

    def parameters_view(
        self, request: HttpRequest, object_id: str = "current"
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        governed = registry.get(self.governed_model)
        current = selectors.approval_settings_for(self.governed_model)
        can_change = self.has_change_permission(request)
        initial = {
            "approvals_enabled": current.approvals_enabled,
            "data_entity_behavior": current.data_entity_behavior,
            "enabled_fields": current.enabled_fields,
            "new_records_need_approval": current.new_records_need_approval,
        }
        if request.method == "POST":
            if not can_change:
                raise PermissionDenied
            form = ApprovalSettingsForm(
                request.POST, governed=governed, initial=initial
            )
            if form.is_valid():
                try:
                    services.approval_settings_update(
                        model=self.governed_model,
                        actor=request.user,
                        **form.cleaned_data,
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    self.message_user(
                        request, _("The parameters were saved."), messages.SUCCESS
                    )
                    return redirect(self._change_url())
        else:
            form = ApprovalSettingsForm(governed=governed, initial=initial)
        if not can_change:
            for form_field in form.fields.values():
                form_field.disabled = True
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": governed.labels.parameters,
            "section_title": governed.labels.approval_section,
            "form": form,
            "can_change": can_change,
            "history": self._history(current),
        }
        return TemplateResponse(request, "admin/workflow/parameters.html", context)

    @staticmethod
    def _history(current) -> list[AuditEntry]:
        """The last changes of the parameters, each read in the reader's language."""
        if not current.pk:
            return []
        entries = list(
            AuditEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(current),
                object_id=current.pk,
            ).select_related("actor")[:20]
        )
        texts = selectors.audit_texts(entries)
        for entry in entries:
            entry.reader_text = texts[entry.pk]
        return entries
