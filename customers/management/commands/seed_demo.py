"""Demo data: reference tables, 50 customers, the roles, five users and the workflows.

Running it again changes nothing that is already there, except that the demo users'
passwords are set to $DEMO_PASSWORD again.
"""

from __future__ import annotations

import os
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from customers.models import (
    AccountsReceivableWorkflow,
    CashDiscount,
    Customer,
    CustomerGroup,
    MethodOfPayment,
    PaymentTerms,
    SalesTaxGroup,
    TermsOfPaymentWorkflow,
)
from customers.services import (
    cash_discount_create,
    customer_create,
    customer_update,
    payment_terms_create,
)
from customers.validators import validate_iban
from workflow import selectors, services
from workflow.core.conditions import ConditionKind
from workflow.models import (
    AutoApprovalRule,
    ChangeProposal,
    DataEntityBehavior,
    EscalationAction,
    Source,
    StepKindChoices,
    TimeUnit,
    Workflow,
    WorkflowStep,
)

STEP_NAME = "Workflow approval for proposed customer change"
TERMS_STEP_NAME = "Finance manager approval of terms of payment"

DEFAULT_DEMO_PASSWORD = "demo-pass-2026"

CLERKS = "Clerks"
APPROVERS = "Approvers"
APPROVAL_ADMINISTRATORS = "Approval administrators"
FINANCE_MANAGERS = "Finance managers"
AUDITORS = "Auditors"

REFERENCE_PERMISSIONS = [
    f"customers.{verb}_{model}"
    for model in (
        "customergroup",
        "paymentterms",
        "methodofpayment",
        "salestaxgroup",
        "cashdiscount",
    )
    for verb in ("view",)
]
# Terms of payment and cash discounts change what customers owe: clerks propose changes
# of their days and percentages and the demo workflow has finance managers decide.
# Approval administrators, who set the approval parameters, keep creating codes and
# editing descriptions, but submit no change for approval: they hold no submit permission.
GOVERNED_REFERENCE_PERMISSIONS = [
    "customers.change_paymentterms",
    "customers.change_cashdiscount",
]
ROLE_PERMISSIONS = {
    CLERKS: [
        "customers.view_customer",
        "customers.add_customer",
        "customers.change_customer",
        "customers.export_customer",
        "workflow.submit_changeproposal",
        "workflow.view_changeproposal",
        *REFERENCE_PERMISSIONS,
        *GOVERNED_REFERENCE_PERMISSIONS,
    ],
    APPROVERS: [
        "customers.view_customer",
        "workflow.decide_workitem",
        "workflow.view_changeproposal",
        "workflow.view_auditentry",
        *REFERENCE_PERMISSIONS,
    ],
    FINANCE_MANAGERS: [
        "customers.view_customer",
        "workflow.decide_workitem",
        "workflow.view_changeproposal",
        "workflow.view_auditentry",
        *REFERENCE_PERMISSIONS,
    ],
    APPROVAL_ADMINISTRATORS: [
        "customers.view_customer",
        "workflow.reassign_workitem",
        "workflow.export_changeproposal",
        "customers.export_customer",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        "auth.change_group",
        "customers.view_accountsreceivableparameters",
        "customers.change_accountsreceivableparameters",
        "customers.view_accountsreceivableworkflow",
        "customers.add_accountsreceivableworkflow",
        "customers.change_accountsreceivableworkflow",
        *[
            f"customers.{verb}_{proxy}"
            for proxy in ("termsofpaymentparameters", "cashdiscountparameters")
            for verb in ("view", "change")
        ],
        *[
            f"customers.{verb}_{proxy}"
            for proxy in ("termsofpaymentworkflow", "cashdiscountworkflow")
            for verb in ("view", "add", "change")
        ],
        "workflow.view_changeproposal",
        "workflow.view_auditentry",
        "workflow.view_pausedsignin",
        "workflow.lift_pausedsignin",
        "workflow.view_auditverification",
        "workflow.run_auditverification",
        "workflow.view_outboxmessage",
        "workflow.resend_outboxmessage",
        "workflow.view_reports",
        *[
            f"customers.{verb}_{model}"
            for model in (
                "customergroup",
                "paymentterms",
                "methodofpayment",
                "salestaxgroup",
                "cashdiscount",
            )
            for verb in ("view", "add", "change")
        ],
    ],
    # The auditor sees everything the reports are about and changes nothing: the
    # records, proposals, audit trail, parameters, workflows, users and groups, and the
    # reports with their exports.
    AUDITORS: [
        "customers.view_customer",
        *REFERENCE_PERMISSIONS,
        *[
            f"customers.view_{proxy}"
            for proxy in (
                "accountsreceivableparameters",
                "accountsreceivableworkflow",
                "termsofpaymentparameters",
                "termsofpaymentworkflow",
                "cashdiscountparameters",
                "cashdiscountworkflow",
            )
        ],
        "workflow.view_changeproposal",
        "workflow.view_auditentry",
        "workflow.view_auditverification",
        "workflow.view_reports",
        "auth.view_user",
        "auth.view_group",
    ],
}
USERS = [
    ("clerk", "Claire", "Clerk", [CLERKS], False),
    ("approver", "Arthur", "Approver", [APPROVERS], False),
    ("approver2", "Anna", "Approver", [APPROVERS], False),
    ("manager", "Maria", "Manager", [FINANCE_MANAGERS], False),
    ("admin", "Ada", "Administrator", [APPROVAL_ADMINISTRATORS], False),
    ("auditor", "Otto", "Auditor", [AUDITORS], False),
]

