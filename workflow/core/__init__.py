"""The decision core: every approval rule, once, as pure functions over loaded facts.

The services (single, bulk, import, escalation, and whatever comes next) load the facts,
ask the core, and write what it concluded; the core itself never reads or writes the
database. Where each rule lives:

- `separation`: who may never decide a proposal (proposed, withdrew or submitted any of
  it, or decided another of its steps), and why.
- `actions`: whether a person may take an action on a proposal now (state, permission,
  separation of duties, assignment), and to whom a work item may be handed over.
- `permissions`: which permissions each action needs.
- `changes`: what needs approval: the fields written at once, proposed or refused, by
  the parameters and the import's data entity behaviour.
- `routing`: automatic approval, and the next step whose condition holds (with skips).
- `conditions`: the conditions of steps and automatic approval rules.
- `completion`: when the votes on a step decide it (single, majority, percentage, all).
- `applicability`: whether proposed values still apply (nothing moved, the whole record
  valid).
- `access`: who may grant what (superuser status, permissions, groups) to users and groups.
- `creation`: approval on create (whether a new record waits, what its proposal holds,
  which records may be used while they wait).
- `facts`, `refusals`: the data the core decides on, and how it says no.
"""
