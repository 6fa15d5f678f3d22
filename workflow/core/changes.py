"""What needs approval: which changed fields are written at once, proposed, or refused.

One function for every path. A person's edit in the browser (`behaviour` None) writes
the fields without approval and proposes the others into the record's draft. An import
follows the data entity behaviour: write everything, fail the row, or propose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from ..exceptions import IMPORT_OPEN_PROPOSAL, IMPORT_REJECTS, PENDING_EDIT_REFUSED
from .lifecycle import EDITABLE, OPEN
from .refusals import Refusal, RefusalKind

ALLOW, REJECT, PROPOSE = "allow", "reject", "propose"


def enabled_fields(
    approvals_enabled: bool, enabled: Iterable[str], governable: Iterable[str]
) -> frozenset[str]:
    """The fields whose changes need approval now: none while approvals are off."""
    if not approvals_enabled:
        return frozenset()
    return frozenset(enabled) & frozenset(governable)


def behaviour_permitted(
    approvals_enabled: bool, parameters_behaviour: str, requested: str
) -> bool:
    """An import may be stricter than the parameters, never looser: "Allow changes
    without approval" only where the parameters allow it (or approvals are off)."""
    if requested != ALLOW or not approvals_enabled:
        return True
    return parameters_behaviour == ALLOW


@dataclass(frozen=True)
class Routing:
    """What becomes of each changed field. With `row_refusal`, nothing is written."""

    direct: tuple[str, ...] = ()
    proposed: tuple[str, ...] = ()
    refused: dict[str, Refusal] = field(default_factory=dict)
    row_refusal: Refusal | None = None


def route_changes(
    changed: Iterable[str],
    *,
    enabled: frozenset[str],
    behaviour: str | None,
    open_proposal_state: str | None,
    open_proposal_label: str = "",
    labels: dict[str, str],
    record: str,
    model_name: str,
) -> Routing:
    """Split the changed fields of one record by what the rules let happen to them.

    `open_proposal_state` is the state of the record's open proposal, if any, and
    `open_proposal_label` how a person reads it; `labels` are the field labels and
    `record` the record's name, for the refusals.
    """
    changed = tuple(changed)
    if behaviour == ALLOW:
        return Routing(direct=changed)
    direct = tuple(n for n in changed if n not in enabled)
    governed = tuple(n for n in changed if n in enabled)
    if not governed:
        return Routing(direct=direct)
    if behaviour == REJECT:
        return Routing(
            refused={
                n: Refusal(RefusalKind.INPUT, IMPORT_REJECTS % {"field": labels[n]})
                for n in governed
            },
            row_refusal=Refusal(
                RefusalKind.INPUT, IMPORT_REJECTS % {"field": labels[governed[0]]}
            ),
        )
    if behaviour == PROPOSE:
        if open_proposal_state in OPEN:
            # An import submits what it proposes; it never adds to someone's draft.
            return Routing(
                row_refusal=Refusal(
                    RefusalKind.INPUT,
                    IMPORT_OPEN_PROPOSAL
                    % {"record": record, "state": open_proposal_label},
                )
            )
        return Routing(direct=direct, proposed=governed)
    if open_proposal_state is not None and open_proposal_state not in EDITABLE:
        return Routing(
            direct=direct,
            refused={
                n: Refusal(
                    RefusalKind.STATE,
                    PENDING_EDIT_REFUSED % {"field": labels[n], "model": model_name},
                )
                for n in governed
            },
        )
    return Routing(direct=direct, proposed=governed)


@dataclass(frozen=True)
class Meantime:
    """A person's edit of a record that others may have written since they loaded it:
    the fields that are theirs to write (or propose), and those both changed."""

    kept: tuple[str, ...] = ()
    clashes: tuple[str, ...] = ()


def meantime_split(
    names: Iterable[str],
    *,
    loaded: Mapping[str, object],
    current: Mapping[str, object],
    mine: Mapping[str, object],
    equal: Callable[[str, object, object], bool],
) -> Meantime:
    """Which of the fields a person sent are their changes to write, given the values
    their form was loaded with (`loaded`), those stored now (`current`) and theirs
    (`mine`). A field they left as it was keeps what is stored now, whoever wrote it;
    one they changed and nobody else did is theirs; one both changed, to different
    values, clashes, and neither value wins until the person chooses. A field the
    form did not load is theirs, as if nobody had written it since."""
    kept: list[str] = []
    clashes: list[str] = []
    for name in names:
        if name not in loaded:
            kept.append(name)
        elif equal(name, mine[name], loaded[name]):
            continue
        elif equal(name, current[name], loaded[name]):
            kept.append(name)
        elif not equal(name, current[name], mine[name]):
            clashes.append(name)
    return Meantime(kept=tuple(kept), clashes=tuple(clashes))
