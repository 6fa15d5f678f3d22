from __future__ import annotations

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.http import urlencode
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from workflow import charts, selectors, selectors_dashboard
from workflow.models import ProposalState
from workflow.text import COMMENT_MAX_LENGTH

register = template.Library()

# On the approvals-per-day chart every seventh day, counted back from today, is named.
DAY_TICK_EVERY = 7
# The width of a chart across the whole dashboard, in CSS pixels (the admin index
# content is 600 pixels wide); the others share it two by two.
WIDE_CHART = 560


@register.simple_tag
def comment_max_length() -> int:
    """The longest comment a decision takes, for the comment box's maxlength."""
    return COMMENT_MAX_LENGTH


@register.simple_tag(takes_context=True)
def open_work_items_text(context) -> str:
    """ "3 changes waiting for your approval", or "more than 10,000" for a long queue."""
    request = context.get("request")
    count = selectors.open_work_item_count(request.user) if request is not None else 0
    cap = selectors.WORK_ITEM_COUNT_CAP
    if count > cap:
        return _("More than %(count)s changes waiting for your approval") % {
            "count": number_format(cap, force_grouping=True)
        }
    return ngettext(
        "%(count)s change waiting for your approval",
        "%(count)s changes waiting for your approval",
        count,
    ) % {"count": count}


@register.inclusion_tag("admin/workflow/dashboard/dashboard.html", takes_context=True)
def approvals_dashboard(context) -> dict[str, object]:
    """The approvals dashboard, for users who may see it; nothing for the others."""
    request = context.get("request")
    if request is None or not selectors_dashboard.dashboard_visible_to(request.user):
        return {"dashboard": None}
    dashboard = selectors_dashboard.approvals_dashboard_recent()
    now = dashboard.as_of
    changelist = reverse("admin:workflow_changeproposal_changelist")
    open_proposals = dashboard.open_proposals
    states = [
        charts.Datum(
            label=s.label,
            value=s.count,
            key=s.state,
            url=f"{changelist}?{urlencode({'state__exact': s.state})}",
        )
        for s in open_proposals.by_state
    ]
    states.append(
        charts.Datum(
            label=ngettext(
                "Conflict, last %(days)d day",
                "Conflict, last %(days)d days",
                dashboard.days,
            )
            % {"days": dashboard.days},
            value=open_proposals.recent_conflicts,
            key=ProposalState.CONFLICT,
            url=f"{changelist}?{urlencode({'state__exact': ProposalState.CONFLICT})}",
        )
    )
    last = len(dashboard.approvals_per_day) - 1
    days = [
        charts.Datum(
            label=date_format(day, "DATE_FORMAT"),
            value=count,
            short_label=date_format(day, "j M")
            if (last - index) % DAY_TICK_EVERY == 0
            else "",
        )
        for index, (day, count) in enumerate(dashboard.approvals_per_day)
    ]
    median = dashboard.median_time_to_apply
    return {
        "dashboard": dashboard,
        "cached": bool(settings.DASHBOARD_CACHE_SECONDS),
        "changelist_url": changelist,
        "median_text": timesince(now - median, now, depth=2)
        if median is not None
        else "",
        "state_chart": charts.bar_chart(states),
        "age_chart": charts.bar_chart(
            [
                charts.Datum(label=b.label, value=b.count, key=b.key)
                for b in open_proposals.by_age
            ]
        ),
        "day_chart": charts.column_chart(days, width=WIDE_CHART),
        "field_chart": charts.bar_chart(
            [
                charts.Datum(label=f.label, value=f.count, key=f.key)
                for f in dashboard.top_fields
            ],
            width=WIDE_CHART,
        ),
    }


@register.simple_tag
def audit_field(entry) -> selectors.AuditText:
    """An audit row as the reader reads it (`selectors.audit_entry_text`), or as a
    page read it already for many rows at once (`selectors.audit_texts`)."""
    return getattr(entry, "reader_text", None) or selectors.audit_entry_text(entry)
