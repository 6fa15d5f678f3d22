"""Reads behind the auditors' reports: the change log, the reconciliation, segregation
of duties and the access review.

Every report reads the append-only audit trail, and each page costs a fixed number of
queries whatever its size: rows are paged by their key (never by OFFSET), what a page
needs besides its rows is fetched for the whole page at once, and exports run page by
page. How a change was allowed is decided by one function per kind of change
(`proposal_allowance`, `direct_allowance`); the reconciliation's queries are built from
the same functions, so the page of a change and the reconciliation never disagree.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import registry
from .core import changes, creation, lifecycle, permissions
from .core.permissions import Action
from .core.separation import exclusions
from .models import (
    API_TOKEN_KEY,
    ApprovalSettings,
    AuditAction,
    AuditEntry,
    DataEntityBehavior,
    PausedSignIn,
    Source,
    Workflow,
    WorkflowStep,
    WorkItem,
)
from .selectors_facts import PARTS, exclusion_texts, proposal_facts_many

if TYPE_CHECKING:
    pass

PAGE_SIZE = 50
# Exports read this many rows per query, with what the rows need besides.
EXPORT_CHUNK = 1000
# Pages count their rows up to here and then say "more than".
COUNT_CAP = 10_000
# Records compared with the audit trail per query, model by model.
VALUE_CHECK_BATCH = 2000
ACCESS_PAGE_SIZE = 100

# Where an import's rows come from: the Import page (and import_data), the command.
IMPORT_SOURCES = (Source.IMPORT, Source.COMMAND)

# The audit rows of changes to users, groups and permissions, approval parameters and
# workflows, and sign-in pauses lifted.
ADMINISTRATION_ACTIONS = (
    AuditAction.PASSWORD_CHANGED,
    AuditAction.GROUPS_CHANGED,
    AuditAction.PERMISSIONS_CHANGED,
    AuditAction.SETTINGS_CHANGED,
    AuditAction.WORKFLOW_CHANGED,
    AuditAction.WORKFLOW_ACTIVATED,
    AuditAction.SIGN_IN_PAUSE_LIFTED,
)


# --- Filters -------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """From the start of `first` to the end of `last`, days in the current time zone."""

    first: datetime.date
    last: datetime.date

    @property
    def start(self) -> datetime.datetime:
        return timezone.make_aware(
            datetime.datetime.combine(self.first, datetime.time.min)
        )

    @property
    def end(self) -> datetime.datetime:
        day = self.last + datetime.timedelta(days=1)
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))

    @classmethod
    def last_days(cls, days: int = 30) -> Period:
        today = timezone.localdate()
        return cls(first=today - datetime.timedelta(days=days - 1), last=today)


@dataclass(frozen=True)
class ReportFilter:
    """What a report is about: a period, and optionally one model, record and field."""

    period: Period
    content_type_id: int | None = None
    record: str = ""
    field_name: str = ""


def governed_content_types() -> list[tuple[ContentType, registry.GovernedModel]]:
    """Every governed model with its content type, in the order they registered."""
    governed = registry.all_governed()
    types = ContentType.objects.get_for_models(*[g.model for g in governed])
    return [(types[g.model], g) for g in governed]


def _governed_by_type(
    content_type_id: int | None = None,
) -> dict[int, registry.GovernedModel]:
    return {
        content_type.pk: governed
        for content_type, governed in governed_content_types()
        if content_type_id is None or content_type.pk == content_type_id
    }


def field_choices(content_type_id: int | None) -> list[tuple[str, str]]:
    """The fields a report can be narrowed to: the model's, or every governed model's."""
    found: dict[str, str] = {}
    for governed in _governed_by_type(content_type_id).values():
        for model_field in governed.model._meta.concrete_fields:
            if model_field.editable and not model_field.primary_key:
                found.setdefault(
                    model_field.name, governed.field_label(model_field.name)
                )
    return sorted(found.items(), key=lambda item: item[1].lower())


# --- The approval parameters as they were --------------------------------------------


@dataclass(frozen=True)
class ParameterState:
    """A governed model's approval parameters at one time."""

    approvals_enabled: bool = False
    behaviour: str = DataEntityBehavior.ALLOW
    enabled_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParameterPeriod:
    """A time during which the parameters stayed `state`; None is open-ended."""

    start: datetime.datetime | None
    end: datetime.datetime | None
    state: ParameterState

    def covers(self, when: datetime.datetime) -> bool:
        return (self.start is None or self.start <= when) and (
            self.end is None or when < self.end
        )

    def q(self) -> Q:
        """The audit rows written during this period."""
        condition = Q()
        if self.start is not None:
            condition &= Q(created_at__gte=self.start)
        if self.end is not None:
            condition &= Q(created_at__lt=self.end)
        return condition


# The keys of the SETTINGS_CHANGED rows, and the part of the state each one is.
_PARAMETER_KEYS = {
    "approvals_enabled": "approvals_enabled",
    "data_entity_behavior": "behaviour",
    "enabled_fields": "enabled_fields",
}


def _parameter_value(key: str, raw: object) -> object:
    if key == "enabled_fields":
        return tuple(raw) if isinstance(raw, list) else ()
    if key == "approvals_enabled":
        return bool(raw)
    return str(raw) if raw else DataEntityBehavior.ALLOW


class ParameterHistory:
    """The approval parameters of every governed model over time, read back from the
    audit rows of their changes: each row holds the value before and after."""

    def __init__(self, periods: dict[int, list[ParameterPeriod]]) -> None:
        self._periods = periods

    def periods(self, content_type_id: int) -> list[ParameterPeriod]:
        return self._periods.get(
            content_type_id, [ParameterPeriod(None, None, ParameterState())]
        )

    def at(self, content_type_id: int, when: datetime.datetime) -> ParameterState:
        for period in self.periods(content_type_id):
            if period.covers(when):
                return period.state
        return ParameterState()


