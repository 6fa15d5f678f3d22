"""Who may do what to a proposal. Each rule is written once, here, and every path asks it."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from .exceptions import OWN_PROPOSAL
from .models import ChangeProposal


def people_who_may_not_decide(proposal: ChangeProposal) -> set[int]:
    """Separation of duties: whoever proposed or submitted a change never approves it."""
    excluded = {proposal.created_by_id, proposal.submitted_by_id}
    excluded.update(proposal.changes.values_list("proposed_by_id", flat=True))
    excluded.discard(None)
    return excluded


def decision_refusal(proposal: ChangeProposal, user) -> str | None:
    """Why `user` may not approve or reject `proposal`, or None if nothing forbids it."""
    if user.pk in people_who_may_not_decide(proposal):
        return str(OWN_PROPOSAL)
    return None


def can_edit_governed_model(user, content_type: ContentType) -> bool:
    return user.has_perm(f"{content_type.app_label}.change_{content_type.model}")
