"""The approval status of a governed model's records in its list: a column and a filter.

Built for lists of a million records: the column is computed for the page's rows only,
in the query that reads them; the filter joins on the proposal table's indexes; and the
records with no proposed changes (nearly all of them) are counted as the table's
estimate less the records that have a status, not by reading the table.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.options import IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.views.main import (
    ALL_VAR,
    ERROR_FLAG,
    IS_FACETS_VAR,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
    ChangeList,
)
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .. import registry, selectors_bank, selectors_status
from ..selectors_status import STATUS_ANNOTATION, RecordStatus
from .filters import BankVerifiedFilter, RecordStatusFilter
from .pagination import EstimatedCountPaginator

STATUS_COLUMN = "approval_status"
BANK_COLUMN = "bank_account_status"
# Parameters of a list's address that page, sort or show it without leaving rows out.
_NOT_NARROWING = {
    ALL_VAR,
    ORDER_VAR,
    PAGE_VAR,
    IS_POPUP_VAR,
    TO_FIELD_VAR,
    IS_FACETS_VAR,
    ERROR_FLAG,
}


class StatusChangeList(ChangeList):
    def get_results(self, request) -> None:
        """The page's rows get their status; a count or an export of the list does not
        compute it."""
        super().get_results(request)
        self.result_list = selectors_status.with_record_status(self.result_list)
        if registry.get(self.model).bank is not None:
            statuses = selectors_bank.bank_statuses(
                self.model, [r.pk for r in self.result_list]
            )
            for row in self.result_list:
                row.bank_status = statuses.get(row.pk)


class ApprovalStatusListMixin:
    """A status column (coloured badges, always with their words) and a status filter
    for the list of a governed model's records."""

    # Counts beside each filter's choices would count the whole table once per choice.
    show_facets = admin.ShowFacets.NEVER

    def get_changelist(self, request, **kwargs):
        return StatusChangeList

    def get_list_display(self, request):
        columns = list(super().get_list_display(request))  # type: ignore[misc]
        if self._has_bank() and BANK_COLUMN not in columns:
            columns.append(BANK_COLUMN)
        return columns if STATUS_COLUMN in columns else [*columns, STATUS_COLUMN]

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))  # type: ignore[misc]
        if self._has_bank() and BankVerifiedFilter not in filters:
            filters.append(BankVerifiedFilter)
        return (
            filters if RecordStatusFilter in filters else [RecordStatusFilter, *filters]
        )

    def _has_bank(self) -> bool:
        return registry.get(self.model).bank is not None  # type: ignore[attr-defined]

    @admin.display(description=_("Bank account verified"))
    def bank_account_status(self, obj) -> str:
        status = getattr(obj, "bank_status", None)
        if status is not None and status.verified:
            return format_html(
                '<span class="bank-verified">{}</span>', status.status_text()
            )
        return format_html('<span class="bank-unverified">{}</span>', _("Unverified"))

    @admin.display(description=_("Approval status"))
    def approval_status(self, obj) -> str:
        code = getattr(obj, STATUS_ANNOTATION, RecordStatus.NONE)
        status = RecordStatus(code)
        if status == RecordStatus.NONE:
            # Nearly every row: a quiet dash on the screen, the words for a screen reader.
            return format_html(
                '<span class="record-status record-status-none" title="{0}">'
                '<span aria-hidden="true">–</span>'
                '<span class="visually-hidden">{0}</span></span>',
                status.label,
            )
        return format_html(
            '<span class="record-status record-status-{}">{}</span>',
            status.value,
            status.label,
        )

    def get_paginator(
        self, request, queryset, per_page, orphans=0, allow_empty_first_page=True
    ):
        paginator = super().get_paginator(  # type: ignore[misc]
            request, queryset, per_page, orphans, allow_empty_first_page
        )
        if isinstance(paginator, EstimatedCountPaginator) and self._only_no_status(
            request
        ):
            model = self.model  # type: ignore[attr-defined]
            paginator.left_out = lambda: selectors_status.records_with_a_status_count(
                model
            )
        return paginator

    def _only_no_status(self, request) -> bool:
        """Whether the list is the whole table but the records with a status: only
        the filter "no proposed changes" narrows it."""
        narrowing = {
            key: values
            for key, values in request.GET.lists()
            if key not in _NOT_NARROWING
            and not (key == SEARCH_VAR and not "".join(values).strip())
        }
        return (
            narrowing == {RecordStatusFilter.parameter_name: [RecordStatus.NONE.value]}
            and not self.get_queryset(request).query.where  # type: ignore[attr-defined]
        )
