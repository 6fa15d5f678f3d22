"""Whatever the order of decisions, and whoever among the people involved makes them,
a proposal applies at most once, and never on the vote of anyone who took part in it
or of one person at two steps.

Each example builds its own people (some clerks who also approve), a workflow of one to
three steps with random completion policies and conditions, a draft that one or two
clerks propose into, and a random run of approvals, rejections, requests for change,
delegations, edits and (re)submissions through the services, each of which may be
refused. Then the database is read for what the rules forbid.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from customers.management.commands.seed_demo import (
    APPROVAL_ADMINISTRATORS,
    APPROVERS,
    CLERKS,
)
from customers.models import Customer
from tests.conftest import GOVERNED_FIELDS, _group, make_workflow, member, propose
from tests.factories import CustomerFactory
from workflow import registry, services
from workflow.core.conditions import ConditionKind
from workflow.exceptions import WorkflowError
from workflow.models import (
    AuditAction,
    ChangeProposal,
    CompletionPolicy,
    DataEntityBehavior,
    ProposalState,
    WorkItemState,
)

ORIGINAL_LIMIT = Decimal("10000.00")
ORIGINAL_IBAN = "NL91ABNA0417164300"
NEW_IBAN = "DE89370400440532013000"
EDITABLE = (ProposalState.DRAFT, ProposalState.CHANGES_REQUESTED)
DECIDING = (WorkItemState.APPROVED, WorkItemState.REJECTED, WorkItemState.SENT_BACK)


@st.composite
def scenarios(draw):
    count = draw(st.integers(min_value=3, max_value=5))
    # (clerk, approver) per person: person 0 is a clerk, so somebody proposes, and the
    # last one only approves, so that every step has someone who may decide it.
    roles = (
        [(True, draw(st.booleans()))]
        + draw(
            st.lists(
                st.sampled_from(
                    [(True, True), (True, True), (True, False), (False, True)]
                ),
                min_size=count - 2,
                max_size=count - 2,
            )
        )
        + [(False, True)]
    )
    clerks = [i for i, (clerk, _) in enumerate(roles) if clerk]
    approvers_only = [i for i, role in enumerate(roles) if role == (False, True)]
    people = st.integers(min_value=0, max_value=count - 1)
    step = st.fixed_dictionaries(
        {
            "users": st.tuples(
                st.lists(people, min_size=count // 2, max_size=count, unique=True),
                st.sampled_from(approvers_only),
            ).map(lambda found: sorted({*found[0], found[1]})),
            "policy": st.sampled_from(CompletionPolicy.values),
            "percentage": st.integers(min_value=1, max_value=100),
            "bank_only": st.sampled_from([False, False, False, True]),
        }
    )
    return {
        "roles": roles,
        "proposers": draw(st.permutations(clerks))[: draw(st.sampled_from([2, 2, 1]))],
        "submitter": draw(st.sampled_from(clerks)),
        "steps": draw(st.lists(step, min_size=1, max_size=3)),
        "actions": draw(
            st.lists(
                st.tuples(
                    people,
                    st.sampled_from(
                        [
                            "approve",
                            "approve",
                            "approve",
                            "reject",
                            "request_change",
                            "delegate",
                            "propose",
                            "submit",
                        ]
                    ),
                    people,
                ),
                min_size=6,
                max_size=16,
            )
        ),
    }


class Run:
    """One example: the people, the customer, the draft, and who took part in it by
    this test's own count (not the engine's)."""

    def __init__(self, scenario):
        groups = {name: _group(name) for name in (CLERKS, APPROVERS)}
        self.admin = member("admin", _group(APPROVAL_ADMINISTRATORS))
        self.people = []
        for i, (clerk, approver) in enumerate(scenario["roles"]):
            user = member(f"person{i}", groups[CLERKS if clerk else APPROVERS])
            if clerk and approver:
                user.groups.add(groups[APPROVERS])
            self.people.append(user)
        services.approval_settings_update(
            model=Customer,
            approvals_enabled=True,
            data_entity_behavior=DataEntityBehavior.PROPOSE,
            enabled_fields=GOVERNED_FIELDS,
            actor=self.admin,
        )
        make_workflow(
            self.admin,
            *[
                {
                    "users": [self.people[i] for i in step["users"]],
                    "completion_policy": step["policy"],
                    "approval_percentage": step["percentage"]
                    if step["policy"] == CompletionPolicy.PERCENTAGE
                    else None,
                    **(
                        {
                            "condition_kind": ConditionKind.CHANGES,
                            "condition_field": "bank_account",
                        }
                        if step["bank_only"]
                        else {}
                    ),
                }
                for step in scenario["steps"]
            ],
        )
        self.customer = CustomerFactory(
            account="C00001", credit_limit=ORIGINAL_LIMIT, bank_account=ORIGINAL_IBAN
        )
        self.took_part: set[int] = set()
        self.limits = 0
        self.proposal = None
        for n, i in enumerate(scenario["proposers"]):
            values = (
                {"bank_account": NEW_IBAN} if n == 1 else {"credit_limit": self.limit()}
            )
            self.proposal = propose(self.customer, self.people[i], **values)
            self.took_part.add(self.people[i].pk)

    def limit(self) -> Decimal:
        """A credit limit never proposed before, so every edit is a real change."""
        self.limits += 1
        return ORIGINAL_LIMIT + 1000 * self.limits

    def act(self, actor_index: int, action: str, target_index: int) -> None:
        actor = self.people[actor_index]
        proposal = ChangeProposal.objects.get(pk=self.proposal.pk)
        comment = "Because."
        try:
            if action == "approve":
                services.proposal_approve(proposal=proposal, actor=actor)
            elif action == "reject":
                services.proposal_reject(
                    proposal=proposal, actor=actor, comment=comment
                )
            elif action == "request_change":
                services.proposal_request_change(
                    proposal=proposal, actor=actor, comment=comment
                )
            elif action == "delegate":
                services.work_item_delegate(
                    proposal=proposal, actor=actor, to_user=self.people[target_index]
                )
            elif action == "submit":
                services.proposal_submit(proposal=proposal, actor=actor)
                self.took_part.add(actor.pk)
            elif action == "propose" and proposal.state in EDITABLE:
                # Only into this draft: once it is closed, an edit starts another.
                found = propose(self.customer, actor, credit_limit=self.limit())
                assert found.pk == proposal.pk
                self.took_part.add(actor.pk)
            else:
                return
            event(f"done: {action}")
        except (WorkflowError, ValidationError) as refused:
            event(f"refused: {action} ({type(refused).__name__}) {str(refused)[:60]}")


class DecisionPropertiesTest(TestCase):
    @settings(
        max_examples=50,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(scenario=scenarios())
    def test_applies_at_most_once_and_never_on_a_forbidden_vote(self, scenario):
        run = Run(scenario)
        run.act(scenario["submitter"], "submit", 0)
        for actor_index, action, target_index in scenario["actions"]:
            run.act(actor_index, action, target_index)

        proposal = ChangeProposal.objects.get(pk=run.proposal.pk)
        event(f"ended {proposal.state} in round {proposal.submission_round}")
        applied = proposal.audit_entries.filter(action=AuditAction.APPLIED).count()
        self.assertLessEqual(applied, 1)
        self.assertEqual(applied == 1, proposal.state == ProposalState.APPLIED)
        written = list(
            proposal.audit_entries.filter(action=AuditAction.FIELD_CHANGED).values_list(
                "field_name", flat=True
            )
        )
        self.assertEqual(len(written), len(set(written)))
        customer = Customer.objects.get(pk=run.customer.pk)
        if applied:
            proposed = {c.field_name: c.proposed_value for c in proposal.changes.all()}
            self.assertEqual(sorted(written), sorted(proposed))
            for name, value in proposed.items():
                field = Customer._meta.get_field(name)
                self.assertTrue(
                    registry.values_equal(
                        field, registry.current_value(customer, field), value
                    )
                )
        else:
            self.assertEqual(written, [])
            self.assertEqual(
                (customer.credit_limit, customer.bank_account),
                (ORIGINAL_LIMIT, ORIGINAL_IBAN),
            )

        votes = proposal.audit_entries.filter(
            action__in=[
                AuditAction.APPROVED,
                AuditAction.REJECTED,
                AuditAction.CHANGE_REQUESTED,
            ]
        )
        voters = set(votes.values_list("actor_id", flat=True))
        self.assertEqual(voters & run.took_part, set())
        approved_items = proposal.work_items.filter(state=WorkItemState.APPROVED)
        self.assertEqual(
            set(approved_items.values_list("assignee_id", flat=True)) & run.took_part,
            set(),
        )
        steps_decided: dict[int, set[int]] = {}
        for assignee_id, sequence in proposal.work_items.filter(
            state__in=DECIDING
        ).values_list("assignee_id", "step__sequence"):
            steps_decided.setdefault(assignee_id, set()).add(sequence)
        self.assertEqual(
            {user for user, sequences in steps_decided.items() if len(sequences) > 1},
            set(),
        )
