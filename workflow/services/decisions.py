"""A proposal's way through its workflow: submit, decide, hand over, escalate, apply.

Every rule is the decision core's: these functions lock, load the facts, ask the core,
and write what it concluded (lock order in `common`).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Protocol

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import notifications, registry, selectors
from ..audit import (
    SystemComment,
    Translated,
    audit_for_proposal,
    audit_write,
    in_every_language,
)
from ..core import completion, creation, lifecycle, routing
from ..core.actions import eligible, handover_refusal, justification_refusal
from ..core.bank import (
    CallbackEvidence,
    CallbackOutcome,
    callback_refusal,
    decision_kind_refusal,
)
from ..core.conditions import skipped_step_text
from ..core.permissions import Action
from ..enforcement import STATUS_FIELD
from ..exceptions import (
    APPLY_CONFLICT,
    COMMENT_REQUIRED,
    COMMENT_REQUIRED_TO_REJECT,
    EMPTY_WORKFLOW,
    NO_ACTIVE_WORKFLOW,
    NO_ELIGIBLE_APPROVER,
    NOT_PENDING,
    NOTHING_TO_SUBMIT,
    AlreadyDecided,
    NotSubmittable,
    PermissionRefused,
    WorkflowError,
)
from ..models import (
    AuditAction,
    AuditEntry,
    CallbackVerification,
    ChangeProposal,
    EscalationAction,
    ProposalState,
    ProposedChange,
    Source,
    Workflow,
    WorkflowStep,
    WorkItem,
    WorkItemState,
)
from ..selectors import Conflict, applicability_of
from ..selectors_facts import callback_facts, candidate_facts, proposal_facts
from ..text import clean_comment
from .common import (
    field_audit,
    lock_proposal,
    lock_record,
    record_status_write,
    require_action,
    work_items_build,
    write_fields,
)
from .tallies import proposals_tallied

if TYPE_CHECKING:
    # django-stubs reads AUTH_USER_MODEL into this alias.
    from django.contrib.auth.models import _User as User

logger = logging.getLogger(__name__)


# What submitting sets on a proposal.
SUBMISSION_FIELDS = (
    "state",
    "submitted_by",
    "submitted_at",
    "workflow",
    "current_step",
    "submission_round",
    "justification",
)


def _system_audit(
    proposal: ChangeProposal,
    action: AuditAction,
    comment: str | SystemComment | Translated,
) -> AuditEntry:
    return audit_for_proposal(
        proposal=proposal,
        action=action,
        actor=None,
        source=Source.SYSTEM,
        comment=comment,
    )


# --- Submit ----------------------------------------------------------------------


def active_workflow_required(model: type[models.Model]) -> Workflow:
    """The workflow proposals of `model` go to now; refuses when none is active."""
    workflow = selectors.active_workflow_for(model)
    if workflow is None:
        raise NotSubmittable(
            NO_ACTIVE_WORKFLOW
            % {
                "model": model._meta.verbose_name_plural,
                "workflows": registry.get(model).labels.workflows,
            }
        )
    return workflow


def proposal_submit(
    *,
    proposal: ChangeProposal,
    actor: User,
    source: Source | None = None,
    justification: str | None = None,
) -> ChangeProposal:
    """Send a draft, or a proposal sent back for changes, to the active workflow.

    The proposal is pinned to the workflow version active now. Automatic approval
    rules may approve it at once; otherwise the first step whose condition holds gets
    its work items and the steps before it are recorded as skipped. `source` is where
    the submission comes from (by default, where the proposal came from).

    `justification` says why the changes are needed (None keeps the one the proposal
    has, from an earlier round); a workflow may require one. Approvers read it, and
    the History keeps it with the submission.
    """
    if justification is not None:
        justification = clean_comment(justification)
    with transaction.atomic():
        record = lock_record(proposal)
        proposal = lock_proposal(proposal)
        require_action(Action.SUBMIT, proposal, actor)
        if not proposal.changes.exists():
            raise NotSubmittable(NOTHING_TO_SUBMIT)
        model = registry.model_of(proposal.content_type)
        workflow = active_workflow_required(model)
        steps = list(workflow.steps.all())
        if not steps:
            raise NotSubmittable(EMPTY_WORKFLOW % {"workflow": workflow.name})
        if justification is None:
            justification = proposal.justification
        refusal = justification_refusal(
            required=workflow.justification_required, justification=justification
        )
        if refusal is not None:
            raise refusal.error()
        # A proposal recalled to its draft was submitted before: this is a new round.
        resubmission = proposal.submission_round > 0
        proposal.submit(by=actor, workflow=workflow, justification=justification)
        proposal.save(update_fields=SUBMISSION_FIELDS)
        proposals_tallied([proposal])
        # Written at once: who submitted is a fact the assignment below reads.
        audit_write(
            [
                audit_for_proposal(
                    proposal=proposal,
                    action=AuditAction.RESUBMITTED
                    if resubmission
                    else AuditAction.SUBMITTED,
                    actor=actor,
                    source=source or proposal.source,
                    comment=partial(submitted_text, workflow, justification),
                ),
                *_creation_submitted(proposal, record, actor, source),
            ]
        )
        changes = selectors.change_map(proposal)
        automatic = routing.automatic_approval(
            list(workflow.auto_approval_rules.all()), changes
        )
        if automatic:
            text = selectors.auto_approval_text(workflow, automatic)
            entries: list[AuditEntry] = [
                _system_audit(
                    proposal,
                    AuditAction.AUTO_APPROVED,
                    lambda: _("No approval needed: %(rule)s.") % {"rule": text},
                )
            ]
            entries += _apply(proposal, actor=None)
        else:
            entries = _start_next_step(
                proposal, steps=steps, after_sequence=0, actor=actor
            )
        audit_write(entries)
    return proposal


def _creation_submitted(
    proposal: ChangeProposal,
    record: models.Model | None,
    actor: User,
    source: Source | None,
) -> list[AuditEntry]:
    """A rejected record whose creation is submitted again awaits approval again."""
    if not proposal.creates_record or record is None:
        return []
    if getattr(record, STATUS_FIELD) == creation.AFTER_SUBMISSION:
        return []
    return [
        record_status_write(
            instance=record,
            status=creation.AFTER_SUBMISSION,
            action=AuditAction.RECORD_AWAITING,
            proposal=proposal,
            actor=actor,
            source=source or proposal.source,
        )
    ]


def submitted_text(workflow: Workflow, justification: str) -> str:
    """The History's note of a submission: where it went, and why (as the submitter
    wrote it, in no language of its own)."""
    if not justification:
        return _("Sent to %(workflow)s.") % {"workflow": workflow}
    return _("Sent to %(workflow)s. Justification: %(justification)s") % {
        "workflow": workflow,
        "justification": justification,
    }


def _start_next_step(
    proposal: ChangeProposal,
    *,
    steps: list[WorkflowStep],
    after_sequence: int,
    actor: User | None,
) -> list[AuditEntry]:
    """Open the next step whose condition holds; with none left, apply the changes."""
    route = routing.next_step(steps, after_sequence, selectors.change_map(proposal))
    governed = registry.governed_of(proposal.content_type)
    entries = [
        _system_audit(
            proposal,
            AuditAction.STEP_SKIPPED,
            partial(skipped_step_text, step, governed),
        )
        for step in route.skipped
    ]
    step = route.step
    if step is None:
        return entries + _apply(proposal, actor=actor)
    assignees = _eligible_assignees(step, proposal)
    if not assignees:
        raise NotSubmittable(NO_ELIGIBLE_APPROVER % {"step": step.name})
    proposal.advance(next_step=step)
    proposal.save(update_fields=["state", "current_step"])
    entries.append(
        _assign(
            proposal,
            step,
            assignees,
            action=AuditAction.STEP_STARTED,
            comment=lambda: (
                _("Step “%(step)s” assigned to %(users)s.")
                % {"step": step, "users": _usernames(assignees)}
            ),
            event=notifications.ASSIGNED,
        )
    )
    return entries


def _eligible_assignees(step: WorkflowStep, proposal: ChangeProposal) -> list[User]:
    record = (
        registry.model_of(proposal.content_type)
        ._default_manager.filter(pk=proposal.object_id)
        .first()
    )
    return _eligible(proposal, selectors.step_assignees(step, record), step)


def _eligible(
    proposal: ChangeProposal, users: list[User], step: WorkflowStep
) -> list[User]:
    """The users a work item of `step` may go to, as the core decides."""
    allowed = {
        c.user_id
        for c in eligible(
            proposal_facts(proposal), candidate_facts(users), step.sequence
        )
    }
    return [u for u in users if u.pk in allowed]


def _assign(
    proposal: ChangeProposal,
    step: WorkflowStep,
    users: list[User],
    *,
    action: AuditAction,
    comment: SystemComment,
    event: str,
) -> AuditEntry:
    """Give each of `users` a work item at `step` and mail them; returns the audit row
    that says so, for the caller to write with its others."""
    _open_work_items(proposal, step, users)
    notifications.notify(event=event, proposal=proposal, recipients=users)
    return _system_audit(proposal, action, comment)


def _usernames(users: Iterable[User]) -> str:
    return ", ".join(u.get_username() for u in users)


def _open_work_items(
    proposal: ChangeProposal, step: WorkflowStep, assignees: list[User]
) -> None:
    WorkItem.objects.bulk_create(work_items_build(proposal, step, assignees))


# --- Decide ----------------------------------------------------------------------


def _lock_for_decision(
    proposal: ChangeProposal, actor: User, action: Action
) -> tuple[ChangeProposal, WorkItem]:
    """Lock the proposal, ask the core whether `actor` may take `action`, and return
    their open work item of the current step."""
    lock_record(proposal)
    proposal = lock_proposal(proposal)
    require_action(action, proposal, actor)
    work_item = (
        WorkItem.objects.select_for_update()
        .filter(
            proposal=proposal,
            step=proposal.current_step,
            assignee=actor,
            submission_round=proposal.submission_round,
            state=WorkItemState.OPEN,
        )
        .first()
    )
    # require_action refuses anyone without an open work item of the current step.
    assert work_item is not None
    return proposal, work_item


def proposal_approve(
    *,
    proposal: ChangeProposal,
    actor: User,
    comment: str = "",
    source: Source = Source.BROWSER,
) -> ChangeProposal:
    """Approve the current step as `actor`; the step's policy decides when it is done."""
    comment = clean_comment(comment)
    with transaction.atomic():
        proposal, entry = _vote(
            proposal, actor, Action.APPROVE, comment.strip(), source
        )
        audit_write([entry, *_after_decision(proposal, actor)])
    return proposal


