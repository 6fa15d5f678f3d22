"""The approval status of governed records, for their lists: a column and a filter.

A record's status comes from its proposals: the state of its open proposal (changes not
submitted, pending approval, changes requested) or, with none open, Conflict when the
latest of its closed proposals ended in conflict (nothing newer was proposed since);
otherwise it has no proposed changes.

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
    return queryset.alias(
        _open_state=Subquery(open_state),
        _last_closed_state=Subquery(last_closed_state),
    ).annotate(
        **{
            STATUS_ANNOTATION: Coalesce(
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
        }
    )


def records_in_status(queryset: QuerySet[_Record], *, status: str) -> QuerySet[_Record]:
    """The records of `queryset` whose status is `status` (a RecordStatus value)."""
    model = queryset.model
    if status in OPEN_STATUSES:
        return queryset.filter(
            pk__in=_proposals_of_model(model).filter(state=status).values("object_id")
        )
    if status == RecordStatus.CONFLICT:
        return queryset.filter(pk__in=_latest_conflicts(model).values("object_id"))
    if status == RecordStatus.NONE:
        open_one = _proposals_of_model(model).filter(
            object_id=OuterRef("pk"), state__in=OPEN_PROPOSAL_STATES
        )
        conflict = _latest_conflicts(model).filter(object_id=OuterRef("pk"))
        return queryset.exclude(Exists(open_one)).exclude(Exists(conflict))
    raise ValueError(f"not a record status: {status!r}")


def records_with_a_status_count(model: type[models.Model]) -> int:
    """How many records of `model` have an open proposal or stand in conflict: one
    open proposal per record (a constraint), and one latest conflict per record."""
    open_ones = _proposals_of_model(model).filter(state__in=OPEN_PROPOSAL_STATES)
    return (
        open_ones.values("pk")
        .union(_latest_conflicts(model).values("pk"), all=True)
        .count()
    )