def parameter_history() -> ParameterHistory:
    """Two queries: the parameters now, and every change of them."""
    rows = {
        row.pk: row
        for row in ApprovalSettings.objects.only(
            "pk",
            "content_type_id",
            "approvals_enabled",
            "data_entity_behavior",
            "enabled_fields",
        )
    }
    changed: dict[int | None, list[tuple[datetime.datetime, str, object, object]]] = (
        defaultdict(list)
    )
    for object_id, created_at, key, old, new in (
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(ApprovalSettings),
            action=AuditAction.SETTINGS_CHANGED,
            object_id__in=list(rows),
            field_name__in=list(_PARAMETER_KEYS),
        )
        .order_by("created_at", "id")
        .values_list("object_id", "created_at", "field_name", "old_value", "new_value")
    ):
        changed[object_id].append((created_at, key, old, new))
    periods: dict[int, list[ParameterPeriod]] = {}
    for pk, row in rows.items():
        current = {
            "approvals_enabled": row.approvals_enabled,
            "data_entity_behavior": row.data_entity_behavior,
            "enabled_fields": row.enabled_fields,
        }
        history = changed.get(pk, [])
        # Before its first change, each value was what that change replaced.
        values: dict[str, object] = {}
        for key in _PARAMETER_KEYS:
            first = next((c for c in history if c[1] == key), None)
            values[key] = _parameter_value(key, first[2] if first else current[key])
        found: list[ParameterPeriod] = []
        start: datetime.datetime | None = None
        for created_at, key, _old, new in history:
            found.append(ParameterPeriod(start, created_at, _state(values)))
            values[key] = _parameter_value(key, new)
            start = created_at
        found.append(ParameterPeriod(start, None, _state(values)))
        periods[row.content_type_id] = found
    return ParameterHistory(periods)


def _state(values: dict[str, Any]) -> ParameterState:
    return ParameterState(**{_PARAMETER_KEYS[k]: v for k, v in values.items()})


# --- How a change was allowed --------------------------------------------------------


class Allowance(StrEnum):
    """What permitted a change of a field, or NONE: nothing did."""

    APPROVED = "approved"
    TIME_LIMIT = "time_limit"
    AUTOMATIC = "automatic"
    NO_STEP = "no_step"
    APPROVALS_OFF = "approvals_off"
    FIELD_FREE = "field_free"
    IMPORT_ALLOW = "import_allow"
    NONE = "none"


ALLOWANCE_TEXT = {
    Allowance.APPROVED: gettext_lazy("Approved proposal"),
    Allowance.TIME_LIMIT: gettext_lazy(
        "Proposal approved by the system when a step's time limit passed"
    ),
    Allowance.AUTOMATIC: gettext_lazy(
        "Proposal approved by an automatic approval rule"
    ),
    Allowance.NO_STEP: gettext_lazy(
        "Proposal for which no step of the workflow applied"
    ),
    Allowance.APPROVALS_OFF: gettext_lazy("Approvals off for the model at the time"),
    Allowance.FIELD_FREE: gettext_lazy("Field not under approval at the time"),
    Allowance.IMPORT_ALLOW: gettext_lazy(
        "Import with “Allow changes without approval”, as the parameters allowed at the time"
    ),
    Allowance.NONE: gettext_lazy("No approval and no setting permitted it"),
}

# The audit rows of a proposal that tell how it came to be applied.
_EVIDENCE = (
    AuditAction.APPLIED,
    AuditAction.APPROVED,
    AuditAction.ESCALATED,
    AuditAction.AUTO_APPROVED,
    AuditAction.STEP_STARTED,
)


def proposal_allowance(actions: Collection[str]) -> Allowance:
    """How a change written from a proposal was allowed, from the actions in the
    proposal's audit trail: applied after a person's approval, the system's at a time
    limit, an automatic approval rule, or a workflow none of whose steps applied."""
    if AuditAction.APPLIED not in actions:
        return Allowance.NONE
    if AuditAction.APPROVED in actions:
        return Allowance.APPROVED
    if AuditAction.ESCALATED in actions:
        # Escalations that hand the step on are followed by someone's approval.
        return Allowance.TIME_LIMIT
    if AuditAction.AUTO_APPROVED in actions:
        return Allowance.AUTOMATIC
    if AuditAction.STEP_STARTED not in actions:
        return Allowance.NO_STEP
    return Allowance.NONE


def direct_allowance(
    state: ParameterState,
    field_name: str,
    governable: Iterable[str],
    source: str,
) -> Allowance:
    """How a change written without a proposal was allowed under the parameters of the
    time: the field needed no approval then, or an import wrote it under "Allow
    changes without approval" where the parameters allowed that. The decision core's
    own rules say which."""
    enabled = changes.enabled_fields(
        state.approvals_enabled, state.enabled_fields, governable
    )
    if field_name not in enabled:
        return (
            Allowance.FIELD_FREE if state.approvals_enabled else Allowance.APPROVALS_OFF
        )
    if source in IMPORT_SOURCES and changes.behaviour_permitted(
        state.approvals_enabled, state.behaviour, changes.ALLOW
    ):
        return Allowance.IMPORT_ALLOW
    return Allowance.NONE


# Rows of proposal_id and evidence, typed loosely: filtering on the annotation is
# beyond what the type checker reads.
def _proposal_evidence(changes: QuerySet[AuditEntry]) -> QuerySet[Any, Any]:
    """For each proposal that wrote one of `changes`, which of the telling actions its
    trail holds, as the bits of one number `evidence` (bit i: `_EVIDENCE[i]`). One
    grouped query over the trails of those proposals only; a proposal whose trail
    holds none of them has no row (its evidence is 0)."""
    bits = Case(
        *[When(action=a, then=Value(1 << i)) for i, a in enumerate(_EVIDENCE)],
        output_field=models.IntegerField(),
    )
    return (
        AuditEntry.objects.filter(
            proposal_id__in=changes.filter(proposal_id__isnull=False).values(
                "proposal_id"
            ),
            action__in=_EVIDENCE,
        )
        .order_by()
        .values("proposal_id")
        .annotate(evidence=Sum(bits, distinct=True))
    )


def _actions_of(mask: int) -> set[str]:
    return {str(a) for index, a in enumerate(_EVIDENCE) if mask & (1 << index)}


def _masks_of(allowance: Allowance) -> list[int]:
    """Every evidence number whose proposal `proposal_allowance` says `allowance` of."""
    return [
        mask
        for mask in range(1 << len(_EVIDENCE))
        if proposal_allowance(_actions_of(mask)) == allowance
    ]


def _direct_terms(
    allowance: Allowance,
    governed: dict[int, registry.GovernedModel],
    history: ParameterHistory,
) -> list[Q]:
    """The changes without a proposal that `allowance` permitted, as conditions on
    model, time, field and source, found by asking `direct_allowance` about every
    field and source in every period of the parameters."""
    terms = []
    for content_type_id, model in governed.items():
        names = _change_log_fields(model)
        for period in history.periods(content_type_id):
            by_fields: dict[tuple[str, ...], list[str]] = defaultdict(list)
            for source in Source.values:
                fields = tuple(
                    name
                    for name in names
                    if direct_allowance(
                        period.state, name, model.governable_field_names, source
                    )
                    == allowance
                )
                if fields:
                    by_fields[fields].append(source)
            for fields, sources in by_fields.items():
                terms.append(
                    Q(proposal_id__isnull=True, content_type_id=content_type_id)
                    & period.q()
                    & Q(field_name__in=fields, source__in=sources)
                )
    return terms


