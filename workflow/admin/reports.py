"""The auditors' reports in the admin: change log, reconciliation, segregation of
duties and access review, each a page and a CSV or XLSX export.

Whoever holds `workflow.view_reports` sees them (approval administrators and
auditors in the demo); the pages only read the request's filter and ask
`selectors_reports`, which does all the reading.
"""

from __future__ import annotations

import datetime
from typing import NamedTuple
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import (
    report_exports,
    selectors,
    selectors_access,
    selectors_audit_chain,
    selectors_bank,
    selectors_reports,
)
from ..models import AuditReport
from ..selectors_reports import Period, ReportFilter

VIEW_REPORTS = "workflow.view_reports"
PERIOD_ORDER = gettext_lazy("The period ends before it starts.")
PERIOD_TOO_LONG = gettext_lazy("Choose a period of at most %(days)s days.")
MAX_PERIOD_DAYS = 3660
EXPORT_TOO_LARGE = gettext_lazy(
    "The change log has more than %(count)s rows in this period, more than one "
    "download holds: choose a shorter period, a model or a field."
)


_DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ReportFilterForm(forms.Form):
    """The period and, optionally, the model, record and field a report is about."""

    first = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=_DATE_INPUT
    )
    last = forms.DateField(label=gettext_lazy("To"), required=False, widget=_DATE_INPUT)
    model = forms.TypedChoiceField(
        label=gettext_lazy("Model"), required=False, coerce=int, empty_value=None
    )
    record = forms.CharField(
        label=gettext_lazy("Record"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Its key (such as the account) or part of its name."),
    )
    field = forms.ChoiceField(label=gettext_lazy("Field"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"].choices = [("", _("All"))] + [
            (
                content_type.pk,
                str(governed.model._meta.verbose_name_plural).capitalize(),
            )
            for content_type, governed in selectors_reports.governed_content_types()
        ]
        self.fields["field"].choices = [("", _("All"))] + list(
            selectors_reports.field_choices(None)
        )

    def clean(self):
        data = super().clean()
        default = Period.last_days()
        first = data.get("first") or default.first
        last = data.get("last") or default.last
        if last < first:
            raise forms.ValidationError(PERIOD_ORDER)
        if (last - first).days > MAX_PERIOD_DAYS:
            raise forms.ValidationError(PERIOD_TOO_LONG % {"days": MAX_PERIOD_DAYS})
        data["period"] = Period(first=first, last=last)
        return data

    def report_filter(self) -> ReportFilter:
        data = self.cleaned_data
        return ReportFilter(
            period=data["period"],
            content_type_id=data.get("model"),
            record=(data.get("record") or "").strip(),
            field_name=data.get("field") or "",
        )


class ChainCheck(NamedTuple):
    """When the audit trail's chain of hashes was last verified, and what was found
    (a sentence in the reader's language)."""

    verified_at: datetime.datetime | None
    result: str


def audit_chain_check() -> ChainCheck:
    """The reports say when the audit trail's chain of hashes was last verified, and
    what was found (`selectors_audit_chain`)."""
    status = selectors_audit_chain.audit_chain_status()
    return ChainCheck(verified_at=status.verified_at, result=status.result)


def _permission_labels() -> dict[str, str]:
    """Each permission an access review lists, named in the reader's language."""
    return {
        code: selectors_access.permission_label(permission)
        for code, permission in selectors_reports.reviewed_permissions().items()
    }


def _key(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


def _url(request, **changes: object) -> str:
    """This page's address with the filter kept and `changes` made (None drops)."""
    query = request.GET.copy()
    for name in ("after", "before", "page", "export", *changes):
        query.pop(name, None)
    for name, value in changes.items():
        if value is not None:
            query[name] = str(value)
    encoded = urlencode(sorted(query.items()))
    return f"{request.path}?{encoded}" if encoded else request.path


@admin.register(AuditReport)
class AuditReportAdmin(admin.ModelAdmin):
    """The reports' index and their four pages; nothing here adds or changes a row."""

    REPORTS = (
        ("changes", "workflow_auditreport_changes"),
        ("reconciliation", "workflow_auditreport_reconciliation"),
        ("duties", "workflow_auditreport_duties"),
        ("access", "workflow_auditreport_access"),
        ("bank", "workflow_auditreport_bank"),
    )

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.has_perm(VIEW_REPORTS)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        """Only the index and the reports: no row of the audit trail is edited here."""
        wrap = self.admin_site.admin_view
        return [
            path("", wrap(self.index_view), name="workflow_auditreport_changelist"),
            path(
                "changes/",
                wrap(self.change_log_view),
                name="workflow_auditreport_changes",
            ),
            path(
                "reconciliation/",
                wrap(self.reconciliation_view),
                name="workflow_auditreport_reconciliation",
            ),
            path("duties/", wrap(self.duties_view), name="workflow_auditreport_duties"),
            path(
                "access/",
                wrap(self.access_review_view),
                name="workflow_auditreport_access",
            ),
            path(
                "bank-warnings/",
                wrap(self.bank_warnings_view),
                name="workflow_auditreport_bank",
            ),
        ]

    # --- shared --------------------------------------------------------------------

    def _context(self, request, title: str, **extra):
        if not self.has_view_permission(request):
            raise PermissionDenied
        request.current_app = self.admin_site.name
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "chain": audit_chain_check(),
            "reports_url": reverse("admin:workflow_auditreport_changelist"),
            **extra,
        }

    def _filter(self, request) -> ReportFilterForm:
        """The filter as asked, the period the last 30 days unless given."""
        data = request.GET.copy()
        default = Period.last_days()
        if not data.get("first"):
            data["first"] = default.first.isoformat()
        if not data.get("last"):
            data["last"] = default.last.isoformat()
        return ReportFilterForm(data)

    def _exports(self, request) -> dict[str, str]:
        return {fmt: _url(request, export=fmt) for fmt in report_exports.FORMATS}

    def _export_format(self, request) -> str | None:
        fmt = request.GET.get("export", "")
        return fmt if fmt in report_exports.FORMATS else None

    def _pager(self, request, page: selectors_reports.ReportPage) -> dict[str, str]:
        return {
            "first_url": _url(request) if page.previous_before is not None else "",
            "previous_url": _url(request, before=page.previous_before)
            if page.previous_before is not None
            else "",
            "next_url": _url(request, after=page.next_after)
            if page.next_after is not None
            else "",
        }

    # --- pages ---------------------------------------------------------------------

    def index_view(self, request, extra_context=None):
        """The four reports and what each shows."""
        context = self._context(request, _("Audit reports"))
        context["reports"] = [
            (reverse(f"admin:{name}"), key) for key, name in self.REPORTS
        ]
        return TemplateResponse(request, "admin/workflow/reports/index.html", context)

    def change_log_view(self, request):
        """Every change of a governed record's field in the period, with who proposed,
        submitted and approved it, where it came from and what allowed it."""
        context = self._context(request, _("Change log"))
        form = self._filter(request)
        context.update(form=form, exports=self._exports(request))
        if form.is_valid():
            flt = form.report_filter()
            fmt = self._export_format(request)
            limit = settings.REPORTS_EXPORT_MAX_ROWS
            if fmt and selectors_reports.change_log_count(flt, cap=limit) > limit:
                self.message_user(
                    request, EXPORT_TOO_LARGE % {"count": limit}, messages.ERROR
                )
                return redirect(_url(request))
            if fmt:
                return report_exports.export_response(
                    fmt,
                    "change-log",
                    lambda: report_exports.change_log_table(
                        selectors_reports.change_log_export(flt)
                    ),
                )
            page = selectors_reports.change_log_page(
                flt, after=_key(request, "after"), before=_key(request, "before")
            )
            context.update(page=page, **self._pager(request, page))
        return TemplateResponse(
            request, "admin/workflow/reports/change_log.html", context
        )

    def reconciliation_view(self, request):
        """Each change of a governed field in the period matched to its approval or
        the setting that permitted it; the rest, and values changed without an audit
        row, as exceptions."""
        context = self._context(request, _("Reconciliation"))
        form = self._filter(request)
        context.update(form=form, exports=self._exports(request))
        if form.is_valid():
            flt = form.report_filter()
            fmt = self._export_format(request)
            asked = request.GET.get("values") == "1"
            compare = asked or selectors_reports.value_check_is_quick(
                flt.content_type_id
            )
            if fmt:
                return report_exports.export_response(
                    fmt,
                    "reconciliation",
                    lambda: report_exports.reconciliation_table(
                        selectors_reports.reconciliation_export(
                            flt, compare_values=compare
                        )
                    ),
                )
            found = selectors_reports.reconciliation(
                flt,
                after=_key(request, "after"),
                before=_key(request, "before"),
                compare_values=compare,
            )
            context.update(
                result=found,
                page=found.exceptions,
                compare_url=_url(request, values=1),
                unaudited_reason=_(
                    "Changed without an audit row: the value differs from the last "
                    "one the audit trail recorded."
                ),
                **self._pager(request, found.exceptions),
            )
        return TemplateResponse(
            request, "admin/workflow/reports/reconciliation.html", context
        )

    def duties_view(self, request):
        """Who may propose and decide, decisions by participants, and who changed
        users, groups, permissions, parameters and workflows in the period."""
        context = self._context(request, _("Segregation of duties"))
        form = self._filter(request)
        context.update(form=form, exports=self._exports(request))
        if form.is_valid():
            flt = form.report_filter()
            fmt = self._export_format(request)
            if fmt:
                return report_exports.export_response(
                    fmt,
                    "segregation-of-duties",
                    lambda: report_exports.duties_table(
                        selectors_reports.proposers_who_decide(flt.content_type_id),
                        selectors_reports.decisions_by_participants(flt),
                        selectors_reports.administration_export(flt),
                    ),
                )
            page = selectors_reports.administration_page(
                flt, after=_key(request, "after"), before=_key(request, "before")
            )
            texts = selectors.audit_texts(page.rows)
            for entry in page.rows:
                entry.reader_text = texts[entry.pk]
            context.update(
                proposers=selectors_reports.proposers_who_decide(flt.content_type_id),
                decisions=selectors_reports.decisions_by_participants(flt),
                page=page,
                **self._pager(request, page),
            )
        return TemplateResponse(request, "admin/workflow/reports/duties.html", context)

    def access_review_view(self, request):
        """Every user's groups, permissions, the steps they can decide, last login
        and whether they are active, for the periodic review."""
        context = self._context(request, _("Access review"))
        fmt = self._export_format(request)
        if fmt:
            return report_exports.export_response(
                fmt,
                "access-review",
                lambda: report_exports.access_table(
                    selectors_reports.access_review_export(), _permission_labels()
                ),
            )
        paginator = Paginator(
            selectors_reports.access_review_users(),
            selectors_reports.ACCESS_PAGE_SIZE,
        )
        page = paginator.get_page(request.GET.get("page"))
        labels = _permission_labels()
        rows = selectors_reports.access_rows(page.object_list)
        context.update(
            exports=self._exports(request),
            page=page,
            rows=rows,
            entries=[
                (row, [(code, labels.get(code, code)) for code in row.permissions])
                for row in rows
            ],
            as_of=timezone.now(),
            previous_url=_url(request, page=page.previous_page_number())
            if page.has_previous()
            else "",
            next_url=_url(request, page=page.next_page_number())
            if page.has_next()
            else "",
        )
        return TemplateResponse(
            request, "admin/workflow/reports/access_review.html", context
        )

    def bank_warnings_view(self, request):
        """Every proposal submitted in the period whose new bank account shows a sign
        of fraud, with its warnings and call-backs."""
        context = self._context(request, _("Bank-detail warnings"))
        form = self._filter(request)
        context.update(form=form, exports=self._exports(request))
        if form.is_valid():
            flt = form.report_filter()
            fmt = self._export_format(request)
            if fmt:
                return report_exports.export_response(
                    fmt,
                    "bank-detail-warnings",
                    lambda: report_exports.bank_warnings_table(
                        selectors_bank.bank_warning_rows(flt)
                    ),
                )
            paginator = Paginator(
                selectors_bank.bank_warning_rows(flt), selectors_reports.PAGE_SIZE
            )
            page = paginator.get_page(request.GET.get("page"))
            context.update(
                page=page,
                previous_url=_url(request, page=page.previous_page_number())
                if page.has_previous()
                else "",
                next_url=_url(request, page=page.next_page_number())
                if page.has_next()
                else "",
            )
        return TemplateResponse(
            request, "admin/workflow/reports/bank_warnings.html", context
        )
