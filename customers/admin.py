"""Customer pages: the customer form saves through customer services and the approval engine."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.main import ORDER_VAR
from django.utils.translation import gettext_lazy as _
from import_export.formats.base_formats import CSV, XLSX

from workflow.admin import (
    ApprovalSettingsAdmin,
    GovernedModelAdmin,
    LabelledExportMixin,
    WorkflowAdmin,
)

from . import selectors, services
from .models import (
    AccountsReceivableParameters,
    AccountsReceivableWorkflow,
    CashDiscount,
    CashDiscountParameters,
    CashDiscountWorkflow,
    Customer,
    CustomerGroup,
    MethodOfPayment,
    PaymentTerms,
    SalesTaxGroup,
    TermsOfPaymentParameters,
    TermsOfPaymentWorkflow,
)
from .resources import CustomerResource


@admin.register(Customer)
class CustomerAdmin(LabelledExportMixin, GovernedModelAdmin):
    resource_classes = [CustomerResource]
    export_formats = [CSV, XLSX]
    # What a clerk looks for first, leftmost: at 1366 px beside the menu and the
    # filters, the columns from the customer group on may need the list scrolled.
    list_display = [
        "account",
        "name",
        "approval_status",
        "credit_limit",
        "city",
        "customer_group_code",
        "payment_terms_code",
        "country",
    ]
    # Filters by reference tables only: a filter on a free field would scan for its values.
    list_filter = ["customer_group", "payment_terms"]
    list_select_related = ["customer_group", "payment_terms"]
    # Each by an index on PostgreSQL: trigrams for the words, the IBAN by its start
    # (its trigrams are shared by too many IBANs); the phone by its digits
    # (get_search_results).
    search_fields = ["account", "name", "city", "email", "^bank_account"]
    search_help_text = _("Search by account, name, city, email, IBAN or phone number.")
    autocomplete_fields = ["invoice_account"]
    show_full_result_count = False
    view_on_site = False
    fieldsets = [
        (None, {"fields": ["account", "name", "customer_group", "currency"]}),
        (
            _("Credit and collections"),
            {
                "fields": [
                    "credit_limit",
                    "mandatory_credit_limit",
                    "credit_rating",
                    "exclude_interest_charges",
                    "exclude_collection_fees",
                ]
            },
        ),
        (
            _("Payment defaults"),
            {
                "fields": [
                    "payment_terms",
                    "method_of_payment",
                    "payment_specification",
                    "cash_discount",
                    "cash_discount_base_days",
                    "bank_account",
                ]
            },
        ),
        (
            _("Invoice and delivery"),
            {
                "fields": [
                    "invoice_account",
                    "account_manager",
                    "sales_tax_group",
                    "tax_exempt_number",
                ]
            },
        ),
        (
            _("Contact and address"),
            {"fields": ["email", "phone", "street", "postal_code", "city", "country"]},
        ),
    ]

    # Reference tables by their codes, as Dynamics 365 lists them: the descriptions
    # would take the width of the columns a clerk needs.
    @admin.display(description=_("customer group"), ordering="customer_group__code")
    def customer_group_code(self, customer: Customer) -> str:
        return customer.customer_group.code

    @admin.display(description=_("terms of payment"), ordering="payment_terms__code")
    def payment_terms_code(self, customer: Customer) -> str:
        return customer.payment_terms.code if customer.payment_terms else ""

    def get_search_results(self, request, queryset, search_term):
        """An IBAN in groups is searched compact, a phone number by its digits; the
        start of an account finds the accounts that start with it.

        Unless a column was chosen to sort by, the results keep the account order, by
        the means that costs the same at any size of the table (customers.selectors).
        """
        sorted_by_column = ORDER_VAR in request.GET
        by_account = selectors.customers_by_account_start(queryset, search_term)
        if by_account is not None:
            if not sorted_by_column:
                by_account = by_account.order_by(selectors.account_order(queryset))
            return by_account, False
        search = selectors.customer_search(search_term)
        results, may_have_duplicates = super().get_search_results(
            request, queryset, search.text
        )
        if search.phone:
            results = results | queryset.filter(selectors.phone_matches(search.phone))
        if search_term.strip() and not sorted_by_column:
            # A search that finds few customers sorts them (cheap, whatever the size
            # of the table); by the account index, PostgreSQL may walk the whole index
            # to find them when they come late in the order.
            found = results.order_by()[: selectors.FEW_MATCHES + 1].count()
            if found <= selectors.FEW_MATCHES:
                results = results.order_by(
                    selectors.account_order_without_index(), "pk"
                )
        return results, may_have_duplicates

    def get_readonly_fields(self, request, obj=None):
        # The account is the business key imports match on; it is fixed once created.
        return ["account"] if obj is not None else []

    def create_record(self, request, values):
        return services.customer_create(values=values, actor=request.user)

    def update_record(self, request, pk, values, expected_version=None, loaded=None):
        return services.customer_update(
            customer_id=pk,
            values=values,
            actor=request.user,
            expected_version=expected_version,
            loaded=loaded,
        )


class ReferenceCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "description"]
    search_fields = ["code", "description"]


admin.site.register(CustomerGroup, ReferenceCodeAdmin)
admin.site.register(MethodOfPayment, ReferenceCodeAdmin)
admin.site.register(SalesTaxGroup, ReferenceCodeAdmin)


class GovernedReferenceCodeAdmin(GovernedModelAdmin):
    """A governed reference table: its form saves through the table's services."""

    search_fields = ["code", "description"]
    view_on_site = False

    def get_readonly_fields(self, request, obj=None):
        # Customers and imports refer to the code; it is fixed once created.
        return ["code"] if obj is not None else []


@admin.register(PaymentTerms)
class PaymentTermsAdmin(GovernedReferenceCodeAdmin):
    list_display = ["code", "description", "days"]
    fields = ["code", "description", "days"]

    def create_record(self, request, values):
        return services.payment_terms_create(values=values, actor=request.user)

    def update_record(self, request, pk, values, expected_version=None, loaded=None):
        return services.payment_terms_update(
            payment_terms_id=pk,
            values=values,
            actor=request.user,
            expected_version=expected_version,
            loaded=loaded,
        )


@admin.register(CashDiscount)
class CashDiscountAdmin(GovernedReferenceCodeAdmin):
    list_display = ["code", "description", "days", "percentage"]
    fields = ["code", "description", "days", "percentage"]

    def create_record(self, request, values):
        return services.cash_discount_create(values=values, actor=request.user)

    def update_record(self, request, pk, values, expected_version=None, loaded=None):
        return services.cash_discount_update(
            cash_discount_id=pk,
            values=values,
            actor=request.user,
            expected_version=expected_version,
            loaded=loaded,
        )


@admin.register(AccountsReceivableParameters)
class AccountsReceivableParametersAdmin(ApprovalSettingsAdmin):
    governed_model = Customer


@admin.register(AccountsReceivableWorkflow)
class AccountsReceivableWorkflowAdmin(WorkflowAdmin):
    governed_model = Customer


@admin.register(TermsOfPaymentParameters)
class TermsOfPaymentParametersAdmin(ApprovalSettingsAdmin):
    governed_model = PaymentTerms


@admin.register(TermsOfPaymentWorkflow)
class TermsOfPaymentWorkflowAdmin(WorkflowAdmin):
    governed_model = PaymentTerms


@admin.register(CashDiscountParameters)
class CashDiscountParametersAdmin(ApprovalSettingsAdmin):
    governed_model = CashDiscount


@admin.register(CashDiscountWorkflow)
class CashDiscountWorkflowAdmin(WorkflowAdmin):
    governed_model = CashDiscount