def _allowance_q(
    allowance: Allowance,
    changes: QuerySet[AuditEntry],
    governed: dict[int, registry.GovernedModel],
    history: ParameterHistory,
) -> Q:
    """Which of `changes` `allowance` permitted. Built from the two functions above,
    so that this query and a row's page agree."""
    terms = _direct_terms(allowance, governed, history)
    masks = _masks_of(allowance)
    if 0 in masks:
        others = [m for m in range(1 << len(_EVIDENCE)) if m not in masks]
        terms.append(
            Q(proposal_id__isnull=False)
            & ~Q(
                proposal_id__in=_proposal_evidence(changes)
                .filter(evidence__in=others)
                .values("proposal_id")
            )
        )
    elif masks:
        terms.append(
            Q(
                proposal_id__in=_proposal_evidence(changes)
                .filter(evidence__in=masks)
                .values("proposal_id")
            )
        )
    if not terms:
        return Q(pk__in=[])
    return reduce(or_, terms)


def _allowance_counts(
    queryset: QuerySet[AuditEntry],
    governed: dict[int, registry.GovernedModel],
    history: ParameterHistory,
) -> Counter[Allowance]:
    """How many of the change rows each allowance permitted: the database counts
    them by what decides it (the proposal's evidence; or model, field, source and the
    period of the parameters), `proposal_allowance` and `direct_allowance` say which
    allowance each count is. Three queries."""
    counts: Counter[Allowance] = Counter()
    evidence = dict(_proposal_evidence(queryset).values_list("proposal_id", "evidence"))
    for proposal_id, number in (
        queryset.filter(proposal_id__isnull=False)
        .order_by()
        .values("proposal_id")
        .annotate(number=Count("id"))
        .values_list("proposal_id", "number")
    ):
        counts[proposal_allowance(_actions_of(evidence.get(proposal_id, 0)))] += number
    periods = [
        (content_type_id, period)
        for content_type_id in governed
        for period in history.periods(content_type_id)
    ]
    period_key = Case(
        *[
            When(Q(content_type_id=content_type_id) & period.q(), then=Value(key))
            for key, (content_type_id, period) in enumerate(periods)
        ],
        default=Value(-1),
        output_field=models.IntegerField(),
    )
    for field_name, source, key, number in (
        queryset.filter(proposal_id__isnull=True)
        .annotate(period_key=period_key)
        .order_by()
        .values("field_name", "source", "period_key")
        .annotate(number=Count("id"))
        .values_list("field_name", "source", "period_key", "number")
    ):
        if key < 0:
            continue
        content_type_id, period = periods[key]
        counts[
            direct_allowance(
                period.state,
                field_name,
                governed[content_type_id].governable_field_names,
                source,
            )
        ] += number
    return counts


def _change_log_fields(model: registry.GovernedModel) -> list[str]:
    """The fields whose changes a report reads: every field a person or an import may
    write (a record's business key too, which is never under approval)."""
    return [
        f.name
        for f in model.model._meta.concrete_fields
        if f.editable and not f.primary_key
    ]


# --- The change log ------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One person's (or the system's) part in a proposal: who, when, what they said."""

    who: str
    at: datetime.datetime
    comment: str = ""
    step: str = ""
    action: str = ""


@dataclass(frozen=True)
class ChangeLogRow:
    entry_id: int
    applied_at: datetime.datetime
    content_type_id: int
    model: str
    object_id: int | None
    record: str
    field_name: str
    field_label: str
    old: str
    new: str
    changed_by: str
    proposal_id: int | None
    proposed: tuple[Step, ...]
    submitted: tuple[Step, ...]
    approvals: tuple[Step, ...]
    source: str
    source_detail: str
    allowance: Allowance
    allowed_by: str

    @property
    def is_exception(self) -> bool:
        return self.allowance == Allowance.NONE

    @property
    def exception_reason(self) -> str:
        if not self.is_exception:
            return ""
        if self.proposal_id is not None:
            return _(
                "Written from proposal %(id)s, which has no recorded approval."
            ) % {"id": self.proposal_id}
        return _(
            "Written without a proposal while the field was under approval, by no "
            "import the parameters allowed to."
        )


@dataclass
class ReportPage:
    """One page of a report's rows, paged by key: `next_after` and `previous_before`
    are the keys to ask for the next and previous pages (None: there are none)."""

    rows: list[Any]
    count: int
    capped: bool
    next_after: int | None = None
    previous_before: int | None = None


def _record_ids(content_type_id: int, text: str) -> list[int]:
    governed = _governed_by_type(content_type_id).get(content_type_id)
    if governed is None:
        return []
    key = governed.business_key
    return list(
        governed.model._default_manager.filter(**{f"{key}__iexact": text}).values_list(
            "pk", flat=True
        )[:100]
    )


def field_changes(flt: ReportFilter) -> QuerySet[AuditEntry]:
    """The FIELD_CHANGED rows of governed records in the period, as filtered.

    The record is found by its business key (within the chosen model), else by a
    part of its name as the audit trail recorded it, so deleted records are found
    too.
    """
    governed = _governed_by_type(flt.content_type_id)
    queryset = AuditEntry.objects.filter(
        action=AuditAction.FIELD_CHANGED,
        content_type_id__in=list(governed),
        created_at__gte=flt.period.start,
        created_at__lt=flt.period.end,
    )
    if flt.field_name:
        queryset = queryset.filter(field_name=flt.field_name)
    if flt.record:
        ids = (
            _record_ids(flt.content_type_id, flt.record)
            if flt.content_type_id is not None
            else []
        )
        queryset = queryset.filter(
            Q(object_id__in=ids) if ids else Q(object_repr__icontains=flt.record)
        )
    return queryset


_ROW_FIELDS = (
    "id",
    "created_at",
    "content_type_id",
    "object_id",
    "object_repr",
    "field_name",
    "field_label",
    "old_value",
    "new_value",
    "old_display",
    "new_display",
    "actor_name",
    "proposal_id",
    "source",
    "comment",
    "comment_translations",
)


