"""Completion policies: when the votes on a step decide it."""

from __future__ import annotations

from collections.abc import Sequence

APPROVED = "approved"
REJECTED = "rejected"


def approvals_needed(policy: str, percentage: int | None, voters: int) -> int:
    """How many approvals decide a step with `voters` counted work items."""
    if policy == "single":
        return 1
    if policy == "all":
        return voters
    if policy == "majority":
        return voters // 2 + 1
    # Percentage: rounded up, so 50% of 3 approvers is 2, never 1.
    share = percentage or 100
    return max(1, -(-voters * share // 100))


def step_outcome(
    policy: str, percentage: int | None, states: Sequence[str]
) -> str | None:
    """ "approved" or "rejected" once the votes decide the step, else None."""
    approved = sum(1 for s in states if s == APPROVED)
    rejected = sum(1 for s in states if s == REJECTED)
    if policy == "single" and rejected:
        return REJECTED
    needed = approvals_needed(policy, percentage, len(states))
    if approved >= needed:
        return APPROVED
    if len(states) - rejected < needed:
        return REJECTED
    return None
