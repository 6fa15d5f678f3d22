"""The approval status of governed records, for their lists: a column and a filter.

A record's status comes from its proposals: the state of its open proposal (changes not
submitted, pending approval, changes requested) or, with none open, Conflict when the
latest of its closed proposals ended in conflict (nothing newer was proposed since);
otherwise it has no proposed changes. A record whose creation waits for approval, or
was rejected, is not active: its status is then "Awaiting approval" or "Rejected",
whatever its proposals say (approval on create; its own column, indexed).

Both reads are built for lists of a million records. The column is two subqueries per
row of the page, each one index probe: the open proposal by the one-open-per-record
index, the latest closed one by (content type, object, created). The filter is a semi-
or anti-join on the proposal table by (content type, state, object id), never a
computation per record; "no proposed changes" is counted as the table's size less the
records that have a status, which the proposal table counts by the same index.
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from .core import creation
from .models import OPEN_PROPOSAL_STATES, ChangeProposal, ProposalState

_Record = TypeVar("_Record", bound=models.Model)

# The annotation the list's column reads.
STATUS_ANNOTATION = "approval_status_code"


class RecordStatus(models.TextChoices):
    NONE = "none", _("No proposed changes")
    DRAFT = ProposalState.DRAFT.value, _("Changes not submitted")
    PENDING = ProposalState.PENDING.value, _("Changes pending approval")
    CHANGES_REQUESTED = ProposalState.CHANGES_REQUESTED.value, _("Changes requested")
    CONFLICT = ProposalState.CONFLICT.value, _("Conflict")
    AWAITING = "awaiting", _("Awaiting approval")
    REJECTED = "record_rejected", _("Rejected: not active")


# The record statuses (approval on create) of records that are not active, and the
# list status each one shows.
INACTIVE_STATUSES = {
    RecordStatus.AWAITING: creation.AWAITING,
    RecordStatus.REJECTED: creation.REJECTED,
}


# The statuses that are the state of the record's open proposal.
OPEN_STATUSES = frozenset(
    {RecordStatus.DRAFT, RecordStatus.PENDING, RecordStatus.CHANGES_REQUESTED}
)


def _proposals_of_model(model: type[models.Model]) -> QuerySet[ChangeProposal]:
    # The content type is cached by Django after its first lookup: no query per list.
    return ChangeProposal.objects.filter(
        content_type=ContentType.objects.get_for_model(model)
    ).order_by()


def _latest_conflicts(model: type[models.Model]) -> QuerySet[ChangeProposal]:
    """Proposals that ended in conflict and are their record's status: no proposal of
    the record is open, and none closed after them (newer by creation, as the
    record's page reads its last closed proposal)."""
    proposals = _proposals_of_model(model)
    open_one = proposals.filter(
        object_id=OuterRef("object_id"), state__in=OPEN_PROPOSAL_STATES
    )
    newer_closed = (
        proposals.filter(object_id=OuterRef("object_id"))
        .exclude(state__in=OPEN_PROPOSAL_STATES)
        .filter(
            Q(created_at__gt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), id__gt=OuterRef("id"))
        )
    )
    return (
        proposals.filter(state=ProposalState.CONFLICT)
        .exclude(Exists(open_one))
        .exclude(Exists(newer_closed))
    )


def with_record_status(queryset: QuerySet[_Record]) -> QuerySet[_Record]:
    """`queryset` with each record's status code in `approval_status_code`."""
    proposals = _proposals_of_model(queryset.model)
    open_state = proposals.filter(
        object_id=OuterRef("pk"), state__in=OPEN_PROPOSAL_STATES
    ).values("state")[:1]
    last_closed_state = (
        proposals.filter(object_id=OuterRef("pk"))
        .exclude(state__in=OPEN_PROPOSAL_STATES)
        .order_by("-created_at", "-id")
        .values("state")[:1]
    )
    from_proposals = Coalesce(
        "_open_state",
        Case(
            When(
                _last_closed_state=ProposalState.CONFLICT,
                then=Value(RecordStatus.CONFLICT.value),
            ),
            default=Value(RecordStatus.NONE.value),
        ),
        output_field=models.CharField(),
    )
    status: Case | Coalesce
    if not _has_record_status(queryset.model):
        status = from_proposals
    else:
        status = Case(
            *(
                When(**{creation.STATUS_FIELD: stored}, then=Value(shown.value))
                for shown, stored in INACTIVE_STATUSES.items()
            ),
            default=from_proposals,
            output_field=models.CharField(),
        )
    return queryset.alias(
        _open_state=Subquery(open_state),
        _last_closed_state=Subquery(last_closed_state),
    ).annotate(**{STATUS_ANNOTATION: status})


def _has_record_status(model: type[models.Model]) -> bool:
    return any(f.name == creation.STATUS_FIELD for f in model._meta.concrete_fields)


def _active(queryset: QuerySet[_Record]) -> QuerySet[_Record]:
    if not _has_record_status(queryset.model):
        return queryset
    return queryset.filter(**{creation.STATUS_FIELD: creation.ACTIVE})


def records_in_status(queryset: QuerySet[_Record], *, status: str) -> QuerySet[_Record]:
    """The records of `queryset` whose status is `status` (a RecordStatus value)."""
    model = queryset.model
    if status in INACTIVE_STATUSES:
        if not _has_record_status(model):
            return queryset.none()
        return queryset.filter(
            **{creation.STATUS_FIELD: INACTIVE_STATUSES[RecordStatus(status)]}
        )
    if status in OPEN_STATUSES:
        return _active(queryset).filter(
            pk__in=_proposals_of_model(model).filter(state=status).values("object_id")
        )
    if status == RecordStatus.CONFLICT:
        return _active(queryset).filter(
            pk__in=_latest_conflicts(model).values("object_id")
        )
    if status == RecordStatus.NONE:
        open_one = _proposals_of_model(model).filter(
            object_id=OuterRef("pk"), state__in=OPEN_PROPOSAL_STATES
        )
        conflict = _latest_conflicts(model).filter(object_id=OuterRef("pk"))
        return _active(queryset).exclude(Exists(open_one)).exclude(Exists(conflict))
    raise ValueError(f"not a record status: {status!r}")


def records_with_a_status_count(model: type[models.Model]) -> int:
    """How many records of `model` have an open proposal or stand in conflict: one
    open proposal per record (a constraint), and one latest conflict per record."""
    open_ones = _proposals_of_model(model).filter(state__in=OPEN_PROPOSAL_STATES)
    counted = (
        open_ones.values("pk")
        .union(_latest_conflicts(model).values("pk"), all=True)
        .count()
    )
    if _has_record_status(model):
        # Rejected records have no open proposal (one edited again has a draft, and
        # is counted with it); those awaiting approval have theirs.
        open_one = open_ones.filter(object_id=OuterRef("pk"))
        counted += (
            model._default_manager.filter(**{creation.STATUS_FIELD: creation.REJECTED})
            .exclude(Exists(open_one))
            .count()
        )
    return counted