def proposal_reject(
    *,
    proposal: ChangeProposal,
    actor: User,
    comment: str,
    source: Source = Source.BROWSER,
) -> ChangeProposal:
    """Reject as `actor`. A comment is required; the record is left untouched."""
    comment = clean_comment(comment)
    if not comment:
        raise NotSubmittable(COMMENT_REQUIRED_TO_REJECT)
    with transaction.atomic():
        proposal, entry = _vote(proposal, actor, Action.REJECT, comment, source)
        audit_write([entry, *_after_decision(proposal, actor, comment=comment)])
    return proposal


# The transition of the actor's work item, and the audit action, of each decision.
_VOTES = {
    Action.APPROVE: ("approve", AuditAction.APPROVED),
    Action.REJECT: ("reject", AuditAction.REJECTED),
    Action.REQUEST_CHANGE: ("send_back", AuditAction.CHANGE_REQUESTED),
}


def _vote(
    proposal: ChangeProposal,
    actor: User,
    action: Action,
    comment: str,
    source: Source,
) -> tuple[ChangeProposal, AuditEntry]:
    """Record `actor`'s decision on their work item, if the core lets them; returns the
    locked proposal and the decision's audit row."""
    proposal, work_item = _lock_for_decision(proposal, actor, action)
    if action == Action.APPROVE and proposal.current_step is not None:
        refusal = decision_kind_refusal(proposal.current_step.kind, with_call=False)
        if refusal is not None:
            raise refusal.error()
    return proposal, _record_vote(proposal, work_item, actor, action, comment, source)


