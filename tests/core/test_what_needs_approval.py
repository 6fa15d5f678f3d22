"""What needs approval: which changed fields are written at once, proposed or refused,
by the data entity behaviour and the record's open proposal."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from workflow.core.changes import (
    ALLOW,
    PROPOSE,
    REJECT,
    Routing,
    behaviour_permitted,
    enabled_fields,
    route_changes,
)
from workflow.core.refusals import Refusal, RefusalKind
from workflow.exceptions import (
    IMPORT_OPEN_PROPOSAL,
    IMPORT_REJECTS,
    PENDING_EDIT_REFUSED,
)

NAMES = ("name", "city", "credit_limit", "bank_account", "payment_terms")
LABELS = {n: n.replace("_", " ").capitalize() for n in NAMES}
BEHAVIOURS = st.sampled_from([None, ALLOW, REJECT, PROPOSE])
# The state of the record's open proposal, if it has one (callers pass no other).
OPEN = st.sampled_from([None, "draft", "pending", "changes_requested"])
changed_fields = st.lists(st.sampled_from(NAMES), unique=True)
enabled_sets = st.frozensets(st.sampled_from(NAMES))


def route(changed, enabled, behaviour, open_state=None):
    return route_changes(
        changed,
        enabled=enabled,
        behaviour=behaviour,
        open_proposal_state=open_state,
        open_proposal_label="Waiting",
        labels=LABELS,
        record="C00001",
        model_name="customer",
    )


@given(
    changed=changed_fields, enabled=enabled_sets, behaviour=BEHAVIOURS, open_state=OPEN
)
def test_no_field_that_is_not_enabled_is_ever_proposed(
    changed, enabled, behaviour, open_state
):
    routing = route(changed, enabled, behaviour, open_state)

    assert set(routing.proposed) <= enabled


@given(
    changed=changed_fields, enabled=enabled_sets, behaviour=BEHAVIOURS, open_state=OPEN
)
def test_an_enabled_field_is_written_directly_only_when_allowed(
    changed, enabled, behaviour, open_state
):
    routing = route(changed, enabled, behaviour, open_state)

    if behaviour == ALLOW:
        assert routing.direct == tuple(changed)
    else:
        assert not set(routing.direct) & enabled


@given(changed=changed_fields, enabled=enabled_sets, open_state=OPEN)
def test_reject_refuses_every_enabled_changed_field_and_writes_nothing(
    changed, enabled, open_state
):
    routing = route(changed, enabled, REJECT, open_state)

    governed = [n for n in changed if n in enabled]
    assert routing.refused == {
        n: Refusal(RefusalKind.INPUT, IMPORT_REJECTS % {"field": LABELS[n]})
        for n in governed
    }
    assert list(routing.refused) == governed
    if governed:
        assert routing.row_refusal == Refusal(
            RefusalKind.INPUT, IMPORT_REJECTS % {"field": LABELS[governed[0]]}
        )
        assert (routing.direct, routing.proposed) == ((), ())
    else:
        assert routing.row_refusal is None
        assert routing.direct == tuple(changed)


@given(
    changed=changed_fields, enabled=enabled_sets, behaviour=BEHAVIOURS, open_state=OPEN
)
def test_every_changed_field_goes_exactly_one_way(
    changed, enabled, behaviour, open_state
):
    routing = route(changed, enabled, behaviour, open_state)

    if routing.row_refusal is not None:
        assert (routing.direct, routing.proposed) == ((), ())
    else:
        ways = [*routing.direct, *routing.proposed, *routing.refused]
        assert sorted(ways) == sorted(changed)


@given(changed=changed_fields, enabled=enabled_sets, open_state=OPEN)
def test_a_person_proposes_unless_a_submitted_proposal_waits(
    changed, enabled, open_state
):
    routing = route(changed, enabled, None, open_state)

    governed = tuple(n for n in changed if n in enabled)
    assert routing.direct == tuple(n for n in changed if n not in enabled)
    assert routing.row_refusal is None
    if open_state != "pending":
        assert (routing.proposed, routing.refused) == (governed, {})
    else:
        assert routing.proposed == ()
        assert routing.refused == {
            n: Refusal(
                RefusalKind.STATE,
                PENDING_EDIT_REFUSED % {"field": LABELS[n], "model": "customer"},
            )
            for n in governed
        }


@given(changed=changed_fields, enabled=enabled_sets, open_state=OPEN)
def test_an_import_proposes_only_when_no_proposal_is_open(changed, enabled, open_state):
    routing = route(changed, enabled, PROPOSE, open_state)

    governed = tuple(n for n in changed if n in enabled)
    if governed and open_state is not None:
        assert routing == route_refused_for_open_proposal()
    else:
        assert routing.direct == tuple(n for n in changed if n not in enabled)
        assert (routing.proposed, routing.refused, routing.row_refusal) == (
            governed,
            {},
            None,
        )


def route_refused_for_open_proposal():
    return Routing(
        row_refusal=Refusal(
            RefusalKind.INPUT,
            IMPORT_OPEN_PROPOSAL % {"record": "C00001", "state": "Waiting"},
        )
    )


# --- The same rules on one record with fields of both kinds --------------------------

MIXED = ["name", "credit_limit", "city", "bank_account"]
GOVERNED = frozenset({"credit_limit", "bank_account"})


def test_a_person_saves_the_free_fields_and_proposes_the_governed():
    assert route(MIXED, GOVERNED, None) == Routing(
        direct=("name", "city"), proposed=("credit_limit", "bank_account")
    )
    assert route(MIXED, GOVERNED, None, "draft") == Routing(
        direct=("name", "city"), proposed=("credit_limit", "bank_account")
    )


def test_a_person_saves_the_free_fields_while_governed_ones_wait():
    routing = route(MIXED, GOVERNED, None, "pending")

    assert (routing.direct, routing.proposed, routing.row_refusal) == (
        ("name", "city"),
        (),
        None,
    )
    assert list(routing.refused) == ["credit_limit", "bank_account"]


def test_an_import_writes_the_free_fields_and_proposes_the_governed():
    assert route(MIXED, GOVERNED, PROPOSE) == Routing(
        direct=("name", "city"), proposed=("credit_limit", "bank_account")
    )


def test_an_import_with_an_open_proposal_fails_the_row_even_for_free_fields():
    routing = route(MIXED, GOVERNED, PROPOSE, "changes_requested")

    assert routing == route_refused_for_open_proposal()


def test_an_import_of_free_fields_only_is_written_whatever_is_open():
    assert route(["name"], GOVERNED, PROPOSE, "pending") == Routing(direct=("name",))
    assert route(["name"], GOVERNED, REJECT) == Routing(direct=("name",))


def test_allow_writes_everything():
    assert route(MIXED, GOVERNED, ALLOW, "pending") == Routing(direct=tuple(MIXED))


def test_reject_names_the_first_governed_field_for_the_row():
    routing = route(MIXED, GOVERNED, REJECT)

    assert str(routing.row_refusal) == (
        "Credit limit needs approval, and this import rejects changes to such "
        "fields (Reject changes)."
    )
    assert (routing.direct, routing.proposed) == ((), ())


def test_without_a_label_the_open_proposal_refusal_names_no_state():
    routing = route_changes(
        ["credit_limit"],
        enabled=GOVERNED,
        behaviour=PROPOSE,
        open_proposal_state="pending",
        labels=LABELS,
        record="C00001",
        model_name="customer",
    )

    assert routing.row_refusal == Refusal(
        RefusalKind.INPUT, IMPORT_OPEN_PROPOSAL % {"record": "C00001", "state": ""}
    )


@given(on=st.booleans(), enabled=enabled_sets, governable=enabled_sets)
def test_fields_need_approval_only_while_approvals_are_on(on, enabled, governable):
    found = enabled_fields(on, enabled, governable)

    assert found == (enabled & governable if on else frozenset())


def test_enabled_fields_are_limited_to_the_governable():
    assert enabled_fields(True, ["credit_limit", "name"], ["credit_limit"]) == {
        "credit_limit"
    }
    assert enabled_fields(False, ["credit_limit"], ["credit_limit"]) == frozenset()


@given(
    on=st.booleans(),
    parameters=st.sampled_from([ALLOW, REJECT, PROPOSE]),
    requested=st.sampled_from([ALLOW, REJECT, PROPOSE]),
)
def test_an_import_may_be_stricter_than_the_parameters_never_looser(
    on, parameters, requested
):
    permitted = behaviour_permitted(on, parameters, requested)

    looser = on and requested == ALLOW and parameters != ALLOW
    assert permitted is (not looser)