CUSTOMER_GROUPS = [
    ("10", "Domestic customers"),
    ("20", "Foreign customers"),
    ("30", "Intercompany"),
    ("40", "Retail"),
]
PAYMENT_TERMS = [
    ("Net10", "Net 10 days", 10),
    ("Net30", "Net 30 days", 30),
    ("Net45", "Net 45 days", 45),
    ("Net60", "Net 60 days", 60),
    ("COD", "Cash on delivery", 0),
]
METHODS = [
    ("SEPA-CT", "SEPA credit transfer"),
    ("SEPA-DD", "SEPA direct debit"),
    ("CHECK", "Check"),
    ("CARD", "Credit card"),
]
TAX_GROUPS = [
    ("NL-HIGH", "Netherlands, 21%"),
    ("NL-LOW", "Netherlands, 9%"),
    ("EU", "EU reverse charge"),
    ("EXPORT", "Export outside the EU"),
]
CASH_DISCOUNTS = [
    ("2D10", "2% within 10 days", 10, Decimal("2.00")),
    ("1D14", "1% within 14 days", 14, Decimal("1.00")),
]

NAMES = [
    "Contoso Retail",
    "Fabrikam Industries",
    "Northwind Traders",
    "Adventure Works",
    "Tailspin Toys",
    "Wide World Importers",
    "Litware Systems",
    "Proseware",
    "Coho Winery",
    "Alpine Ski House",
    "Blue Yonder Airlines",
    "Fourth Coffee",
    "Graphic Design Institute",
    "Humongous Insurance",
    "Lamna Healthcare",
    "Margie's Travel",
    "Nod Publishers",
    "Southridge Video",
    "Trey Research",
    "Woodgrove Bank",
    "Van der Berg Bouw",
    "De Vries Logistiek",
    "Jansen Installatietechniek",
    "Bakker Voeding",
    "Visser Metaal",
    "Smit Transport",
    "Meijer Kantoorinrichting",
    "Mulder Drukwerk",
    "Bos Tuinmaterialen",
    "Dekker Elektro",
    "Hendriks Zuivel",
    "Peters Automotive",
    "Schouten Textiel",
    "Koster Scheepvaart",
    "Brouwer Brouwerij",
    "Müller Maschinenbau",
    "Schmidt Logistik",
    "Dubois Distribution",
    "Lambert Papeterie",
    "Rossi Alimentari",
    "García Componentes",
    "Nielsen Møbler",
    "Andersson Verktyg",
    "Kowalski Budownictwo",
    "O'Brien Engineering",
    "Peeters Bakkerij",
    "Janssens Tegels",
    "Maes Chocolade",
    "Wouters Farma",
    "Claes Interieur",
]
CITIES = [
    ("Amsterdam", "1012 AB", "NL"),
    ("Rotterdam", "3011 AD", "NL"),
    ("Utrecht", "3511 LX", "NL"),
    ("Eindhoven", "5611 AZ", "NL"),
    ("Groningen", "9711 LM", "NL"),
    ("Düsseldorf", "40213", "DE"),
    ("Antwerpen", "2000", "BE"),
    ("Lyon", "69002", "FR"),
    ("Milano", "20121", "IT"),
    ("København", "1050", "DK"),
]
BANKS = {
    "NL": ("ABNA", "RABO", "INGB"),
    "DE": ("37040044",),
    "BE": ("539",),
    "FR": ("20041",),
    "IT": ("X0542811101",),
    "DK": ("0040",),
}


