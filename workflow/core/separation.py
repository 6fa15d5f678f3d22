"""Separation of duties: who may never decide a proposal, and why.

Nobody who proposed a value of it, withdrew one from its draft, or submitted it in any
round decides it; and a person decides one step of a proposal at most, in any round
(steps compare by sequence, since a resubmission may run under a newer version of the
workflow). Delegation, reassignment, escalation and group membership all ask this same
function, so no route leads around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .facts import Part, ProposalFacts
from .lifecycle import DECIDED


class ExclusionReason(StrEnum):
    PROPOSED = "proposed"
    SUBMITTED = "submitted"
    DECIDED_OTHER_STEP = "decided_other_step"


@dataclass(frozen=True, order=True)
class Exclusion:
    reason: ExclusionReason
    field_name: str = ""
    submission_round: int = 0
    step_sequence: int = 0


def exclusions(
    facts: ProposalFacts, step_sequence: int | None
) -> dict[int, tuple[Exclusion, ...]]:
    """Everyone who may not decide step `step_sequence` of the proposal, with each reason."""
    found: dict[int, set[Exclusion]] = {}
    for part in facts.participations:
        if part.part == Part.PROPOSED:
            reason = Exclusion(ExclusionReason.PROPOSED, field_name=part.field_name)
        else:
            reason = Exclusion(
                ExclusionReason.SUBMITTED, submission_round=part.submission_round
            )
        found.setdefault(part.user_id, set()).add(reason)
    if facts.created_by_id is not None and not any(
        r.reason == ExclusionReason.PROPOSED for r in found.get(facts.created_by_id, ())
    ):
        # Who started the proposal proposed its first value; said so when the audit
        # trail names no field of theirs.
        found.setdefault(facts.created_by_id, set()).add(
            Exclusion(ExclusionReason.PROPOSED)
        )
    if facts.submitted_by_id is not None:
        found.setdefault(facts.submitted_by_id, set()).add(
            Exclusion(
                ExclusionReason.SUBMITTED, submission_round=facts.submission_round
            )
        )
    for item in facts.work_items:
        if item.state in DECIDED and item.step_sequence != step_sequence:
            found.setdefault(item.assignee_id, set()).add(
                Exclusion(
                    ExclusionReason.DECIDED_OTHER_STEP, step_sequence=item.step_sequence
                )
            )
    return {user_id: tuple(sorted(reasons)) for user_id, reasons in found.items()}


def took_part(reasons: tuple[Exclusion, ...]) -> bool:
    """Whether the reasons include proposing or submitting (not only another step)."""
    return any(r.reason != ExclusionReason.DECIDED_OTHER_STEP for r in reasons)