def _record_vote(
    proposal: ChangeProposal,
    work_item: WorkItem,
    actor: User,
    action: Action,
    comment: str | Translated,
    source: Source,
) -> AuditEntry:
    transition, audit_action = _VOTES[action]
    text = comment.text if isinstance(comment, Translated) else comment
    getattr(work_item, transition)(comment=text)
    work_item.save(update_fields=["state", "comment", "decided_at"])
    return audit_for_proposal(
        proposal=proposal,
        action=audit_action,
        actor=actor,
        comment=comment,
        source=source,
    )


def proposal_callback(
    *,
    proposal: ChangeProposal,
    actor: User,
    phone: str,
    person: str,
    outcome: str,
    comment: str = "",
    source: Source = Source.BROWSER,
) -> ChangeProposal:
    """Record the call-back of a call-back verification step as `actor`: the number
    called (one the record had before the change), the person reached and the
    outcome. A confirmed call approves the step, a failed one rejects the proposal;
    the evidence is kept with the decision and in the audit trail."""
    comment = clean_comment(comment)
    evidence = CallbackEvidence(
        phone=(phone or "").strip(),
        person=clean_comment(person or "")[:200],
        outcome=(outcome or "").strip(),
    )
    action = (
        Action.APPROVE
        if evidence.outcome == CallbackOutcome.CONFIRMED
        else Action.REJECT
    )
    with transaction.atomic():
        proposal, work_item = _lock_for_decision(proposal, actor, action)
        refusal = callback_refusal(callback_facts(proposal), evidence)
        if refusal is not None:
            raise refusal.error()
        CallbackVerification.objects.create(
            proposal=proposal,
            work_item=work_item,
            submission_round=proposal.submission_round,
            verifier=actor,
            phone_called=evidence.phone,
            person_reached=evidence.person,
            outcome=evidence.outcome,
        )
        text = in_every_language(partial(callback_text, evidence, comment))
        entry = _record_vote(proposal, work_item, actor, action, text, source)
        audit_write([entry, *_after_decision(proposal, actor, comment=text.text)])
    return proposal


