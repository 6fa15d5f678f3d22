"""Export of customers and of change proposals (CSV and XLSX), safe to open in a spreadsheet.

Headers are the field names the import reads, so an exported file imports unchanged.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from import_export import fields, widgets

from workflow.resources import GovernedResource, bank_statuses

from .models import (
    CashDiscount,
    Customer,
    CustomerGroup,
    MethodOfPayment,
    PaymentTerms,
    SalesTaxGroup,
)


def _by_code(model):
    return widgets.ForeignKeyWidget(model, field="code")


class CustomerResource(GovernedResource):
    customer_group = fields.Field(
        "customer_group", "customer_group", _by_code(CustomerGroup)
    )
    payment_terms = fields.Field(
        "payment_terms", "payment_terms", _by_code(PaymentTerms)
    )
    method_of_payment = fields.Field(
        "method_of_payment", "method_of_payment", _by_code(MethodOfPayment)
    )
    cash_discount = fields.Field(
        "cash_discount", "cash_discount", _by_code(CashDiscount)
    )
    sales_tax_group = fields.Field(
        "sales_tax_group", "sales_tax_group", _by_code(SalesTaxGroup)
    )
    invoice_account = fields.Field(
        "invoice_account",
        "invoice_account",
        widgets.ForeignKeyWidget(Customer, field="account"),
    )
    account_manager = fields.Field(
        "account_manager",
        "account_manager",
        widgets.ForeignKeyWidget(get_user_model(), field="username"),
    )
    # Whether the bank account was verified by a call-back, and by whom: the engine's
    # record of it. Exported only; an import ignores the column.
    bank_account_status = fields.Field(column_name="bank_account_status", readonly=True)
    column_labels = {"bank_account_status": _("Bank account verified")}

    class Meta:
        model = Customer
        import_id_fields = ["account"]
        fields = [
            "account",
            "name",
            "customer_group",
            "currency",
            "credit_limit",
            "mandatory_credit_limit",
            "credit_rating",
            "payment_terms",
            "method_of_payment",
            "payment_specification",
            "cash_discount",
            "cash_discount_base_days",
            "sales_tax_group",
            "tax_exempt_number",
            "bank_account",
            "bank_account_status",
            "invoice_account",
            "account_manager",
            "exclude_interest_charges",
            "exclude_collection_fees",
            "email",
            "phone",
            "street",
            "postal_code",
            "city",
            "country",
        ]
        export_order = fields

    def dehydrate_bank_account_status(self, customer: Customer) -> str:
        status = self._bank_statuses().get(customer.pk)
        return status.status_text() if status is not None else str(_("Unverified"))

    def _bank_statuses(self) -> dict:
        # Read once per export, not once per row.
        if not hasattr(self, "_statuses"):
            self._statuses = bank_statuses(Customer)
        return self._statuses

    def get_export_queryset(self, request=None, **kwargs):
        return (
            super()
            .get_export_queryset(request, **kwargs)
            .select_related(
                "customer_group",
                "payment_terms",
                "method_of_payment",
                "cash_discount",
                "sales_tax_group",
                "invoice_account",
                "account_manager",
            )
        )
