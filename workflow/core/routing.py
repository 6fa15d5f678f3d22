"""Where a submitted proposal goes: no approval at all, or the next step that applies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from .conditions import condition_holds
from .facts import Changes, RuleLike, StepLike

Step = TypeVar("Step", bound=StepLike)
Rule = TypeVar("Rule", bound=RuleLike)


@dataclass(frozen=True)
class Route(Generic[Step]):
    """The step a proposal goes to next (None: no step is left, so it applies) and the
    steps passed over because their condition does not hold."""

    step: Step | None
    skipped: tuple[Step, ...]


def next_step(
    steps: Iterable[Step], after_sequence: int, changes: Changes
) -> Route[Step]:
    """The first step after `after_sequence` whose condition holds for `changes`."""
    skipped: list[Step] = []
    for step in sorted(steps, key=lambda s: s.sequence):
        if step.sequence <= after_sequence:
            continue
        if condition_holds(
            step.condition_kind, step.condition_field, step.condition_value, changes
        ):
            return Route(step=step, skipped=tuple(skipped))
        skipped.append(step)
    return Route(step=None, skipped=tuple(skipped))


def automatic_approval(rules: Sequence[Rule], changes: Changes) -> tuple[Rule, ...]:
    """The rules that approve every change of a proposal, one per field; () when any
    change needs approval (or there are no changes or no rules)."""
    if not changes or not rules:
        return ()
    matched = []
    for field_name in changes:
        rule = next(
            (
                r
                for r in rules
                if r.field_name == field_name
                and condition_holds(r.kind, r.field_name, r.value, changes)
            ),
            None,
        )
        if rule is None:
            return ()
        matched.append(rule)
    return tuple(matched)
