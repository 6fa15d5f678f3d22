"""List filters of the engine's pages: approval status, my proposals, governed models."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .. import registry, selectors_bank, selectors_status
from ..selectors_status import RecordStatus


class RecordStatusFilter(admin.SimpleListFilter):
    """A governed model's records by the status of their proposals."""

    title = _("approval status")
    parameter_name = "approval_status"

    def lookups(self, request, model_admin):
        return RecordStatus.choices

    def queryset(self, request, queryset):
        if self.value() in RecordStatus.values:
            return selectors_status.records_in_status(queryset, status=self.value())
        return queryset


class MyProposalsFilter(admin.SimpleListFilter):
    """The proposals the user made or submitted."""

    title = _("proposer")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("yes", _("My proposals"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(
                Q(created_by=request.user) | Q(submitted_by=request.user)
            )
        return queryset


class GovernedModelFilter(admin.SimpleListFilter):
    """By model: only the models under approval, not every content type there is."""

    title = _("model")
    # The address of Django's own filter on the field, so links to it keep working.
    parameter_name = "content_type__id__exact"

    def lookups(self, request, model_admin):
        choices = [
            (
                str(ContentType.objects.get_for_model(governed.model).pk),
                capfirst(str(governed.model._meta.verbose_name_plural)),
            )
            for governed in registry.all_governed()
        ]
        return sorted(choices, key=lambda choice: str(choice[1]))

    def queryset(self, request, queryset):
        allowed = {value for value, _label in self.lookup_choices}
        if self.value() in allowed:
            return queryset.filter(content_type_id=int(self.value()))
        return queryset


class BankVerifiedFilter(admin.SimpleListFilter):
    """Records by whether their bank account was verified by a call-back."""

    title = _("bank account")
    parameter_name = "bank_verified"

    def lookups(self, request, model_admin):
        return [("yes", _("Verified")), ("no", _("Unverified"))]

    def queryset(self, request, queryset):
        verified = selectors_bank.verified_record_ids(queryset.model)
        if self.value() == "yes":
            return queryset.filter(pk__in=verified)
        if self.value() == "no":
            return queryset.exclude(pk__in=verified)
        return queryset