def _page_of(
    queryset: QuerySet[AuditEntry],
    *,
    after: int | None,
    before: int | None,
    size: int,
    fields: tuple[str, ...] = _ROW_FIELDS,
) -> tuple[list[dict[str, Any]], int | None, int | None]:
    """Rows in the order they happened, a page after (or before) the row `after`
    (`before`): by key, never an OFFSET, so the last page of a million rows costs
    what the first does, and a period reads only its own part of the time index."""
    if before is not None:
        found = list(
            _beyond(queryset, before, later=False)
            .order_by("-created_at", "-id")
            .values(*fields)[: size + 1]
        )
        more_before = len(found) > size
        rows = list(reversed(found[:size]))
        previous_before = rows[0]["id"] if more_before and rows else None
        next_after = rows[-1]["id"] if rows else None
        return rows, next_after, previous_before
    if after is not None:
        queryset = _beyond(queryset, after, later=True)
    found = list(queryset.order_by("created_at", "id").values(*fields)[: size + 1])
    rows = found[:size]
    next_after = rows[-1]["id"] if len(found) > size else None
    previous_before = rows[0]["id"] if after is not None and rows else None
    return rows, next_after, previous_before


def _beyond(
    queryset: QuerySet[AuditEntry], key: int, *, later: bool
) -> QuerySet[AuditEntry]:
    """The rows after (or before) the row `key` in the order (created_at, id)."""
    when = (
        AuditEntry.objects.filter(pk=key).values_list("created_at", flat=True).first()
    )
    if when is None:
        return queryset.none()
    if later:
        return queryset.filter(created_at__gte=when).exclude(
            created_at=when, id__lte=key
        )
    return queryset.filter(created_at__lte=when).exclude(created_at=when, id__gte=key)


def _capped_count(queryset: QuerySet[AuditEntry]) -> tuple[int, bool]:
    counted = queryset.order_by()[: COUNT_CAP + 1].count()
    return min(counted, COUNT_CAP), counted > COUNT_CAP


def _page_count(
    queryset: QuerySet[AuditEntry],
    rows: list[dict[str, Any]],
    next_after: int | None,
    after: int | None,
    before: int | None,
) -> tuple[int, bool]:
    """How many rows the report has: a first page with no next one holds them all
    (a reconciliation's exceptions, usually), so they need no counting."""
    if after is None and before is None and next_after is None:
        return len(rows), False
    return _capped_count(queryset)


def value_check_is_quick(content_type_id: int | None = None) -> bool:
    """Whether the governed records are few enough (REPORTS_VALUE_CHECK_RECORDS) for
    the reconciliation page to compare every value with the audit trail by itself;
    beyond that it compares them when asked."""
    limit = settings.REPORTS_VALUE_CHECK_RECORDS
    total = 0
    for governed in _governed_by_type(content_type_id).values():
        total += governed.model._default_manager.all()[: limit + 1].count()
        if total > limit:
            return False
    return True


def change_log_page(
    flt: ReportFilter,
    *,
    after: int | None = None,
    before: int | None = None,
    size: int | None = None,
) -> ReportPage:
    queryset = field_changes(flt)
    rows, next_after, previous_before = _page_of(
        queryset, after=after, before=before, size=size or PAGE_SIZE
    )
    count, capped = _page_count(queryset, rows, next_after, after, before)
    return ReportPage(
        rows=_change_log_rows(rows, parameter_history()),
        count=count,
        capped=capped,
        next_after=next_after,
        previous_before=previous_before,
    )


def change_log_count(flt: ReportFilter, *, cap: int) -> int:
    """How many rows the change log has, counted up to `cap` + 1."""
    return field_changes(flt).order_by()[: cap + 1].count()


def change_log_export(flt: ReportFilter) -> Iterator[ChangeLogRow]:
    """Every row of the change log, read EXPORT_CHUNK rows at a time."""
    history = parameter_history()
    queryset = field_changes(flt)
    after: int | None = None
    while True:
        rows, after, _previous = _page_of(
            queryset, after=after, before=None, size=EXPORT_CHUNK
        )
        yield from _change_log_rows(rows, history)
        if after is None:
            return


def _reader_comment(
    comment: str, translations: dict[str, str] | None, language: str | None = None
) -> str:
    """A comment in the reader's language when the system wrote it, else as typed."""
    if not translations:
        return comment
    return translations.get(language or translation.get_language() or "", comment)


def _api_token_detail(translations: dict[str, str] | None) -> str:
    """Which API token wrote a row, as the change log says it."""
    token = (translations or {}).get(API_TOKEN_KEY)
    if not token:
        return ""
    return _("API token “%(name)s”") % {"name": token}


class _Labels:
    """Labels in the reader's language, each looked up once per page or chunk."""

    def __init__(self) -> None:
        self._fields: dict[tuple[int, str], tuple[models.Field | None, str]] = {}
        self._models: dict[int, str] = {}
        self.system = _("System")
        self.sources = {value: str(label) for value, label in Source.choices}
        self.actions = {value: str(label) for value, label in AuditAction.choices}
        self.allowances = {a: str(text) for a, text in ALLOWANCE_TEXT.items()}
        self.language = translation.get_language() or ""

    def model(
        self, governed: registry.GovernedModel | None, content_type_id: int
    ) -> str:
        if content_type_id not in self._models:
            self._models[content_type_id] = (
                str(capfirst(governed.model._meta.verbose_name)) if governed else ""
            )
        return self._models[content_type_id]

    def field(
        self, governed: registry.GovernedModel, content_type_id: int, name: str
    ) -> tuple[models.Field | None, str]:
        key = (content_type_id, name)
        if key not in self._fields:
            try:
                self._fields[key] = (
                    registry.concrete_field(governed.model, name),
                    governed.field_label(name),
                )
            except FieldDoesNotExist:
                self._fields[key] = (None, "")
        return self._fields[key]


def _field_display(
    governed: registry.GovernedModel | None, row: dict[str, Any], labels: _Labels
) -> tuple[str, str, str]:
    """The label and values as the reader reads them, from what was stored: a
    reference keeps the text recorded at the time (its code then)."""
    recorded = (row["field_label"], row["old_display"], row["new_display"])
    if governed is None:
        return recorded
    model_field, label = labels.field(
        governed, row["content_type_id"], row["field_name"]
    )
    if model_field is None:
        return recorded
    if isinstance(model_field, models.ForeignKey):
        return label, row["old_display"], row["new_display"]
    try:
        return (
            label,
            registry.display_value(model_field, row["old_value"]),
            registry.display_value(model_field, row["new_value"]),
        )
    except Exception:  # noqa: BLE001 - a stored value of an old field type
        return recorded


_TRAIL_ACTIONS = (
    AuditAction.FIELD_PROPOSED,
    AuditAction.SUBMITTED,
    AuditAction.RESUBMITTED,
    *_EVIDENCE,
)
_APPROVAL_ACTIONS = (
    AuditAction.APPROVED,
    AuditAction.AUTO_APPROVED,
    AuditAction.ESCALATED,
)


