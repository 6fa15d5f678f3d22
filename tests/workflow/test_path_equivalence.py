"""One table of scenarios, run through every path: the outcome is the same whichever
way the change arrives (the customer page, the Import page's engine, a scripted
django-import-export `import_data`, the REST API) and whichever way it is decided (one
at a time, by bulk approve, or through the API). A new path joins the table by adding
a runner below."""

from __future__ import annotations

import dataclasses
from collections import Counter
from decimal import Decimal

import pytest
import tablib
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from customers.models import Customer, PaymentTerms
from customers.resources import CustomerResource
from customers.services import customer_update
from tests.api.conftest import token_client
from tests.conftest import GOVERNED_FIELDS, make_workflow, member, store_around_approval
from tests.factories import CustomerFactory, PaymentTermsFactory
from workflow import services
from workflow.core.conditions import ConditionKind
from workflow.exceptions import (
    ALREADY_DECIDED_STEP,
    HANDOVER_TO_EARLIER_APPROVER,
    HANDOVER_TO_HOLDER,
    HANDOVER_TO_PROPOSER,
    NOT_PENDING,
    ONE_STEP_ONLY,
    OWN_PROPOSAL,
    WorkflowError,
)
from workflow.importing.plan import ImportOptions
from workflow.models import (
    AuditEntry,
    AutoApprovalRule,
    ChangeProposal,
    DataEntityBehavior,
    ProposalState,
    WorkItem,
    WorkItemState,
)

OK = "ok"
TRIO = ["approver", "approver2", "approver3"]
APPROVERS, MANAGERS, CLERKS = "Approvers", "Finance managers", "Clerks"
INVALID_EMAIL = "Enter a valid email address."


@dataclasses.dataclass
class Scenario:
    name: str
    change: dict[str, str]
    events: list[tuple] = dataclasses.field(default_factory=list)
    expect: list[str] = dataclasses.field(default_factory=list)
    steps: list[dict] = dataclasses.field(
        default_factory=lambda: [{"group": APPROVERS}]
    )
    enabled: list[str] = dataclasses.field(default_factory=lambda: GOVERNED_FIELDS)
    auto_rules: list[tuple] = dataclasses.field(default_factory=list)
    proposer: str = "maker"
    before: dict[str, str] = dataclasses.field(default_factory=dict)
    submission: str = OK
    final_state: str | None = ProposalState.APPLIED
    final_values: dict[str, str] = dataclasses.field(default_factory=dict)


def refusal(message, **values) -> str:
    return str(message % values) if values else str(message)


