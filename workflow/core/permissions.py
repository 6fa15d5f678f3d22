"""Which permissions each action on a governed record or its proposal needs."""

from __future__ import annotations

from enum import StrEnum

DECIDE_PERMISSION = "workflow.decide_workitem"
SUBMIT_PERMISSION = "workflow.submit_changeproposal"
REASSIGN_PERMISSION = "workflow.reassign_workitem"


class Action(StrEnum):
    CREATE = "create"
    EDIT = "edit"
    DELETE = "delete"
    IMPORT = "import"
    EDIT_DRAFT = "edit_draft"
    SUBMIT = "submit"
    RECALL = "recall"
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGE = "request_change"
    DELEGATE = "delegate"
    REASSIGN = "reassign"


DECISIONS = frozenset(
    {Action.APPROVE, Action.REJECT, Action.REQUEST_CHANGE, Action.DELEGATE}
)


def record_permission(verb: str, app_label: str, model_name: str) -> str:
    return f"{app_label}.{verb}_{model_name}"


def required_permissions(
    action: Action, app_label: str, model_name: str
) -> tuple[str, ...]:
    """The permissions `action` needs on records of the model `app_label.model_name`.

    Recalling needs none: only the submitter may, which is a rule of its own.
    """
    change = record_permission("change", app_label, model_name)
    needed: dict[Action, tuple[str, ...]] = {
        Action.CREATE: (record_permission("add", app_label, model_name),),
        Action.EDIT: (change,),
        Action.DELETE: (record_permission("delete", app_label, model_name),),
        Action.IMPORT: (record_permission("add", app_label, model_name), change),
        Action.EDIT_DRAFT: (change,),
        Action.SUBMIT: (change, SUBMIT_PERMISSION),
        Action.RECALL: (),
        Action.REASSIGN: (REASSIGN_PERMISSION,),
    }
    if action in DECISIONS:
        return (DECIDE_PERMISSION,)
    return needed[action]


def definition_permissions(
    verbs: tuple[str, ...], models: tuple[tuple[str, str], ...]
) -> tuple[str, ...]:
    """The permissions of which any one allows `verbs` on a governed model's approval
    parameters or workflows: on the engine's own model, or on the proxy the governed
    model's app shows them under (its pages check that one). `models` are
    (app_label, model_name) pairs."""
    return tuple(
        record_permission(verb, app_label, model_name)
        for app_label, model_name in models
        for verb in verbs
    )
