from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = _("Accounts receivable")

    def ready(self) -> None:
        from workflow import registry
        from workflow.importing import profiles

        from . import import_profiles, models

        registry.register(
            models.Customer,
            labels=registry.GovernedModelLabels(
                parameters=_("Accounts receivable parameters"),
                approval_section=_("Customer approval"),
                enable_approvals=_("Enable customer approvals"),
                workflows=_("Accounts receivable workflows"),
                workflow_type=_("Proposed customer change workflow"),
                approval_step=_("Workflow approval for proposed customer change"),
            ),
            business_key="account",
            import_required_columns=("account", "name"),
            parameters_proxy=models.AccountsReceivableParameters,
            workflows_proxy=models.AccountsReceivableWorkflow,
            # The bank-detail controls: call back on the phone on file, compare the
            # IBAN's country with the customer's, warn when contacts change with it.
            bank=registry.BankDetails(
                account_field="bank_account",
                callback_phone_fields=("phone",),
                country_field="country",
                contact_fields=("email", "phone"),
            ),
        )
        # Reference values that change what customers owe are governed too; only those
        # may be put under approval, a description stays free.
        registry.register(
            models.PaymentTerms,
            labels=registry.GovernedModelLabels(
                parameters=_("Terms of payment parameters"),
                approval_section=_("Terms of payment approval"),
                enable_approvals=_("Enable terms of payment approvals"),
                workflows=_("Terms of payment workflows"),
                workflow_type=_("Proposed terms of payment change workflow"),
                approval_step=_(
                    "Workflow approval for proposed terms of payment change"
                ),
            ),
            fields=("days",),
            business_key="code",
            import_required_columns=("code",),
            parameters_proxy=models.TermsOfPaymentParameters,
            workflows_proxy=models.TermsOfPaymentWorkflow,
        )
        registry.register(
            models.CashDiscount,
            labels=registry.GovernedModelLabels(
                parameters=_("Cash discount parameters"),
                approval_section=_("Cash discount approval"),
                enable_approvals=_("Enable cash discount approvals"),
                workflows=_("Cash discount workflows"),
                workflow_type=_("Proposed cash discount change workflow"),
                approval_step=_("Workflow approval for proposed cash discount change"),
            ),
            fields=("days", "percentage"),
            business_key="code",
            import_required_columns=("code",),
            parameters_proxy=models.CashDiscountParameters,
            workflows_proxy=models.CashDiscountWorkflow,
        )
        # A Dynamics 365 export of the Customers V3 entity imports as it is.
        profiles.register(import_profiles.customers_v3_profile())