SCENARIOS = [
    Scenario(
        "an approver approves",
        change={"credit_limit": "25000.00"},
        events=[("approve", "approver")],
        expect=[OK],
        final_values={"credit_limit": "25000.00"},
    ),
    Scenario(
        "the proposer who is an approver too is refused",
        change={"credit_limit": "25000.00"},
        events=[("approve", "maker"), ("reject", "maker"), ("approve", "approver")],
        expect=[refusal(OWN_PROPOSAL), refusal(OWN_PROPOSAL), OK],
        final_values={"credit_limit": "25000.00"},
    ),
    Scenario(
        "after someone else resubmits, nobody who took part in any round decides",
        change={"credit_limit": "25000.00"},
        events=[
            ("request_change", "approver"),
            ("resubmit", "checker", {"credit_limit": "30000.00"}),
            ("approve", "maker"),
            ("approve", "checker"),
            ("approve", "approver"),
        ],
        expect=[OK, OK, refusal(OWN_PROPOSAL), refusal(OWN_PROPOSAL), OK],
        final_values={"credit_limit": "30000.00"},
    ),
    Scenario(
        "delegation and reassignment cannot hand the step to anyone who took part",
        change={"credit_limit": "25000.00"},
        events=[
            ("request_change", "approver"),
            ("resubmit", "checker", {"credit_limit": "30000.00"}),
            ("delegate", "approver", "maker"),
            ("reassign", "admin", "approver", "checker"),
            ("delegate", "approver", "approver3"),
            ("delegate", "approver", "manager"),
            ("approve", "manager"),
        ],
        expect=[
            OK,
            OK,
            refusal(HANDOVER_TO_PROPOSER, user="maker"),
            refusal(HANDOVER_TO_PROPOSER, user="checker"),
            refusal(HANDOVER_TO_HOLDER, user="approver3"),
            OK,
            OK,
        ],
        final_values={"credit_limit": "30000.00"},
    ),
    Scenario(
        "joining the approvers after proposing gives no say",
        proposer="clerk",
        change={"credit_limit": "25000.00"},
        events=[("join", "clerk", APPROVERS), ("approve", "clerk")],
        expect=[OK, refusal(OWN_PROPOSAL)],
        final_state=ProposalState.PENDING,
        final_values={"credit_limit": "10000.00"},
    ),
    Scenario(
        "the approver of an earlier step decides no later one",
        steps=[{"group": APPROVERS}, {"group": MANAGERS}],
        change={"credit_limit": "25000.00"},
        events=[
            ("approve", "both"),
            ("approve", "both"),
            ("delegate", "manager", "both"),
            ("approve", "manager"),
        ],
        expect=[
            OK,
            refusal(ONE_STEP_ONLY),
            refusal(HANDOVER_TO_EARLIER_APPROVER, user="both"),
            OK,
        ],
        final_values={"credit_limit": "25000.00"},
    ),
    Scenario(
        "a step whose condition does not hold is skipped",
        steps=[
            {"group": APPROVERS},
            {"group": MANAGERS, "condition": (ConditionKind.CHANGES, "bank_account")},
        ],
        change={"credit_limit": "25000.00"},
        events=[("approve", "approver")],
        expect=[OK],
        final_values={"credit_limit": "25000.00"},
    ),
    Scenario(
        "a step whose condition holds waits for its approver",
        steps=[
            {"group": APPROVERS},
            {"group": MANAGERS, "condition": (ConditionKind.CHANGES, "bank_account")},
        ],
        change={"bank_account": "DE89370400440532013000"},
        events=[("approve", "approver"), ("approve", "manager")],
        expect=[OK, OK],
        final_values={"bank_account": "DE89370400440532013000"},
    ),
    Scenario(
        "50% of three approvers is two",
        steps=[{"users": TRIO, "policy": "percentage", "percentage": 50}],
        proposer="clerk",
        change={"credit_limit": "25000.00"},
        events=[("approve", "approver"), ("approve", "approver2")],
        expect=[OK, OK],
        final_values={"credit_limit": "25000.00"},
    ),
    Scenario(
        "one approval of three at 50% leaves it pending",
        steps=[{"users": TRIO, "policy": "percentage", "percentage": 50}],
        proposer="clerk",
        change={"credit_limit": "25000.00"},
        events=[("approve", "approver")],
        expect=[OK],
        final_state=ProposalState.PENDING,
        final_values={"credit_limit": "10000.00"},
    ),
    Scenario(
        "a majority rejects",
        steps=[{"users": TRIO, "policy": "majority"}],
        proposer="clerk",
        change={"credit_limit": "25000.00"},
        events=[
            ("reject", "approver"),
            ("approve", "approver2"),
            ("reject", "approver3"),
        ],
        expect=[OK, OK, OK],
        final_state=ProposalState.REJECTED,
        final_values={"credit_limit": "10000.00"},
    ),
    Scenario(
        "all approvers: deciding twice is refused",
        steps=[{"group": APPROVERS, "policy": "all"}],
        proposer="clerk",
        change={"credit_limit": "25000.00"},
        events=[("approve", "approver"), ("approve", "approver")],
        expect=[OK, refusal(ALREADY_DECIDED_STEP)],
        final_state=ProposalState.PENDING,
        final_values={"credit_limit": "10000.00"},
    ),
    Scenario(
        "a decrease needs no approval",
        auto_rules=[("credit_limit", ConditionKind.DECREASES, None)],
        change={"credit_limit": "5000.00"},
        final_values={"credit_limit": "5000.00"},
    ),
    Scenario(
        "a value moved by another path ends in conflict",
        change={"credit_limit": "25000.00"},
        events=[("store", {"credit_limit": "77.00"}), ("approve", "approver")],
        expect=[OK, OK],
        final_state=ProposalState.CONFLICT,
        final_values={"credit_limit": "77.00"},
    ),
    Scenario(
        "a stored value that no longer passes refuses the proposal",
        before={"email": "not an e-mail"},
        change={"credit_limit": "25000.00"},
        submission=INVALID_EMAIL,
        final_state=None,
        final_values={"credit_limit": "10000.00"},
    ),
    Scenario(
        "a stored value that stops passing while pending ends in conflict",
        change={"credit_limit": "25000.00"},
        events=[("store", {"email": "not an e-mail"}), ("approve", "approver")],
        expect=[OK, OK],
        final_state=ProposalState.CONFLICT,
        final_values={"credit_limit": "10000.00"},
    ),
    Scenario(
        "a field not under approval is written at once",
        enabled=["bank_account"],
        change={"credit_limit": "25000.00"},
        final_state=None,
        final_values={"credit_limit": "25000.00"},
    ),
    Scenario(
        "a recalled proposal is a draft again and cannot be approved",
        change={"credit_limit": "25000.00"},
        events=[("recall", "maker"), ("approve", "approver")],
        expect=[OK, refusal(NOT_PENDING, state=ProposalState.DRAFT.label)],
        final_state=ProposalState.DRAFT,
        final_values={"credit_limit": "10000.00"},
    ),
    Scenario(
        "a recalled proposal resubmitted is decided by someone who took no part",
        change={"credit_limit": "25000.00"},
        events=[
            ("recall", "maker"),
            ("resubmit", "checker", {"credit_limit": "30000.00"}),
            ("approve", "maker"),
            ("approve", "checker"),
            ("approve", "approver"),
        ],
        expect=[OK, OK, refusal(OWN_PROPOSAL), refusal(OWN_PROPOSAL), OK],
        final_values={"credit_limit": "30000.00"},
    ),
]


