"""Where a submitted proposal goes next: the first later step whose condition holds,
passing over exactly the later steps before it."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tests.core.strategies import Step, changes, steps
from workflow.core.conditions import ConditionKind, condition_holds
from workflow.core.routing import next_step


def holds(step: Step, found: dict) -> bool:
    return condition_holds(
        step.condition_kind, step.condition_field, step.condition_value, found
    )


@given(workflow=steps(), after=st.integers(0, 9), found=changes)
def test_the_first_later_step_whose_condition_holds(workflow, after, found):
    route = next_step(workflow, after, found)

    later = sorted(
        (s for s in workflow if s.sequence > after), key=lambda s: s.sequence
    )
    applying = [s for s in later if holds(s, found)]
    if applying:
        assert route.step == applying[0]
        assert route.skipped == tuple(later[: later.index(applying[0])])
    else:
        assert route.step is None
        assert route.skipped == tuple(later)
    assert not any(holds(s, found) for s in route.skipped)


@given(workflow=steps(), after=st.integers(0, 9), found=changes, seed=st.randoms())
def test_the_order_steps_come_in_does_not_matter(workflow, after, found, seed):
    shuffled = list(workflow)
    seed.shuffle(shuffled)

    assert next_step(shuffled, after, found) == next_step(workflow, after, found)


CREDIT_UP = {"credit_limit": ("100", "200")}
BANK = Step(2, ConditionKind.CHANGES, "bank_account")


def test_no_steps_means_no_step_and_nothing_skipped():
    route = next_step([], 0, CREDIT_UP)

    assert (route.step, route.skipped) == (None, ())


def test_steps_up_to_and_at_after_are_not_considered():
    first, second, third = Step(1), Step(2), Step(3)

    assert next_step([third, first, second], 0, CREDIT_UP).step == first
    assert next_step([third, first, second], 1, CREDIT_UP).step == second
    assert next_step([third, first, second], 2, CREDIT_UP).step == third
    assert next_step([third, first, second], 3, CREDIT_UP).step is None


def test_a_step_whose_condition_fails_is_skipped_for_the_next():
    last = Step(3)
    route = next_step([BANK, Step(1), last], 1, CREDIT_UP)

    assert (route.step, route.skipped) == (last, (BANK,))


def test_a_condition_is_tested_with_its_value():
    above = Step(2, ConditionKind.ABOVE, "credit_limit", Decimal(150))

    assert next_step([above], 0, CREDIT_UP).step == above
    assert next_step([above], 0, {"credit_limit": ("100", "150")}).step is None


def test_all_later_conditions_failing_skips_them_all():
    above = Step(3, ConditionKind.ABOVE, "credit_limit", Decimal(500))
    route = next_step([Step(1), BANK, above], 1, CREDIT_UP)

    assert (route.step, route.skipped) == (None, (BANK, above))


def test_shuffled_input_is_routed_by_sequence():
    workflow = [Step(n) for n in (5, 2, 9, 1)]
    random.Random(7).shuffle(workflow)

    assert next_step(workflow, 2, CREDIT_UP).step == Step(5)
