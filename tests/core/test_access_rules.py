"""Who may grant what: the rules of workflow/core/access.py on facts built by hand."""

from __future__ import annotations

import pytest

from workflow.core.access import (
    GROUP_GRANTS_MORE,
    ONLY_SUPERUSER_GRANTS_SUPERUSER,
    PERMISSIONS_NOT_HELD,
    STAFF_NOT_HELD,
    SUPERUSER_PROTECTED,
    Grantor,
    flags_refusal,
    groups_refusal,
    permissions_refusal,
    target_refusal,
)

ADMIN = Grantor(is_superuser=False, is_staff=True, permission_ids=frozenset({1, 2}))
ROOT = Grantor(is_superuser=True, is_staff=True, permission_ids=frozenset())
NOT_STAFF = Grantor(is_superuser=False, is_staff=False, permission_ids=frozenset({1}))


def flags(grantor, superuser=(False, False), staff=(False, False)):
    return flags_refusal(
        grantor,
        superuser_before=superuser[0],
        superuser_after=superuser[1],
        staff_before=staff[0],
        staff_after=staff[1],
    )


def test_only_a_superuser_touches_a_superuser():
    assert target_refusal(ADMIN, username="root", target_is_superuser=True) == str(
        SUPERUSER_PROTECTED % {"user": "root"}
    )
    assert target_refusal(ADMIN, username="clerk", target_is_superuser=False) is None
    assert target_refusal(ROOT, username="root", target_is_superuser=True) is None


def test_only_a_superuser_makes_a_superuser():
    assert flags(ADMIN, superuser=(False, True)) == str(ONLY_SUPERUSER_GRANTS_SUPERUSER)
    assert flags(ROOT, superuser=(False, True)) is None
    # Keeping or taking away what is there already is no grant.
    assert flags(ADMIN, superuser=(True, True)) is None
    assert flags(ADMIN, superuser=(True, False)) is None


def test_staff_status_only_from_staff():
    assert flags(NOT_STAFF, staff=(False, True)) == str(STAFF_NOT_HELD)
    assert flags(ADMIN, staff=(False, True)) is None
    assert flags(NOT_STAFF, staff=(True, True)) is None
    assert flags(NOT_STAFF, staff=(True, False)) is None
    assert flags(NOT_STAFF) is None


def test_a_superuser_flag_refusal_comes_before_the_staff_one():
    assert flags(NOT_STAFF, superuser=(False, True), staff=(False, True)) == str(
        ONLY_SUPERUSER_GRANTS_SUPERUSER
    )


def test_nobody_grants_a_permission_they_do_not_hold():
    assert permissions_refusal(ADMIN, added={1: "view customer"}) is None
    assert permissions_refusal(ADMIN, added={}) is None
    assert permissions_refusal(
        ADMIN, added={1: "view customer", 9: "decide", 7: "approve"}
    ) == str(PERMISSIONS_NOT_HELD % {"permissions": "approve, decide"})
    assert permissions_refusal(ROOT, added={9: "decide"}) is None


@pytest.mark.parametrize(
    ("added", "refusal"),
    [
        ({}, None),
        ({"Readers": {1: "view customer"}}, None),
        ({"Readers": {}}, None),
        (
            {"Approvers": {1: "view customer", 9: "decide", 7: "approve"}},
            GROUP_GRANTS_MORE
            % {"group": "Approvers", "permissions": "approve, decide"},
        ),
        (
            # The first such group by name is the one named.
            {"Zeta": {8: "zed"}, "Alpha": {1: "view customer", 9: "decide"}},
            GROUP_GRANTS_MORE % {"group": "Alpha", "permissions": "decide"},
        ),
    ],
)
def test_nobody_puts_anyone_in_a_group_that_grants_more(added, refusal):
    expected = None if refusal is None else str(refusal)
    assert groups_refusal(ADMIN, added=added) == expected
    assert groups_refusal(ROOT, added=added) is None