# --- The world every scenario starts from ---------------------------------------------


PEOPLE = {
    "clerk": [CLERKS],
    "maker": [CLERKS, APPROVERS],
    "checker": [CLERKS, APPROVERS],
    "approver": [APPROVERS],
    "approver2": [APPROVERS],
    "approver3": [APPROVERS],
    "manager": [MANAGERS],
    "both": [APPROVERS, MANAGERS],
}


def set_up(scenario: Scenario, roles, approval_admin):
    users = {"admin": approval_admin}
    for name, groups in PEOPLE.items():
        users[name] = member(name, roles[groups[0]])
        for group in groups[1:]:
            users[name].groups.add(roles[group])
    services.approval_settings_update(
        model=Customer,
        approvals_enabled=True,
        data_entity_behavior=DataEntityBehavior.PROPOSE,
        enabled_fields=scenario.enabled,
        actor=approval_admin,
    )
    steps = []
    for spec in scenario.steps:
        if "users" in spec:
            step = {"users": [users[name] for name in spec["users"]]}
        else:
            step = {"assigned_group": roles[spec["group"]]}
        if "policy" in spec:
            step["completion_policy"] = spec["policy"]
            step["approval_percentage"] = spec.get("percentage")
        if "condition" in spec:
            step["condition_kind"], step["condition_field"] = spec["condition"]
        steps.append(step)
    workflow = make_workflow(approval_admin, *steps)
    for field_name, kind, value in scenario.auto_rules:
        AutoApprovalRule.objects.create(
            workflow=workflow, field_name=field_name, kind=kind, value=value
        )
    PaymentTermsFactory(code="Net30")
    customer = CustomerFactory(account="C00001", name="Contoso Retail")
    if scenario.before:
        store_around_approval(customer, **scenario.before)
    return users, customer


