"""The facts the decision core decides on: plain values, loaded before it is asked.

Selectors build these from the database (one proposal or ten thousand at a time);
the core never queries. A test builds them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class Part(StrEnum):
    """How a person took part in a proposal before it reached a decision."""

    PROPOSED = "proposed"
    SUBMITTED = "submitted"


@dataclass(frozen=True)
class Participation:
    """One person's part in a proposal: a value they proposed (or withdrew) in its
    draft, or a submission (first or later round)."""

    user_id: int
    part: Part
    field_name: str = ""
    submission_round: int = 0


@dataclass(frozen=True)
class ItemFacts:
    """A work item of the proposal: whose, at which step, in which round, its state."""

    assignee_id: int
    step_sequence: int
    submission_round: int
    state: str


@dataclass(frozen=True)
class ProposalFacts:
    """What the rules need to know of one proposal."""

    state: str
    created_by_id: int | None = None
    submitted_by_id: int | None = None
    current_step_sequence: int | None = None
    submission_round: int = 0
    participations: tuple[Participation, ...] = ()
    work_items: tuple[ItemFacts, ...] = ()


@dataclass(frozen=True)
class ActorFacts:
    """A person as the rules see them: active or not, and the permissions they hold."""

    user_id: int
    username: str = ""
    is_active: bool = True
    permissions: frozenset[str] = field(default_factory=frozenset)
    is_superuser: bool = False

    def holds(self, *permissions: str) -> bool:
        if not self.is_active:
            return False
        return self.is_superuser or all(p in self.permissions for p in permissions)


class StepLike(Protocol):
    """An approval step as routing and completion read it (a WorkflowStep will do)."""

    @property
    def sequence(self) -> int: ...

    @property
    def condition_kind(self) -> str: ...

    @property
    def condition_field(self) -> str: ...

    @property
    def condition_value(self) -> Decimal | None: ...

    @property
    def completion_policy(self) -> str: ...

    @property
    def approval_percentage(self) -> int | None: ...


class RuleLike(Protocol):
    """An automatic approval rule as the core reads it (an AutoApprovalRule will do)."""

    @property
    def field_name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def value(self) -> Decimal | None: ...


# Field name -> (original, proposed), both in their stored (JSON) form.
Changes = dict[str, tuple[object, object]]