def _change_log_rows(
    rows: list[dict[str, Any]], history: ParameterHistory
) -> list[ChangeLogRow]:
    """The rows of the change log, with each proposal's trail: two queries for all."""
    proposal_ids = {r["proposal_id"] for r in rows if r["proposal_id"] is not None}
    trails: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for entry in (
        AuditEntry.objects.filter(
            proposal_id__in=proposal_ids, action__in=_TRAIL_ACTIONS
        )
        .order_by("id")
        .values(
            "proposal_id",
            "action",
            "actor_name",
            "created_at",
            "field_name",
            "source",
            "comment",
            "comment_translations",
        )
    ):
        trails[entry["proposal_id"]].append(dict(entry))
    # The step each approver decided, from their work item of the last round.
    steps: dict[tuple[int, str], str] = {}
    for proposal_id, username, step_name in (
        WorkItem.objects.filter(
            proposal_id__in=proposal_ids,
            state="approved",
            submission_round=F("proposal__submission_round"),
        )
        .order_by("id")
        .values_list("proposal_id", "assignee__username", "step__name")
    ):
        steps[(proposal_id, username)] = step_name
    governed_models = _governed_by_type()
    labels = _Labels()
    system = labels.system
    result = []
    for row in rows:
        governed = governed_models.get(row["content_type_id"])
        label, old, new = _field_display(governed, row, labels)
        proposal_id = row["proposal_id"]
        source = row["source"]
        proposed: tuple[Step, ...] = ()
        submitted: tuple[Step, ...] = ()
        approvals: tuple[Step, ...] = ()
        detail = ""
        if proposal_id is not None:
            trail = trails.get(proposal_id, [])
            actions = {e["action"] for e in trail}
            allowance = proposal_allowance(actions)
            proposals_of_field = [
                e
                for e in trail
                if e["action"] == AuditAction.FIELD_PROPOSED
                and e["field_name"] == row["field_name"]
            ]
            proposed = tuple(
                Step(who=e["actor_name"] or system, at=e["created_at"])
                for e in proposals_of_field
            )
            submissions = [
                e
                for e in trail
                if e["action"] in (AuditAction.SUBMITTED, AuditAction.RESUBMITTED)
            ]
            # The note of each submission names the workflow, and why when given.
            submitted = tuple(
                Step(
                    who=e["actor_name"] or system,
                    at=e["created_at"],
                    comment=_reader_comment(
                        e["comment"], e["comment_translations"], labels.language
                    ),
                )
                for e in submissions
            )
            last_submission = submissions[-1]["created_at"] if submissions else None
            approvals = tuple(
                Step(
                    who=e["actor_name"] or system,
                    at=e["created_at"],
                    comment=_reader_comment(
                        e["comment"], e["comment_translations"], labels.language
                    ),
                    step=steps.get((proposal_id, e["actor_name"]), ""),
                    action=labels.actions.get(e["action"], e["action"]),
                )
                for e in trail
                if e["action"] in _APPROVAL_ACTIONS
                and (last_submission is None or e["created_at"] >= last_submission)
            )
            imported = [e for e in proposals_of_field if e["source"] in IMPORT_SOURCES]
            by_api = [e for e in proposals_of_field if e["source"] == Source.API]
            if imported:
                detail = _reader_comment(
                    imported[-1]["comment"],
                    imported[-1]["comment_translations"],
                    labels.language,
                )
            elif by_api:
                detail = _api_token_detail(by_api[-1]["comment_translations"])
        else:
            governable = governed.governable_field_names if governed else ()
            allowance = direct_allowance(
                history.at(row["content_type_id"], row["created_at"]),
                row["field_name"],
                governable,
                source,
            )
            proposed = (Step(who=row["actor_name"] or system, at=row["created_at"]),)
            if source in IMPORT_SOURCES:
                detail = _reader_comment(
                    row["comment"], row["comment_translations"], labels.language
                )
            elif source == Source.API:
                detail = _api_token_detail(row["comment_translations"])
        result.append(
            ChangeLogRow(
                entry_id=row["id"],
                applied_at=row["created_at"],
                content_type_id=row["content_type_id"],
                model=labels.model(governed, row["content_type_id"]),
                object_id=row["object_id"],
                record=row["object_repr"],
                field_name=row["field_name"],
                field_label=label,
                old=old,
                new=new,
                changed_by=row["actor_name"] or system,
                proposal_id=proposal_id,
                proposed=proposed,
                submitted=submitted,
                approvals=approvals,
                source=labels.sources.get(source, source),
                source_detail=detail,
                allowance=allowance,
                allowed_by=labels.allowances[allowance],
            )
        )
    return result


# --- The reconciliation --------------------------------------------------------------


@dataclass(frozen=True)
class AllowanceCount:
    allowance: Allowance
    label: str
    count: int


@dataclass(frozen=True)
class UnauditedValue:
    """A governed value that differs from the last value the audit trail recorded for
    it: it was changed without an audit row."""

    content_type_id: int
    model: str
    object_id: int
    record: str
    field_name: str
    field_label: str
    audited: str
    current: str
    audited_at: datetime.datetime


@dataclass
class Reconciliation:
    counts: list[AllowanceCount]
    exceptions: ReportPage
    # None: the values were not compared with the audit trail this time.
    unaudited: list[UnauditedValue] | None = None

    @property
    def matched(self) -> int:
        return sum(c.count for c in self.counts)

    @property
    def values_compared(self) -> bool:
        return self.unaudited is not None

    @property
    def clean(self) -> bool:
        """No exception in the period, and no value changed without an audit row:
        said only when the values were compared."""
        return not self.exceptions.count and self.unaudited == []


def governed_field_changes(flt: ReportFilter) -> QuerySet[AuditEntry]:
    """The change rows the reconciliation accounts for: those of governable fields."""
    governed = _governed_by_type(flt.content_type_id)
    fields = Q(pk__in=[])
    for content_type_id, model in governed.items():
        fields |= Q(
            content_type_id=content_type_id,
            field_name__in=list(model.governable_field_names),
        )
    return field_changes(flt).filter(fields)


def reconciliation_exceptions(
    flt: ReportFilter, history: ParameterHistory | None = None
) -> QuerySet[AuditEntry]:
    """The changes of governed fields in the period that no approval and no setting
    of the time permitted."""
    history = history or parameter_history()
    governed = _governed_by_type(flt.content_type_id)
    changes = governed_field_changes(flt)
    return changes.filter(_allowance_q(Allowance.NONE, changes, governed, history))