def _has_workflow(model) -> bool:
    """Whether `model` has a workflow (a proxy's manager sees every model's)."""
    return Workflow.objects.filter(
        content_type=ContentType.objects.get_for_model(model)
    ).exists()


def _iban(index: int, country: str) -> str:
    banks = BANKS.get(country, BANKS["NL"])
    bank = banks[index % len(banks)]
    country = country if country in BANKS else "NL"
    lengths = {"NL": 10, "DE": 10, "BE": 7, "FR": 11, "IT": 12, "DK": 10}
    # German account numbers carry a check digit by their bank's method, which the
    # customer form verifies: the next number that passes it.
    for step in range(100):
        number = 417164300 + index * 7919 + step * 100
        account = str(number).zfill(lengths[country])[-lengths[country] :]
        try:
            iban = IBAN.generate(country, bank_code=bank, account_code=account)
            validate_iban(str(iban))
        except (SchwiftyException, ValidationError):
            continue
        return str(iban)
    return str(
        IBAN.generate(
            "NL", bank_code="ABNA", account_code=str(417164300 + index).zfill(10)
        )
    )


class Command(BaseCommand):
    help = "Load the demo: reference data, 50 customers, roles, demo users and an active workflow."

    def handle(self, *args, **options) -> None:
        password = os.environ.get("DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)
        with transaction.atomic():
            groups = self._roles()
            users = self._users(groups, password)
            self._reference_data()
            created = self._customers(users["admin"])
            self._approval_setup(users["admin"], groups)
        # The demo's own history sends no e-mails (the console would fill with them);
        # they go out after each commit, so the commits happen inside the override.
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"
        ):
            self._history(users)
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready ({created} customers created).")
        )
        self.stdout.write(f"Log in at {settings.SITE_URL}/admin/ as:")
        for username, _first, _last, roles, _superuser in USERS:
            self.stdout.write(
                f"  {username:<10} password {password:<18} ({', '.join(roles)})"
            )

    def _roles(self) -> dict[str, Group]:
        groups = {}
        for name, codenames in ROLE_PERMISSIONS.items():
            group, _ = Group.objects.get_or_create(name=name)
            permissions = []
            for dotted in codenames:
                app_label, codename = dotted.split(".")
                permissions.append(
                    Permission.objects.get(
                        content_type__app_label=app_label, codename=codename
                    )
                )
            group.permissions.set(permissions)
            groups[name] = group
        return groups

    def _users(self, groups: dict[str, Group], password: str) -> dict[str, object]:
        user_model = get_user_model()
        users = {}
        for username, first, last, roles, superuser in USERS:
            user, _ = user_model.objects.get_or_create(username=username)
            user.first_name, user.last_name = first, last
            user.email = f"{username}@example.com"
            user.is_staff = True
            user.is_superuser = superuser
            user.set_password(password)
            user.save()
            user.groups.set([groups[role] for role in roles])
            users[username] = user
        return users

    def _reference_data(self) -> None:
        for code, description in CUSTOMER_GROUPS:
            CustomerGroup.objects.get_or_create(
                code=code, defaults={"description": description}
            )
        existing_terms = set(PaymentTerms.objects.values_list("code", flat=True))
        for code, description, days in PAYMENT_TERMS:
            if code not in existing_terms:
                payment_terms_create(
                    values={"code": code, "description": description, "days": days},
                    actor=None,
                    source=Source.SYSTEM,
                )
        for code, description in METHODS:
            MethodOfPayment.objects.get_or_create(
                code=code, defaults={"description": description}
            )
        for code, description in TAX_GROUPS:
            SalesTaxGroup.objects.get_or_create(
                code=code, defaults={"description": description}
            )
        existing_discounts = set(CashDiscount.objects.values_list("code", flat=True))
        for code, description, days, percentage in CASH_DISCOUNTS:
            if code not in existing_discounts:
                cash_discount_create(
                    values={
                        "code": code,
                        "description": description,
                        "days": days,
                        "percentage": percentage,
                    },
                    actor=None,
                    source=Source.SYSTEM,
                )

    def _customers(self, actor) -> int:
        groups = list(CustomerGroup.objects.order_by("code"))
        terms = list(PaymentTerms.objects.order_by("code"))
        methods = list(MethodOfPayment.objects.order_by("code"))
        tax_groups = {group.code: group for group in SalesTaxGroup.objects.all()}
        discounts = list(CashDiscount.objects.order_by("code"))
        existing = set(Customer.objects.values_list("account", flat=True))
        created = 0
        for index, name in enumerate(NAMES, start=1):
            account = f"C{index:05d}"
            if account in existing:
                continue
            city, postal_code, country = CITIES[index % len(CITIES)]
            domestic = country == "NL"
            slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20]
            customer_create(
                values={
                    "account": account,
                    "name": name,
                    "customer_group": groups[0 if domestic else 1]
                    if index % 9
                    else groups[3],
                    "currency": {"DK": "DKK"}.get(country, "EUR"),
                    "credit_limit": Decimal(5000 * (1 + index % 12)),
                    "mandatory_credit_limit": index % 4 == 0,
                    "credit_rating": "ABCD"[index % 4],
                    "payment_terms": terms[index % len(terms)],
                    "method_of_payment": methods[index % len(methods)],
                    "payment_specification": "",
                    "cash_discount": discounts[index % len(discounts)]
                    if index % 3 == 0
                    else None,
                    "cash_discount_base_days": 10 if index % 3 == 0 else None,
                    "sales_tax_group": tax_groups["NL-HIGH" if domestic else "EU"],
                    "tax_exempt_number": ""
                    if domestic
                    else f"{country}{100000000 + index * 37}",
                    "bank_account": _iban(index, country),
                    "exclude_interest_charges": index % 10 == 0,
                    "exclude_collection_fees": index % 15 == 0,
                    "email": f"accounts@{slug}.example",
                    "phone": f"+31 20 555 {index:04d}",
                    "street": f"Hoofdstraat {index}",
                    "postal_code": postal_code,
                    "city": city,
                    "country": country,
                },
                actor=None,
                source=Source.SYSTEM,
            )
            created += 1
        return created

    def _approval_setup(self, actor, groups: dict[str, Group]) -> None:
        self._customer_approval_setup(actor, groups)
        self._terms_approval_setup(actor, groups)

    def _customer_approval_setup(self, actor, groups: dict[str, Group]) -> None:
        current = selectors.approval_settings_for(Customer)
        if current.pk is None:
            services.approval_settings_update(
                model=Customer,
                approvals_enabled=True,
                data_entity_behavior=DataEntityBehavior.PROPOSE,
                enabled_fields=["credit_limit", "bank_account", "payment_terms"],
                actor=actor,
            )
        if _has_workflow(Customer):
            return
        # Version 1: one step for every change. Version 2, the active one: bank account
        # changes also need a finance manager; when the finance manager has not decided in
        # two days, an approver who did not approve step 1 decides; and a credit limit
        # decrease needs no approval.
        first = services.workflow_save(
            workflow=AccountsReceivableWorkflow(
                content_type=ContentType.objects.get_for_model(Customer),
                name="Customer change approval",
            ),
            actor=actor,
        )
        services.workflow_step_save(
            step=WorkflowStep(
                workflow=first,
                sequence=1,
                name=STEP_NAME,
                assigned_group=groups[APPROVERS],
            ),
            actor=actor,
        )
        services.workflow_activate(workflow=first, actor=actor)
        second = services.workflow_copy(
            workflow=first, actor=actor, as_new_version=True
        )
        services.workflow_step_save(
            step=WorkflowStep(
                workflow=second,
                sequence=2,
                name="Call-back verification of bank account changes",
                # The finance manager calls the customer back on the phone number
                # it had before the change, and records the call.
                kind=StepKindChoices.CALLBACK,
                assigned_group=groups[FINANCE_MANAGERS],
                condition_kind=ConditionKind.CHANGES,
                condition_field="bank_account",
                time_limit_value=2,
                time_limit_unit=TimeUnit.DAYS,
                escalation_action=EscalationAction.REASSIGN,
                escalate_to_group=groups[APPROVERS],
            ),
            actor=actor,
        )
        services.auto_approval_rule_save(
            rule=AutoApprovalRule(
                workflow=second, field_name="credit_limit", kind=ConditionKind.DECREASES
            ),
            actor=actor,
        )
        services.workflow_activate(workflow=second, actor=actor)

    def _terms_approval_setup(self, actor, groups: dict[str, Group]) -> None:
        """The days of terms of payment need a finance manager's approval: one step."""
        current = selectors.approval_settings_for(PaymentTerms)
        if current.pk is None:
            services.approval_settings_update(
                model=PaymentTerms,
                approvals_enabled=True,
                data_entity_behavior=DataEntityBehavior.PROPOSE,
                enabled_fields=["days"],
                actor=actor,
            )
        if _has_workflow(PaymentTerms):
            return
        workflow = services.workflow_save(
            workflow=TermsOfPaymentWorkflow(
                content_type=ContentType.objects.get_for_model(PaymentTerms),
                name="Terms of payment change approval",
            ),
            actor=actor,
        )
        services.workflow_step_save(
            step=WorkflowStep(
                workflow=workflow,
                sequence=1,
                name=TERMS_STEP_NAME,
                assigned_group=groups[FINANCE_MANAGERS],
            ),
            actor=actor,
        )
        services.workflow_activate(workflow=workflow, actor=actor)

    def _history(self, users: dict[str, object]) -> None:
        """A few proposals in every state, through the services, so that the dashboard,
        My work items and the History have something to show on the first visit.
        Only on a database without proposals; customers C00041 to C00046 only."""
        if ChangeProposal.objects.exists():
            return
        clerk, approver, approver2 = (
            users["clerk"],
            users["approver"],
            users["approver2"],
        )

        def proposed(account: str, **values):
            customer = Customer.objects.get(account=account)
            return customer_update(
                customer_id=customer.pk, values=values, actor=clerk
            ).proposal

        def submitted(account: str, **values):
            return services.proposal_submit(
                proposal=proposed(account, **values), actor=clerk
            )

        services.proposal_approve(
            proposal=submitted("C00041", credit_limit=Decimal("45000")),
            actor=approver,
            comment="Confirmed with the account manager.",
        )
        services.proposal_reject(
            proposal=submitted(
                "C00042", payment_terms=PaymentTerms.objects.get(code="Net60")
            ),
            actor=approver,
            comment="Net 60 is only for key accounts.",
        )
        services.proposal_approve(
            proposal=submitted("C00043", bank_account="NL20INGB0001234567"),
            actor=approver2,
            comment="Bank letter received.",
        )
        services.proposal_request_change(
            proposal=submitted("C00044", credit_limit=Decimal("90000")),
            actor=approver,
            comment="Please attach the credit check and lower the amount.",
        )
        submitted("C00045", credit_limit=Decimal("60000"))
        proposed("C00046", credit_limit=Decimal("65000"))
