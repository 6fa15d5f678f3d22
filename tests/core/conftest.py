"""The decision core's tests build their facts by hand and need no database."""

from __future__ import annotations

from hypothesis import settings

# `make mutate` runs the properties with this profile: the same examples for every
# mutant (a mutant is killed or survives for the tests, not for the dice), none
# remembered between runs, no deadline (a mutant's trampolines slow each call), and
# fewer of them, since each of some 600 mutants runs every test that reaches it.
settings.register_profile(
    "mutmut", derandomize=True, database=None, deadline=None, max_examples=25
)