def reconciliation(
    flt: ReportFilter,
    *,
    after: int | None = None,
    before: int | None = None,
    size: int | None = None,
    compare_values: bool = True,
) -> Reconciliation:
    """Every change of a governed field in the period matched to what permitted it,
    counted by what that was; the rest listed as exceptions; and, unless
    `compare_values` is off, every governed value that differs from the last value
    the audit trail recorded for it."""
    history = parameter_history()
    governed = _governed_by_type(flt.content_type_id)
    totals = _allowance_counts(governed_field_changes(flt), governed, history)
    counts = [
        AllowanceCount(a, str(ALLOWANCE_TEXT[a]), totals[a])
        for a in Allowance
        if a != Allowance.NONE and totals[a]
    ]
    queryset = reconciliation_exceptions(flt, history)
    rows, next_after, previous_before = _page_of(
        queryset, after=after, before=before, size=size or PAGE_SIZE
    )
    count, capped = _page_count(queryset, rows, next_after, after, before)
    return Reconciliation(
        counts=counts,
        exceptions=ReportPage(
            rows=_change_log_rows(rows, history),
            count=count,
            capped=capped,
            next_after=next_after,
            previous_before=previous_before,
        ),
        unaudited=unaudited_values(content_type_id=flt.content_type_id)
        if compare_values
        else None,
    )


def reconciliation_export(
    flt: ReportFilter, *, compare_values: bool = True
) -> Iterator[ChangeLogRow | UnauditedValue]:
    """The exceptions of the period, then (unless `compare_values` is off) the
    values changed without an audit row."""
    history = parameter_history()
    queryset = reconciliation_exceptions(flt, history)
    after: int | None = None
    while True:
        rows, after, _previous = _page_of(
            queryset, after=after, before=None, size=EXPORT_CHUNK
        )
        yield from _change_log_rows(rows, history)
        if after is None:
            break
    if compare_values:
        yield from unaudited_values(content_type_id=flt.content_type_id)


def unaudited_values(
    *, content_type_id: int | None = None, batch: int = VALUE_CHECK_BATCH
) -> list[UnauditedValue]:
    """Governed values that differ from the last value the audit trail recorded for
    them (the new value of their last change, or the value a conflict found), and
    records whose status (approval on create) differs from the one their last status
    row left: a record made active around the engine.

    Model by model, `batch` records at a time: one query for the records, one for the
    last recorded value of each of their fields and their last status row. A value
    never recorded (a record created with it and not changed since) has nothing to
    compare with.
    """
    found: list[UnauditedValue] = []
    for ct_id, governed in _governed_by_type(content_type_id).items():
        model = governed.model
        names = list(governed.governable_field_names)
        model_fields = {n: registry.concrete_field(model, n) for n in names}
        with_status = _has_status(model)
        status_columns = [creation.STATUS_FIELD] if with_status else []
        last_pk: object = None
        while True:
            records = model._base_manager.order_by("pk")
            if last_pk is not None:
                records = records.filter(pk__gt=last_pk)
            chunk = list(
                records.values_list(
                    "pk",
                    *[model_fields[n].attname for n in names],
                    *status_columns,
                )[:batch]
            )
            if not chunk:
                break
            last_pk = chunk[-1][0]
            current = {
                row[0]: dict(zip(names, row[1 : len(names) + 1], strict=True))
                for row in chunk
            }
            statuses = {row[0]: row[-1] for row in chunk} if with_status else {}
            wanted = Q(
                field_name__in=names,
                action__in=[AuditAction.FIELD_CHANGED, AuditAction.CONFLICT],
            )
            if with_status:
                # A status row names no field: the last one of a record is ranked
                # among its own.
                wanted |= Q(action__in=list(_STATUS_ROWS))
            recorded = (
                AuditEntry.objects.filter(
                    wanted, content_type_id=ct_id, object_id__in=list(current)
                )
                .annotate(
                    rank=Window(
                        RowNumber(),
                        partition_by=[F("object_id"), F("field_name")],
                        order_by=[F("created_at").desc(), F("id").desc()],
                    )
                )
                .filter(rank=1)
                .values_list(
                    "object_id",
                    "field_name",
                    "new_value",
                    "new_display",
                    "object_repr",
                    "created_at",
                    "action",
                )
            )
            for object_id, name, value, display, record, at, action in recorded:
                if action in _STATUS_ROWS:
                    found += _unaudited_status(
                        ct_id, model, object_id, statuses, action, record, at
                    )
                    continue
                model_field = model_fields[name]
                now = registry.serialize_value(model_field, current[object_id][name])
                try:
                    same = registry.values_equal(model_field, value, now)
                except Exception:  # noqa: BLE001 - a value the field no longer reads
                    same = False
                if same:
                    continue
                found.append(
                    UnauditedValue(
                        content_type_id=ct_id,
                        model=str(capfirst(model._meta.verbose_name)),
                        # Rows of a record always name it.
                        object_id=object_id or 0,
                        record=record,
                        field_name=name,
                        field_label=governed.field_label(name),
                        audited=display,
                        current=registry.display_value(model_field, now),
                        audited_at=at,
                    )
                )
            if len(chunk) < batch:
                break
    return found


# The audit rows of a record's status (approval on create), and the status each leaves.
_STATUS_ROWS = {
    AuditAction.RECORD_AWAITING: creation.AWAITING,
    AuditAction.RECORD_ACTIVATED: creation.ACTIVE,
    AuditAction.RECORD_REJECTED: creation.REJECTED,
}


def _has_status(model: type[models.Model]) -> bool:
    return any(f.name == creation.STATUS_FIELD for f in model._meta.concrete_fields)


def _unaudited_status(
    ct_id: int,
    model: type[models.Model],
    object_id: int | None,
    statuses: dict[Any, Any],
    action: str,
    record: str,
    at: datetime.datetime,
) -> list[UnauditedValue]:
    """The record, if its status is not the one its last status row left."""
    expected = _STATUS_ROWS[AuditAction(action)]
    now = statuses.get(object_id)
    if now is None or now == expected:
        return []
    status_field = registry.concrete_field(model, creation.STATUS_FIELD)
    labels = dict(status_field.choices or ())
    return [
        UnauditedValue(
            content_type_id=ct_id,
            model=str(capfirst(model._meta.verbose_name)),
            object_id=object_id or 0,
            record=record,
            field_name=creation.STATUS_FIELD,
            field_label=str(capfirst(status_field.verbose_name)),
            audited=str(labels.get(expected, expected)),
            current=str(labels.get(now, now)),
            audited_at=at,
        )
    ]


# --- Segregation of duties -----------------------------------------------------------


@dataclass(frozen=True)
class ProposerDecider:
    """A user who holds the permissions to propose and submit changes of a model and
    the permission to decide work items."""

    user_id: int
    username: str
    full_name: str
    model: str
    groups: tuple[str, ...]
    is_superuser: bool


