"""The facts the decision core decides on, read from the database a few queries at a
time, whether for one proposal or for ten thousand."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import registry
from .core.bank import BankFacts, CallbackFacts
from .core.facts import ActorFacts, ItemFacts, Part, Participation, ProposalFacts
from .core.permissions import DECIDE_PERMISSION
from .core.separation import Exclusion, ExclusionReason
from .models import AuditAction, AuditEntry, ChangeProposal, WorkItem

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User

# The audit rows that record a person's part in a proposal before any decision, by
# their stored action.
PARTS: dict[str, Part] = {
    AuditAction.FIELD_PROPOSED: Part.PROPOSED,
    AuditAction.FIELD_DISCARDED: Part.PROPOSED,
    AuditAction.SUBMITTED: Part.SUBMITTED,
    AuditAction.RESUBMITTED: Part.SUBMITTED,
}


def proposal_facts_many(
    proposals: Iterable[ChangeProposal],
) -> dict[int, ProposalFacts]:
    """The facts of each proposal, by primary key, in two queries in all.

    Who took part is read from the audit trail, which nobody can change or wipe: a
    person stays excluded after their value was overwritten, withdrawn or resubmitted
    by someone else.
    """
    proposals = list(proposals)
    ids = [p.pk for p in proposals]
    parts: dict[int, list[Participation]] = defaultdict(list)
    rounds: dict[int, int] = defaultdict(int)
    rows = (
        AuditEntry.objects.filter(
            proposal_id__in=ids, action__in=list(PARTS), actor__isnull=False
        )
        .order_by("created_at", "id")
        .values_list("proposal_id", "actor_id", "action", "field_name")
    )
    for proposal_id, actor_id, action, field_name in rows:
        part = PARTS[action]
        if part == Part.SUBMITTED:
            rounds[proposal_id] += 1
        parts[proposal_id].append(
            Participation(
                user_id=actor_id,
                part=part,
                field_name=field_name,
                submission_round=rounds[proposal_id] if part == Part.SUBMITTED else 0,
            )
        )
    items: dict[int, list[ItemFacts]] = defaultdict(list)
    for proposal_id, assignee_id, sequence, submission_round, state in (
        WorkItem.objects.filter(proposal_id__in=ids)
        .order_by("id")
        .values_list(
            "proposal_id", "assignee_id", "step__sequence", "submission_round", "state"
        )
    ):
        items[proposal_id].append(
            ItemFacts(
                assignee_id=assignee_id,
                step_sequence=sequence,
                submission_round=submission_round,
                state=state,
            )
        )
    return {
        p.pk: ProposalFacts(
            state=p.state,
            created_by_id=p.created_by_id,
            submitted_by_id=p.submitted_by_id,
            current_step_sequence=_current_sequence(p),
            submission_round=p.submission_round,
            participations=tuple(parts[p.pk]),
            work_items=tuple(items[p.pk]),
        )
        for p in proposals
    }


def _current_sequence(proposal: ChangeProposal) -> int | None:
    step = proposal.current_step
    return None if step is None else step.sequence


def proposal_facts(proposal: ChangeProposal) -> ProposalFacts:
    return proposal_facts_many([proposal])[proposal.pk]


def actor_facts(user: User | AnonymousUser | None) -> ActorFacts:
    """A signed-in person with every permission they hold (cached on the user)."""
    if user is None or not user.is_authenticated:
        return ActorFacts(user_id=0, is_active=False)
    return ActorFacts(
        user_id=user.pk,
        username=user.get_username(),
        is_active=user.is_active,
        permissions=frozenset(user.get_all_permissions()),
        is_superuser=user.is_superuser,
    )


def candidate_facts(users: Iterable[User]) -> list[ActorFacts]:
    """Candidates for a work item, with whether each may decide, in one query in all."""
    users = list(users)
    app_label, codename = DECIDE_PERMISSION.split(".")
    permission = Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    ).first()
    granted = Q(is_superuser=True)
    if permission is not None:
        granted |= Q(user_permissions=permission) | Q(groups__permissions=permission)
    deciders = set(
        get_user_model()
        ._default_manager.filter(granted, pk__in=[u.pk for u in users])
        .values_list("pk", flat=True)
    )
    return [
        ActorFacts(
            user_id=user.pk,
            username=user.get_username(),
            is_active=user.is_active,
            permissions=frozenset({DECIDE_PERMISSION})
            if user.pk in deciders
            else frozenset(),
        )
        for user in users
    ]


def exclusion_texts(
    reasons: Iterable[Exclusion], governed: registry.GovernedModel | None
) -> list[str]:
    """Why someone may not decide a proposal, in words."""
    texts = []
    for reason in reasons:
        if reason.reason == ExclusionReason.PROPOSED:
            texts.append(
                _("proposed or withdrew %(field)s")
                % {
                    "field": governed.field_label(reason.field_name)
                    if governed
                    else reason.field_name
                }
                if reason.field_name
                else _("started the proposal")
            )
        elif reason.reason == ExclusionReason.SUBMITTED:
            texts.append(
                _("submitted it (round %(round)s)") % {"round": reason.submission_round}
            )
        else:
            texts.append(_("decided step %(step)s") % {"step": reason.step_sequence})
    return list(dict.fromkeys(texts))


# --- Bank-detail controls ------------------------------------------------------------


def _record_of(proposal: ChangeProposal) -> models.Model | None:
    model = registry.model_of(proposal.content_type)
    return model._default_manager.filter(pk=proposal.object_id).first()


def callback_numbers(proposal: ChangeProposal) -> tuple[str, ...]:
    """The phone numbers the record had *before* the proposed change: a number the
    proposal changes counts with its original value, never the proposed one; a number
    changed another way since the proposal was made counts as it was then."""
    governed = registry.governed_of(proposal.content_type)
    if governed.bank is None:
        return ()
    record = _record_of(proposal)
    originals = {c.field_name: c.original_value for c in proposal.changes.all()}
    # The first value written after the proposal was made, per field: what it replaced.
    replaced: dict[str, object] = {}
    for name, old in (
        AuditEntry.objects.filter(
            content_type_id=proposal.content_type_id,
            object_id=proposal.object_id,
            action=AuditAction.FIELD_CHANGED,
            field_name__in=governed.bank.callback_phone_fields,
            created_at__gte=proposal.created_at,
        )
        .order_by("created_at", "id")
        .values_list("field_name", "old_value")
    ):
        replaced.setdefault(name, old)
    numbers: list[str] = []
    for name in governed.bank.callback_phone_fields:
        if name in originals:
            value = originals[name]
        elif name in replaced:
            value = replaced[name]
        elif record is not None:
            value = getattr(record, name, "")
        else:
            value = ""
        if value and str(value) not in numbers:
            numbers.append(str(value))
    return tuple(numbers)


def callback_facts(proposal: ChangeProposal) -> CallbackFacts:
    step = proposal.current_step
    return CallbackFacts(
        step_kind=step.kind if step is not None else "",
        numbers_on_file=callback_numbers(proposal),
    )


def bank_facts(proposal: ChangeProposal) -> BankFacts | None:
    """What the bank-detail warnings read of `proposal`, or None when it does not
    change a bank account."""
    governed = registry.governed_of(proposal.content_type)
    bank = governed.bank
    if bank is None:
        return None
    changes = {c.field_name: c for c in proposal.changes.all()}
    account_change = changes.get(bank.account_field)
    if account_change is None or not account_change.proposed_value:
        return None
    proposed = str(account_change.proposed_value)
    model = governed.model
    holders = (
        model._default_manager.filter(**{bank.account_field: proposed})
        .exclude(pk=proposal.object_id)
        .order_by("pk")
    )
    keys = tuple(
        str(key)
        for key in holders.values_list(
            governed.business_key if governed.business_key != "pk" else "pk",
            flat=True,
        )[:10]
    )
    country = ""
    if bank.country_field:
        if bank.country_field in changes:
            country = str(changes[bank.country_field].proposed_value or "")
        else:
            record = _record_of(proposal)
            country = str(getattr(record, bank.country_field, "") or "")
    window = settings.BANK_CHANGE_WINDOW_DAYS
    # As of the proposal's end (or now while it is open), its own change left out, so a
    # report reads an old proposal as its approver did.
    until = proposal.closed_at or timezone.now()
    since = until - datetime.timedelta(days=window)
    recent = tuple(
        AuditEntry.objects.exclude(proposal_id=proposal.pk)
        .filter(
            content_type_id=proposal.content_type_id,
            object_id=proposal.object_id,
            action=AuditAction.FIELD_CHANGED,
            field_name=bank.account_field,
            created_at__gte=since,
            created_at__lte=until,
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    contacts = tuple(
        governed.field_label(name) for name in bank.contact_fields if name in changes
    )
    # Contact details changed another way shortly before (or while) the bank account
    # is proposed: a fraudster's number would then be "on file" for the call-back.
    contact_since = proposal.created_at - datetime.timedelta(days=window)
    recent_contacts = tuple(
        governed.field_label(name)
        for name in bank.contact_fields
        if name not in changes
        and AuditEntry.objects.filter(
            content_type_id=proposal.content_type_id,
            object_id=proposal.object_id,
            action=AuditAction.FIELD_CHANGED,
            field_name=name,
            created_at__gte=contact_since,
            created_at__lte=until,
        ).exists()
    )
    return BankFacts(
        proposed_account=proposed,
        other_holders=keys,
        country=country,
        recent_changes=recent,
        window_days=window,
        contact_changes=contacts,
        recent_contact_changes=recent_contacts,
    )