def callback_text(evidence: CallbackEvidence, comment: str) -> str:
    """The evidence of a call-back as the History, the reports and their exports
    show it, with the verifier's own comment."""
    if evidence.outcome == CallbackOutcome.CONFIRMED:
        text = _("Call-back to %(phone)s, reached %(person)s: confirmed.")
    else:
        text = _("Call-back to %(phone)s, reached %(person)s: failed.")
    text = text % {"phone": evidence.phone, "person": evidence.person}
    return f"{text} {comment}" if comment else text


def _after_decision(
    proposal: ChangeProposal, actor: User, comment: str = ""
) -> list[AuditEntry]:
    """The step's outcome once a decision is recorded; `comment` is the decision's,
    passed on to the submitter when it ends the proposal."""
    step = proposal.current_step
    outcome = step_votes_outcome(proposal)
    if outcome == completion.APPROVED:
        # A proposal being decided is pending, so it has its workflow and a step.
        assert step is not None and proposal.workflow is not None
        _close_open_items(proposal)
        return _start_next_step(
            proposal,
            steps=list(proposal.workflow.steps.all()),
            after_sequence=step.sequence,
            actor=actor,
        )
    if outcome == completion.REJECTED:
        _close_open_items(proposal)
        proposal.reject()
        proposal.save(update_fields=["state", "closed_at"])
        proposals_tallied([proposal])
        notifications.notify_submitter(
            event=notifications.REJECTED, proposal=proposal, comment=comment
        )
        return _creation_rejected(proposal)
    return []


def step_votes_outcome(proposal: ChangeProposal) -> str | None:
    """Whether the current step is decided, by its completion policy, from its items."""
    step = proposal.current_step
    states = list(
        WorkItem.objects.filter(
            proposal=proposal,
            step=step,
            submission_round=proposal.submission_round,
            state__in=lifecycle.VOTES,
        ).values_list("state", flat=True)
    )
    # Only a pending proposal, which has a step, is asked about its votes.
    assert step is not None
    return completion.step_outcome(
        step.completion_policy, step.approval_percentage, states
    )


