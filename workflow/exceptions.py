"""Refusals the engine explains to people; every message is a sentence a user can act on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PENDING_EDIT_REFUSED = _(
    "%(field)s was not saved: this %(model)s has changes pending approval. "
    "You can change it again once they are approved or rejected."
)
INACTIVE_REFERENCE = _(
    "%(record)s cannot be used as %(field)s: its status is “%(status)s”. A record "
    "is used only once its creation is approved."
)
IMPORT_NEW_RECORD_REJECTED = _(
    "%(record)s was not created: new %(model)s wait for approval, and this import "
    "rejects changes that need approval. Import it with “Create change proposals”."
)
INACTIVE_RECORD_IMPORT = _(
    "%(record)s was not changed: its status is “%(status)s”. Change it on its page, "
    "where its changes go into its creation proposal."
)
NOTHING_TO_SUBMIT = _("There are no proposed changes to submit.")
NOT_A_DRAFT = _("These changes were already submitted; their status is now: %(state)s.")
NOT_PENDING = _("This proposal was already decided; its status is now: %(state)s.")
NO_ACTIVE_WORKFLOW = _(
    "The changes cannot be submitted because no workflow is active for %(model)s. "
    "Ask an approval administrator to activate one on %(workflows)s."
)
NO_ELIGIBLE_APPROVER = _(
    "Nobody may approve step “%(step)s” of these changes: the people it is assigned to "
    "are inactive, lack the approval permission, or proposed the changes themselves. "
    "Ask an approval administrator to assign the step to someone else."
)
EMPTY_WORKFLOW = _("The workflow “%(workflow)s” has no approval steps.")
OWN_PROPOSAL = _(
    "You cannot approve or reject these changes because you proposed or submitted them. "
    "Another approver has to decide."
)
NOT_ASSIGNED = _("This proposal is not waiting for your approval.")
ALREADY_DECIDED_STEP = _("You have already decided on this step.")
COMMENT_REQUIRED = _("Write a comment that tells the submitter what to change.")
ONLY_SUBMITTER_RECALLS = _(
    "Only the person who submitted these changes can recall them."
)
ONE_STEP_ONLY = _(
    "You already decided another step of this proposal; a different approver has to "
    "decide this one."
)
HANDOVER_TO_PROPOSER = _(
    "%(user)s proposed or submitted these changes, so the work item cannot go to them."
)
HANDOVER_TO_EARLIER_APPROVER = _(
    "%(user)s already decided another step of this proposal, so the work item cannot "
    "go to them."
)
HANDOVER_TO_HOLDER = _("%(user)s already has or has decided this work item.")
HANDOVER_NOT_APPROVER = _("%(user)s is not allowed to approve work items.")
COMMENT_REQUIRED_TO_REJECT = _(
    "Write a comment that explains why you reject the changes."
)
NO_PERMISSION = _("You do not have permission to do this.")
NOT_GOVERNABLE_FIELD = _("%(field)s cannot be put under approval.")
APPLY_CONFLICT = _(
    "The value was %(original)s when the change was proposed but is %(current)s now; "
    "nothing was written."
)
APPLY_INVALID = _(
    "The proposed values are no longer valid: %(errors)s Nothing was written."
)
STALE_RECORD = _(
    "Someone changed this %(model)s after you opened it, so nothing was saved. Reload the "
    "page to see the current values, then make your change again."
)
RECORD_HAS_OPEN_PROPOSAL = _(
    "This record has changes waiting for approval; it can be deleted once they are "
    "decided or withdrawn."
)
WORKFLOW_IN_USE = _(
    "“%(workflow)s” is active or has proposals, so it cannot be changed. "
    "Create a new version of it, change that, and activate it."
)
WORKFLOW_WITHOUT_STEPS = _(
    "A workflow needs at least one approval step before it can be active."
)
STALE_DRAFT_FIELD = _("%(field)s is not part of the proposed changes.")
BEHAVIOUR_NOT_PERMITTED = _(
    "The %(parameters)s do not let imports change fields under approval without "
    "approval. Choose Create change proposals or Reject changes."
)
IMPORT_REJECTS = _(
    "%(field)s needs approval, and this import rejects changes to such fields "
    "(Reject changes)."
)
RECORD_CREATED_WHILE_IMPORTING = _(
    "%(record)s (line %(line)s of the file) was created by someone else while the file "
    "was being imported, so nothing was imported. Check the file again: it now changes "
    "that record instead of creating it."
)
REFERENCE_DELETED_WHILE_IMPORTING = _(
    "%(reference)s “%(code)s”, named in the file, was deleted by someone else while the "
    "file was being imported, so nothing was imported. Check the file again."
)
IMPORT_REFUSED_BY_DATABASE = _(
    "The database refused the import, so nothing was imported. Most likely someone "
    "else changed the same data while the file was being imported: check the file "
    "again and import it once more. The database said: %(reason)s"
)
IMPORT_OPEN_PROPOSAL = _(
    "%(record)s already has open proposed changes (%(state)s); decide or withdraw them "
    "before importing new ones."
)


class WorkflowError(Exception):
    """An operation the engine refused; `message` says why in plain words."""

    def __init__(self, message: StrOrPromise) -> None:
        super().__init__(message)
        self.message = message


class StaleRecord(WorkflowError):
    pass


class PermissionRefused(WorkflowError):
    pass


class AlreadyDecided(WorkflowError):
    pass


class NotSubmittable(WorkflowError):
    pass


# Appended after the classes so that branches adding messages merge side by side.
RECORD_VERSION_MISSING = _(
    "This %(model)s form was sent without the version it was loaded with, so nothing "
    "was saved. Reload the page, then make your change again."
)
JUSTIFICATION_REQUIRED = _(
    "Write a justification: the workflow asks why these changes are needed before "
    "they go for approval."
)
# Call-back verification of a bank-account change.
CALLBACK_STEP_NEEDS_CALL = _(
    "This step is a call-back verification: record the call (the number you called, "
    "the person you reached and the outcome) to approve it."
)
CALLBACK_NOT_A_CALLBACK_STEP = _(
    "This step is not a call-back verification: approve or reject it instead."
)
CALLBACK_PHONE_REQUIRED = _("Choose the phone number you called.")
CALLBACK_NO_NUMBERS = _(
    "The record had no phone number before this change, so nobody can be called back. "
    "Reject the change, or ask for a number on file first."
)
CALLBACK_PHONE_NOT_ON_FILE = _(
    "Call back only a number the record had before this change: the number you gave is "
    "not one of them. A number that came with the proposed change may be the "
    "fraudster's own."
)
CALLBACK_PERSON_REQUIRED = _("Write the name of the person you reached.")
CALLBACK_OUTCOME_REQUIRED = _(
    "Say whether the person you reached confirmed the change or not."
)