def python_values(change: dict[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for name, text in change.items():
        if name == "credit_limit":
            values[name] = Decimal(text)
        elif name == "payment_terms":
            values[name] = PaymentTerms.objects.get(code=text)
        else:
            values[name] = text
    return values


def messages_of(error: ValidationError) -> str:
    return " ".join(error.messages)


# --- Submission paths ---------------------------------------------------------------


def submit_in_browser(customer, actor, change, tmp_path) -> str:
    try:
        outcome = customer_update(
            customer_id=customer.pk, values=python_values(change), actor=actor
        )
    except ValidationError as error:
        return messages_of(error)
    if outcome.proposal is not None:
        services.proposal_submit(proposal=outcome.proposal, actor=actor)
    return OK


def submit_by_engine_import(customer, actor, change, tmp_path) -> str:
    path = tmp_path / "change.csv"
    header = ["account", "name", *change]
    row = [customer.account, customer.name, *change.values()]
    path.write_text(";".join(header) + "\n" + ";".join(row) + "\n")
    report = services.governed_records_import(
        model=Customer,
        path=str(path),
        file_name="change.csv",
        options=ImportOptions(behaviour=DataEntityBehavior.PROPOSE),
        actor=actor,
        dry_run=False,
    )
    if report.refused:
        return report.refused
    return " ".join(e["message"] for e in report.errors) or OK


def submit_by_import_data(customer, actor, change, tmp_path) -> str:
    dataset = tablib.Dataset(
        [customer.account, customer.name, *change.values()],
        headers=["account", "name", *change],
    )
    result = CustomerResource().import_data(
        dataset, user=actor, behaviour=DataEntityBehavior.PROPOSE
    )
    if result.has_errors():
        return " ".join(
            str(e.error) for _line, errors in result.row_errors() for e in errors
        )
    if result.has_validation_errors():
        return " ".join(messages_of(row.error) for row in result.invalid_rows)
    return OK


def problem_text(response) -> str:
    """What an API refusal says: its field messages, else its detail."""
    body = response.json()
    return " ".join(e["message"] for e in body.get("errors", [])) or body["detail"]


def submit_by_api(customer, actor, change, tmp_path) -> str:
    """PATCH the customer with an API token of the actor: the parameters' data entity
    behaviour (propose) submits the proposal on their behalf."""
    response = token_client(actor).patch(
        f"/api/v1/customers/{customer.pk}/", change, format="json"
    )
    return OK if response.status_code in (200, 202) else problem_text(response)


SUBMISSIONS = {
    "customer page": submit_in_browser,
    "Import page": submit_by_engine_import,
    "import_data": submit_by_import_data,
    "API": submit_by_api,
}


# --- Decision paths -------------------------------------------------------------------


def approve_one(proposal, actor) -> str:
    try:
        services.proposal_approve(proposal=proposal, actor=actor)
    except WorkflowError as error:
        return error.message
    return OK


def approve_in_bulk(proposal, actor) -> str:
    outcome = services.proposals_approve_bulk(proposal_ids=[proposal.pk], actor=actor)
    return outcome.refused.get(proposal.pk, OK)


def approve_by_api(proposal, actor) -> str:
    response = token_client(actor).post(
        f"/api/v1/proposals/{proposal.pk}/approve/", {}, format="json"
    )
    return OK if response.status_code == 200 else problem_text(response)


DECISIONS = {
    "one at a time": approve_one,
    "bulk approve": approve_in_bulk,
    "API": approve_by_api,
}


# --- Running a scenario ----------------------------------------------------------------


def latest_proposal(customer) -> ChangeProposal | None:
    return ChangeProposal.objects.filter(object_id=customer.pk).order_by("-pk").first()


def play(event, customer, users, approve, tmp_path) -> str:
    kind, who, *rest = event
    proposal = latest_proposal(customer)
    try:
        if kind == "approve":
            return approve(proposal, users[who])
        if kind == "reject":
            services.proposal_reject(proposal=proposal, actor=users[who], comment="No.")
        elif kind == "request_change":
            services.proposal_request_change(
                proposal=proposal, actor=users[who], comment="Check the amount."
            )
        elif kind == "resubmit":
            return submit_in_browser(customer, users[who], rest[0], tmp_path)
        elif kind == "recall":
            services.proposal_recall(proposal=proposal, actor=users[who])
        elif kind == "delegate":
            services.work_item_delegate(
                proposal=proposal, actor=users[who], to_user=users[rest[0]]
            )
        elif kind == "reassign":
            item = WorkItem.objects.get(
                proposal=proposal, assignee=users[rest[0]], state=WorkItemState.OPEN
            )
            services.work_item_reassign(
                work_item=item, actor=users[who], to_user=users[rest[1]]
            )
        elif kind == "join":
            users[who].groups.add(Group.objects.get(name=rest[0]))
            # As the next request would: with the permissions of the new group.
            users[who] = type(users[who]).objects.get(pk=users[who].pk)
        elif kind == "store":
            store_around_approval(customer, **who)
        else:
            raise AssertionError(kind)
    except WorkflowError as error:
        return error.message
    return OK


def outcome_of(scenario, submission, decision, roles, approval_admin, tmp_path):
    users, customer = set_up(scenario, roles, approval_admin)
    submitted = SUBMISSIONS[submission](
        customer, users[scenario.proposer], scenario.change, tmp_path
    )
    results = [
        play(event, customer, users, DECISIONS[decision], tmp_path)
        for event in scenario.events
    ]
    proposal = latest_proposal(customer)
    stored = Customer.objects.get(pk=customer.pk)
    history = Counter(
        (entry.action, entry.actor_name)
        for entry in AuditEntry.objects.filter(
            object_id=customer.pk, proposal__isnull=False
        )
        # Where the proposal came from is the one thing that differs by path.
        .exclude(action__in=["field_proposed"])
    )
    work_items = sorted(
        WorkItem.objects.filter(proposal=proposal).values_list(
            "submission_round", "step__sequence", "assignee__username", "state"
        )
        if proposal
        else []
    )
    return {
        "submission": submitted,
        "results": results,
        "state": proposal.state if proposal else None,
        "values": {n: str(getattr(stored, n)) for n in scenario.final_values},
        "history": (history, work_items),
    }


PATHS = [(s, d) for s in SUBMISSIONS for d in DECISIONS]


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_every_path_gives_the_same_outcome(scenario, roles, approval_admin, tmp_path):
    """Each path plays the scenario from the same start (a savepoint rolled back after
    each); every one must reach the expected outcome and leave the same history."""
    outcomes = {}
    for submission, decision in PATHS:
        with transaction.atomic():
            outcomes[(submission, decision)] = outcome_of(
                scenario, submission, decision, roles, approval_admin, tmp_path
            )
            transaction.set_rollback(True)
    expected = {
        "submission": scenario.submission,
        "results": scenario.expect,
        "state": scenario.final_state,
        "values": scenario.final_values,
    }
    reference = outcomes[PATHS[0]]["history"]
    for path, found in outcomes.items():
        history = found.pop("history")
        assert found == expected, path
        assert history == reference, path