def _close_open_items(proposal: ChangeProposal) -> list[int]:
    """Close the proposal's open work items; returns their assignees' ids."""
    closed = []
    for item in WorkItem.objects.select_for_update().filter(
        proposal=proposal, state=WorkItemState.OPEN
    ):
        item.close()
        item.save(update_fields=["state", "decided_at"])
        closed.append(item.assignee_id)
    return closed


# --- Send back, recall, hand over --------------------------------------------------


def proposal_request_change(
    *,
    proposal: ChangeProposal,
    actor: User,
    comment: str,
    source: Source = Source.BROWSER,
) -> ChangeProposal:
    """Send the proposal back to its submitter, who edits and resubmits it."""
    comment = clean_comment(comment)
    if not comment:
        raise NotSubmittable(COMMENT_REQUIRED)
    with transaction.atomic():
        proposal, entry = _vote(proposal, actor, Action.REQUEST_CHANGE, comment, source)
        _close_open_items(proposal)
        proposal.request_change()
        proposal.save(update_fields=["state", "current_step"])
        proposals_tallied([proposal])
        audit_write([entry])
        notifications.notify_submitter(
            event=notifications.SENT_BACK, proposal=proposal, comment=comment
        )
    return proposal


def proposal_recall(
    *,
    proposal: ChangeProposal,
    actor: User,
    comment: str = "",
    source: Source = Source.BROWSER,
) -> ChangeProposal:
    """The submitter takes a pending proposal back: it returns to them as a draft with
    its values, to change and submit again (or discard). The approvers who had it are
    told; nothing is written to the record."""
    comment = clean_comment(comment)
    with transaction.atomic():
        lock_record(proposal)
        proposal = lock_proposal(proposal)
        require_action(Action.RECALL, proposal, actor)
        holders = _close_open_items(proposal)
        proposal.recall()
        proposal.save(update_fields=["state", "current_step"])
        proposals_tallied([proposal])
        audit_write(
            [
                audit_for_proposal(
                    proposal=proposal,
                    action=AuditAction.RECALLED,
                    actor=actor,
                    comment=comment.strip(),
                    source=source,
                )
            ]
        )
        notifications.notify(
            event=notifications.RECALLED,
            proposal=proposal,
            recipients=selectors.users_by_ids(holders),
            comment=comment,
        )
    return proposal


def work_item_delegate(
    *,
    proposal: ChangeProposal,
    actor: User,
    to_user: User,
    comment: str = "",
    source: Source = Source.BROWSER,
) -> WorkItem:
    """Hand the actor's work item on this proposal to another user, who then holds it."""
    comment = clean_comment(comment)
    with transaction.atomic():
        proposal, work_item = _lock_for_decision(proposal, actor, Action.DELEGATE)
        return _hand_over(
            proposal,
            work_item,
            actor,
            to_user,
            comment,
            AuditAction.DELEGATED,
            work_item.delegate,
            source,
        )


def work_item_reassign(
    *,
    work_item: WorkItem,
    actor: User,
    to_user: User,
    comment: str = "",
    source: Source = Source.BROWSER,
) -> WorkItem:
    """An approval administrator moves someone's open work item to another user."""
    comment = clean_comment(comment)
    with transaction.atomic():
        lock_record(work_item.proposal)
        proposal = lock_proposal(work_item.proposal)
        require_action(Action.REASSIGN, proposal, actor)
        work_item = WorkItem.objects.select_for_update().get(pk=work_item.pk)
        if work_item.state != WorkItemState.OPEN:
            raise AlreadyDecided(NOT_PENDING % {"state": work_item.get_state_display()})
        return _hand_over(
            proposal,
            work_item,
            actor,
            to_user,
            comment,
            AuditAction.REASSIGNED,
            work_item.reassign,
            source,
        )


class _Handover(Protocol):
    def __call__(self, *, to: User, comment: str) -> None: ...


