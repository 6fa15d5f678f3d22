"""What the states of a proposal and of a work item mean, for every rule that asks."""

from __future__ import annotations

# Proposals: at most one open per record; a person edits and submits an editable one;
# its submitter may recall a pending one, which returns it to them as a draft. (One
# sent back for changes is theirs to edit already, or to withdraw by discarding it.)
PENDING = "pending"
OPEN = ("draft", "pending", "changes_requested")
EDITABLE = ("draft", "changes_requested")
RECALLABLE = ("pending",)

# Work items: the votes a completion policy counts (items handed over do not count: the
# person they went to holds a counted one), the states that record a person's decision
# on a step, and those in which a person holds a step (it cannot be given to them again).
OPEN_ITEM = "open"
VOTES = ("open", "approved", "rejected", "closed", "sent_back")
DECIDED = ("approved", "rejected", "sent_back")
HOLDING = ("open", "approved", "rejected", "sent_back")