def _holders(dotted: str) -> Q:
    """The users who hold a permission, directly or through a group, or are
    superusers."""
    app_label, codename = dotted.split(".")
    user_model = get_user_model()
    direct = user_model._default_manager.filter(
        user_permissions__content_type__app_label=app_label,
        user_permissions__codename=codename,
    ).values("pk")
    grouped = user_model._default_manager.filter(
        groups__permissions__content_type__app_label=app_label,
        groups__permissions__codename=codename,
    ).values("pk")
    return Q(is_superuser=True) | Q(pk__in=direct) | Q(pk__in=grouped)


def proposers_who_decide(content_type_id: int | None = None) -> list[ProposerDecider]:
    """Active users who may both propose (and submit) changes of a governed model and
    decide work items: one query per governed model. The engine still keeps each of
    them from deciding a proposal they took part in; this lists who holds both."""
    found = []
    for governed in _governed_by_type(content_type_id).values():
        opts = governed.model._meta
        # Options.model_name is None only while a model class is being built.
        model_name: str = opts.model_name  # type: ignore[assignment]
        needed = {
            *permissions.required_permissions(
                Action.SUBMIT, opts.app_label, model_name
            ),
            *permissions.required_permissions(
                Action.APPROVE, opts.app_label, model_name
            ),
        }
        users = get_user_model()._default_manager.filter(is_active=True)
        for dotted in sorted(needed):
            users = users.filter(_holders(dotted))
        for user in users.prefetch_related("groups").order_by("username"):
            found.append(
                ProposerDecider(
                    user_id=user.pk,
                    username=user.get_username(),
                    full_name=user.get_full_name(),
                    model=str(capfirst(opts.verbose_name_plural)),
                    groups=tuple(sorted(g.name for g in user.groups.all())),
                    is_superuser=user.is_superuser,
                )
            )
    return found


@dataclass(frozen=True)
class SelfDecision:
    """A decision on a proposal by someone who took part in it, or who decided
    another of its steps."""

    proposal_id: int
    model: str
    record: str
    username: str
    step: str
    decision: str
    decided_at: datetime.datetime
    reasons: tuple[str, ...]


def decisions_by_participants(flt: ReportFilter) -> list[SelfDecision]:
    """Decisions made in the period by someone the separation of duties excludes from
    them. Should be none: the engine refuses them.

    The database narrows the decisions to those whose decider appears in the
    proposal's trail in any of the ways that can exclude them; the decision core's
    own rule (`separation.exclusions`) then decides, over facts loaded for those
    proposals only.
    """
    governed = _governed_by_type(flt.content_type_id)
    took_part = AuditEntry.objects.filter(
        proposal_id=OuterRef("proposal_id"),
        actor_id=OuterRef("assignee_id"),
        action__in=list(PARTS),
    )
    other_step = WorkItem.objects.filter(
        proposal_id=OuterRef("proposal_id"),
        assignee_id=OuterRef("assignee_id"),
        state__in=lifecycle.DECIDED,
    ).exclude(step__sequence=OuterRef("step__sequence"))
    candidates = list(
        WorkItem.objects.filter(
            state__in=lifecycle.DECIDED,
            decided_at__gte=flt.period.start,
            decided_at__lt=flt.period.end,
            proposal__content_type_id__in=list(governed),
        )
        .filter(
            Q(assignee_id=F("proposal__created_by_id"))
            | Q(assignee_id=F("proposal__submitted_by_id"))
            | Exists(took_part)
            | Exists(other_step)
        )
        .select_related("proposal", "proposal__current_step", "step", "assignee")
        .order_by("decided_at", "id")
    )
    facts = proposal_facts_many(
        {item.proposal_id: item.proposal for item in candidates}.values()
    )
    found = []
    for item in candidates:
        reasons = exclusions(facts[item.proposal_id], item.step.sequence).get(
            item.assignee_id
        )
        if not reasons:
            continue
        model = governed.get(item.proposal.content_type_id)
        found.append(
            SelfDecision(
                proposal_id=item.proposal_id,
                model=str(capfirst(model.model._meta.verbose_name)) if model else "",
                record=item.proposal.object_repr,
                username=item.assignee.get_username(),
                step=f"{item.step.sequence}. {item.step.name}",
                decision=str(item.get_state_display()),
                decided_at=item.decided_at,
                reasons=tuple(exclusion_texts(reasons, model)),
            )
        )
    return found


def administration_changes(flt: ReportFilter) -> QuerySet[AuditEntry]:
    """Who changed users, groups and permissions, approval parameters and workflows
    (and lifted sign-in pauses) in the period, in the order it happened."""
    access_types = [
        t.pk
        for t in ContentType.objects.get_for_models(get_user_model(), Group).values()
    ]
    # Each of these rows is about one of a few models: the index of the audit trail
    # by model finds them without reading the period's other rows.
    administered = [
        t.pk
        for t in ContentType.objects.get_for_models(
            ApprovalSettings, Workflow, PausedSignIn, for_concrete_models=False
        ).values()
    ]
    return AuditEntry.objects.filter(
        Q(content_type__in=access_types)
        | Q(content_type__in=administered, action__in=ADMINISTRATION_ACTIONS),
        created_at__gte=flt.period.start,
        created_at__lt=flt.period.end,
    )


_ADMINISTRATION_FIELDS = (
    "id",
    "created_at",
    "actor_name",
    "action",
    "source",
    "content_type_id",
    "object_id",
    "object_repr",
    "field_name",
    "field_label",
    "old_value",
    "new_value",
    "old_display",
    "new_display",
    "comment",
    "comment_translations",
)


def _administration_rows(rows: list[dict[str, Any]]) -> list[AuditEntry]:
    """The rows as audit entries (unsaved copies: what the pages read them with
    takes entries), each with `model`, the name of what it is about."""
    entries = []
    for row in rows:
        entry = AuditEntry(**row)
        model = ContentType.objects.get_for_id(row["content_type_id"]).model_class()
        name = str(capfirst(model._meta.verbose_name)) if model else ""
        # A name for the page, hung on the copy: not a model field.
        entry.model = name  # type: ignore[attr-defined]
        entries.append(entry)
    return entries


def administration_page(
    flt: ReportFilter,
    *,
    after: int | None = None,
    before: int | None = None,
    size: int | None = None,
) -> ReportPage:
    queryset = administration_changes(flt)
    rows, next_after, previous_before = _page_of(
        queryset,
        after=after,
        before=before,
        size=size or PAGE_SIZE,
        fields=_ADMINISTRATION_FIELDS,
    )
    count, capped = _capped_count(queryset)
    return ReportPage(
        rows=_administration_rows(rows),
        count=count,
        capped=capped,
        next_after=next_after,
        previous_before=previous_before,
    )