def _hand_over(
    proposal: ChangeProposal,
    work_item: WorkItem,
    actor: User,
    to_user: User,
    comment: str,
    action: AuditAction,
    transition: _Handover,
    source: Source,
) -> WorkItem:
    refusal = handover_refusal(
        proposal_facts(proposal),
        candidate_facts([to_user])[0],
        work_item.step.sequence,
    )
    if refusal is not None:
        raise PermissionRefused(str(refusal))
    transition(to=to_user, comment=comment.strip())
    work_item.save(update_fields=["state", "handed_over_to", "comment", "decided_at"])
    (new_item,) = work_items_build(
        proposal, work_item.step, [to_user], due_at=work_item.due_at
    )
    new_item.save()
    audit_write(
        [
            audit_for_proposal(
                proposal=proposal,
                action=action,
                actor=actor,
                comment=comment.strip(),
                source=source,
                old_display=work_item.assignee.get_username(),
                new_display=to_user.get_username(),
            )
        ]
    )
    notifications.notify(
        event=notifications.ASSIGNED, proposal=proposal, recipients=[to_user]
    )
    return new_item


# --- Escalation --------------------------------------------------------------------


def work_items_escalate_overdue(*, now: datetime.datetime | None = None) -> int:
    """Act on every work item past its step's time limit; return how many steps escalated.

    Each proposal is handled in its own transaction, so one failure stops nothing else.
    """
    now = now or timezone.now()
    proposal_ids = list(
        WorkItem.objects.filter(
            state=WorkItemState.OPEN,
            due_at__lt=now,
            proposal__state=ProposalState.PENDING,
        )
        .exclude(step__escalation_action=EscalationAction.NONE)
        .values_list("proposal_id", flat=True)
        .distinct()
    )
    escalated = 0
    for proposal_id in proposal_ids:
        try:
            with transaction.atomic():
                if _escalate_proposal(ChangeProposal.objects.get(pk=proposal_id), now):
                    escalated += 1
        except WorkflowError as error:
            # The proposal stays overdue and visible; the others still escalate.
            logger.warning(
                "Escalation of proposal %s failed: %s", proposal_id, error.message
            )
    return escalated


def _escalate_proposal(proposal: ChangeProposal, now: datetime.datetime) -> bool:
    lock_record(proposal)
    proposal = lock_proposal(proposal)
    if proposal.state != ProposalState.PENDING:
        return False
    step = proposal.current_step
    overdue = list(
        WorkItem.objects.select_for_update().filter(
            proposal=proposal,
            step=step,
            state=WorkItemState.OPEN,
            due_at__lt=now,
            submission_round=proposal.submission_round,
        )
    )
    if not overdue:
        return False
    # Its overdue work items are of this step, so there is one.
    assert step is not None and proposal.workflow is not None
    if step.escalation_action == EscalationAction.REASSIGN:
        targets = _eligible(proposal, selectors.escalation_targets(step), step)
        if not targets:
            return False
        for item in overdue:
            item.escalate()
            item.save(update_fields=["state", "decided_at"])
        audit_write(
            [
                _assign(
                    proposal,
                    step,
                    targets,
                    action=AuditAction.ESCALATED,
                    comment=lambda: (
                        _(
                            "The time limit of %(limit)s passed; reassigned to %(users)s."
                        )
                        % {
                            "limit": step.time_limit_text(),
                            "users": _usernames(targets),
                        }
                    ),
                    event=notifications.ESCALATED,
                )
            ]
        )
        return True
    for item in overdue:
        item.escalate()
        item.save(update_fields=["state", "decided_at"])
    _close_open_items(proposal)
    if step.escalation_action == EscalationAction.APPROVE:
        entries = [
            _system_audit(
                proposal,
                AuditAction.ESCALATED,
                lambda: (
                    _(
                        "The time limit of %(limit)s passed; step “%(step)s” approved by the system."
                    )
                    % {"limit": step.time_limit_text(), "step": step}
                ),
            )
        ]
        entries += _start_next_step(
            proposal,
            steps=list(proposal.workflow.steps.all()),
            after_sequence=step.sequence,
            actor=None,
        )
    else:
        proposal.reject()
        proposal.save(update_fields=["state", "closed_at"])
        proposals_tallied([proposal])
        reason = in_every_language(
            lambda: (
                _("The time limit of %(limit)s passed; rejected by the system.")
                % {"limit": step.time_limit_text()}
            )
        )
        entries = [_system_audit(proposal, AuditAction.ESCALATED, reason)]
        entries += _creation_rejected(proposal)
        notifications.notify_submitter(
            event=notifications.REJECTED, proposal=proposal, comment=reason.text
        )
    audit_write(entries)
    return True


# --- Apply -------------------------------------------------------------------------


def _apply(proposal: ChangeProposal, actor: User | None) -> list[AuditEntry]:
    """Write all proposed values at once, or nothing if they no longer apply."""
    model = registry.model_of(proposal.content_type)
    instance = model._default_manager.select_for_update().get(pk=proposal.object_id)
    found = applicability_of(
        instance, list(proposal.changes.all()), creating=proposal.creates_record
    )
    if not found.applies:
        return _conflict(proposal, actor, found.moved, found.reason)
    write_fields(
        instance=instance,
        values=found.values,
        actor=actor,
        source=proposal.source,
        proposal=proposal,
        comment=lambda: _("Applied from proposal %(id)s.") % {"id": proposal.pk},
        record_status=creation.AFTER_APPROVAL if proposal.creates_record else None,
    )
    proposal.apply()
    proposal.save(update_fields=["state", "closed_at"])
    proposals_tallied([proposal])
    notifications.notify_submitter(event=notifications.APPLIED, proposal=proposal)
    entries = [_system_audit(proposal, AuditAction.APPLIED, "")]
    if proposal.creates_record:
        entries.append(activated_entry(proposal))
    return entries


def activated_entry(proposal: ChangeProposal) -> AuditEntry:
    """The audit row of a record made active by the approval of its creation."""
    return _system_audit(
        proposal,
        AuditAction.RECORD_ACTIVATED,
        lambda: _("Its creation was approved: the record is active."),
    )


def _creation_rejected(proposal: ChangeProposal) -> list[AuditEntry]:
    """A rejected creation proposal leaves its record rejected, not active."""
    if not proposal.creates_record:
        return []
    record = lock_record(proposal)
    if record is None:
        return []
    return [
        record_status_write(
            instance=record,
            status=creation.AFTER_REJECTION,
            action=AuditAction.RECORD_REJECTED,
            proposal=proposal,
            actor=None,
            source=Source.SYSTEM,
            comment=lambda: _(
                "Its creation was rejected: the record is not active. Edit it and "
                "submit it again, or delete it."
            ),
        )
    ]


def _conflict(
    proposal: ChangeProposal,
    actor: User | None,
    conflicts: list[Conflict],
    reason: str,
) -> list[AuditEntry]:
    proposal.mark_conflict()
    proposal.save(update_fields=["state", "closed_at"])
    proposals_tallied([proposal])
    notifications.notify_submitter(event=notifications.CONFLICT, proposal=proposal)
    return conflict_entries(proposal, actor, conflicts, reason)


def conflict_entries(
    proposal: ChangeProposal,
    actor: User | None,
    conflicts: list[Conflict],
    reason: str,
) -> list[AuditEntry]:
    """The audit rows of a proposal that ended in Conflict: one per moved value, and why."""
    entries = []
    for change, model_field, now in conflicts:

        def reason_of_field(
            change: ProposedChange = change,
            model_field: models.Field = model_field,
            now: object = now,
        ) -> str:
            return APPLY_CONFLICT % {
                "original": registry.display_value(model_field, change.original_value),
                "current": registry.display_value(model_field, now),
            }

        entries.append(
            field_audit(
                proposal,
                AuditAction.CONFLICT,
                actor,
                model_field,
                change.original_value,
                now,
                source=Source.SYSTEM,
                comment=reason_of_field,
            )
        )
    if reason:
        entries.append(_system_audit(proposal, AuditAction.CONFLICT, reason))
    return entries