def administration_export(flt: ReportFilter) -> Iterator[list[AuditEntry]]:
    """Every administration row of the period, EXPORT_CHUNK rows at a time."""
    queryset = administration_changes(flt)
    after: int | None = None
    while True:
        rows, after, _previous = _page_of(
            queryset,
            after=after,
            before=None,
            size=EXPORT_CHUNK,
            fields=_ADMINISTRATION_FIELDS,
        )
        yield _administration_rows(rows)
        if after is None:
            return


# --- Access review -------------------------------------------------------------------


@dataclass(frozen=True)
class AccessRow:
    user_id: int
    username: str
    full_name: str
    email: str
    is_active: bool
    is_staff: bool
    is_superuser: bool
    groups: tuple[str, ...]
    # As app_label.codename; a superuser holds all of them, listed or not.
    permissions: tuple[str, ...]
    steps: tuple[str, ...]
    last_login: datetime.datetime | None
    date_joined: datetime.datetime | None


def reviewed_permissions() -> dict[str, Permission]:
    """The permissions an access review lists, by app_label.codename."""
    return {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.filter(
            content_type_id__in=_reviewed_content_types()
        ).select_related("content_type")
    }


def _reviewed_content_types() -> set[int]:
    """The permissions an access review lists: of governed models and the pages of
    their parameters and workflows, of the approval workflow, and of users and
    groups."""
    wanted: list[type[models.Model]] = [get_user_model(), Group, Permission]
    for governed in registry.all_governed():
        wanted += [
            m
            for m in (
                governed.model,
                governed.parameters_proxy,
                governed.workflows_proxy,
            )
            if m is not None
        ]
    types = {
        t.pk
        for t in ContentType.objects.get_for_models(
            *wanted, for_concrete_models=False
        ).values()
    }
    types |= set(
        ContentType.objects.filter(app_label=AuditEntry._meta.app_label).values_list(
            "pk", flat=True
        )
    )
    return types


@dataclass
class _StepAssignments:
    """Who each step of the active workflows goes to."""

    by_group: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    by_user: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))


def _step_assignments() -> _StepAssignments:
    """The steps of the active workflows, by the group, named user and record field
    they go to: a few queries, plus one per step that takes its assignee from the
    record (who that field names on any record)."""
    found = _StepAssignments()
    steps = list(
        WorkflowStep.objects.filter(workflow__is_active=True)
        .select_related("workflow", "workflow__content_type")
        .prefetch_related("assigned_users")
        .order_by("workflow__content_type_id", "workflow__name", "sequence")
    )
    for step in steps:
        text = _step_text(step.workflow, step)
        if step.assigned_group_id:
            found.by_group[step.assigned_group_id].append(text)
        for user in step.assigned_users.all():
            found.by_user[user.pk].append(text)
        if step.assignee_field:
            try:
                governed = registry.governed_of(step.workflow.content_type)
                model_field = registry.concrete_field(
                    governed.model, step.assignee_field
                )
            except (registry.NotGoverned, FieldDoesNotExist):
                continue
            named = _("%(step)s (as %(field)s of a record)") % {
                "step": text,
                "field": governed.field_label(step.assignee_field),
            }
            for user_id in (
                governed.model._default_manager.exclude(**{model_field.attname: None})
                .values_list(model_field.attname, flat=True)
                .distinct()
                .order_by()
            ):
                found.by_user[user_id].append(named)
    return found


def _step_text(workflow: Workflow, step: WorkflowStep) -> str:
    return f"{workflow.name} (v{workflow.version}) › {step.sequence}. {step.name}"


def access_review_users() -> QuerySet[Any]:
    return get_user_model()._default_manager.order_by("username")


def access_rows(users: Iterable[Any]) -> list[AccessRow]:
    """The access of each user: a few queries for any number of users."""
    users = list(users)
    user_ids = [u.pk for u in users]
    reviewed = _reviewed_content_types()
    user_model = get_user_model()
    through_groups = user_model.groups.through
    groups_of: dict[int, list[int]] = defaultdict(list)
    for user_id, group_id in through_groups.objects.filter(
        user_id__in=user_ids
    ).values_list("user_id", "group_id"):
        groups_of[user_id].append(group_id)
    group_ids = {g for ids in groups_of.values() for g in ids}
    group_names = dict(Group.objects.filter(pk__in=group_ids).values_list("pk", "name"))
    group_permissions: dict[int, set[str]] = defaultdict(set)
    for (
        group_id,
        app_label,
        codename,
        content_type_id,
    ) in Group.permissions.through.objects.filter(group_id__in=group_ids).values_list(
        "group_id",
        "permission__content_type__app_label",
        "permission__codename",
        "permission__content_type_id",
    ):
        if content_type_id in reviewed:
            group_permissions[group_id].add(f"{app_label}.{codename}")
    own_permissions: dict[int, set[str]] = defaultdict(set)
    for (
        user_id,
        app_label,
        codename,
        content_type_id,
    ) in user_model.user_permissions.through.objects.filter(
        user_id__in=user_ids
    ).values_list(
        "user_id",
        "permission__content_type__app_label",
        "permission__codename",
        "permission__content_type_id",
    ):
        if content_type_id in reviewed:
            own_permissions[user_id].add(f"{app_label}.{codename}")
    assignments = _step_assignments()
    rows = []
    for user in users:
        held = set(own_permissions[user.pk])
        for group_id in groups_of[user.pk]:
            held |= group_permissions[group_id]
        decides = user.is_active and (
            user.is_superuser or permissions.DECIDE_PERMISSION in held
        )
        steps: list[str] = []
        if decides:
            for group_id in groups_of[user.pk]:
                steps += assignments.by_group.get(group_id, [])
            steps += assignments.by_user.get(user.pk, [])
        rows.append(
            AccessRow(
                user_id=user.pk,
                username=user.get_username(),
                full_name=user.get_full_name(),
                email=user.email,
                is_active=user.is_active,
                is_staff=user.is_staff,
                is_superuser=user.is_superuser,
                groups=tuple(sorted(group_names[g] for g in groups_of[user.pk])),
                permissions=() if user.is_superuser else tuple(sorted(held)),
                steps=tuple(dict.fromkeys(steps)),
                last_login=user.last_login,
                date_joined=getattr(user, "date_joined", None),
            )
        )
    return rows


def access_review_export() -> Iterator[AccessRow]:
    """Every user's access, EXPORT_CHUNK users at a time."""
    users = access_review_users()
    last: str | None = None
    while True:
        page = users.filter(username__gt=last) if last is not None else users
        chunk = list(page[:EXPORT_CHUNK])
        yield from access_rows(chunk)
        if len(chunk) < EXPORT_CHUNK:
            return
        last = chunk[-1].get_username()
