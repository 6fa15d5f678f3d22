"""Customers and the reference tables their settings point at."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workflow.enforcement import GovernedRecord
from workflow.models import ApprovalSettings, Workflow
from workflow.text import validate_text

from .fields import IBANField
from .validators import validate_account, validate_country, validate_currency

ACCOUNT_TAKEN = _(
    "Another customer already has this account, perhaps written with other capitals: "
    "customer accounts are the same whatever their case."
)


class ReferenceCode(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    description = models.CharField(_("description"), max_length=100, blank=True)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.description}" if self.description else self.code


class CustomerGroup(ReferenceCode):
    class Meta(ReferenceCode.Meta):
        verbose_name = _("customer group")
        verbose_name_plural = _("customer groups")


class GovernedReferenceCode(GovernedRecord, ReferenceCode):
    """A reference table whose values change what customers owe, so under approval.

    `updated_at` is the record's version: a form loaded before someone else's change
    cannot be saved over it.
    """

    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta(GovernedRecord.Meta, ReferenceCode.Meta):
        abstract = True


class PaymentTerms(GovernedReferenceCode):
    days = models.PositiveSmallIntegerField(_("days until due"), default=30)

    class Meta(GovernedReferenceCode.Meta):
        verbose_name = _("terms of payment")
        verbose_name_plural = _("terms of payment")


class MethodOfPayment(ReferenceCode):
    class Meta(ReferenceCode.Meta):
        verbose_name = _("method of payment")
        verbose_name_plural = _("methods of payment")


class SalesTaxGroup(ReferenceCode):
    class Meta(ReferenceCode.Meta):
        verbose_name = _("sales tax group")
        verbose_name_plural = _("sales tax groups")


class CashDiscount(GovernedReferenceCode):
    days = models.PositiveSmallIntegerField(_("days"), default=0)
    percentage = models.DecimalField(
        _("discount percentage"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta(GovernedReferenceCode.Meta):
        verbose_name = _("cash discount")
        verbose_name_plural = _("cash discounts")


class CreditRating(models.TextChoices):
    EXCELLENT = "A", _("A – Excellent")
    GOOD = "B", _("B – Good")
    FAIR = "C", _("C – Fair")
    POOR = "D", _("D – Poor")


class Customer(GovernedRecord):
    account = models.CharField(
        _("customer account"), max_length=20, unique=True, validators=[validate_account]
    )
    name = models.CharField(_("name"), max_length=100, validators=[validate_text])
    customer_group = models.ForeignKey(
        CustomerGroup, on_delete=models.PROTECT, verbose_name=_("customer group")
    )
    currency = models.CharField(
        _("currency"), max_length=3, default="EUR", validators=[validate_currency]
    )
    credit_limit = models.DecimalField(
        _("credit limit"),
        max_digits=18,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    mandatory_credit_limit = models.BooleanField(
        _("mandatory credit limit"), default=False
    )
    credit_rating = models.CharField(
        _("credit rating"), max_length=1, choices=CreditRating.choices, blank=True
    )
    payment_terms = models.ForeignKey(
        PaymentTerms,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("terms of payment"),
    )
    method_of_payment = models.ForeignKey(
        MethodOfPayment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("method of payment"),
    )
    payment_specification = models.CharField(
        _("payment specification"),
        max_length=30,
        blank=True,
        validators=[validate_text],
    )
    cash_discount = models.ForeignKey(
        CashDiscount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("cash discount"),
    )
    cash_discount_base_days = models.PositiveSmallIntegerField(
        _("cash discount base days"), null=True, blank=True
    )
    sales_tax_group = models.ForeignKey(
        SalesTaxGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("sales tax group"),
    )
    tax_exempt_number = models.CharField(
        _("tax exempt number"), max_length=30, blank=True, validators=[validate_text]
    )
    bank_account = IBANField(_("bank account (IBAN)"), max_length=34, blank=True)
    invoice_account = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoiced_customers",
        verbose_name=_("invoice account"),
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_customers",
        verbose_name=_("account manager"),
    )
    exclude_interest_charges = models.BooleanField(
        _("exclude interest charges"), default=False
    )
    exclude_collection_fees = models.BooleanField(
        _("exclude collection fees"), default=False
    )
    email = models.EmailField(_("email"), blank=True, validators=[validate_text])
    phone = models.CharField(
        _("phone"), max_length=30, blank=True, validators=[validate_text]
    )
    street = models.CharField(
        _("street"), max_length=100, blank=True, validators=[validate_text]
    )
    postal_code = models.CharField(
        _("postal code"), max_length=20, blank=True, validators=[validate_text]
    )
    city = models.CharField(
        _("city"), max_length=60, blank=True, validators=[validate_text]
    )
    country = models.CharField(
        _("country"), max_length=2, default="NL", validators=[validate_country]
    )
    created_at = models.DateTimeField(
        _("created at"), default=timezone.now, editable=False
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta(GovernedRecord.Meta):
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["account"]
        indexes = [
            models.Index(fields=["name"]),
            models.Index(fields=["customer_group", "account"]),
            # Customers awaiting approval or rejected: few, found by the status filter.
            models.Index(
                fields=["record_status"],
                name="customer_not_active",
                condition=~Q(record_status="active"),
            ),
        ]
        permissions = [("export_customer", _("Can export customers"))]
        constraints = [
            # "c00001" is the customer C00001: an import matches accounts this way,
            # and the database refuses a second spelling whichever path writes it.
            models.UniqueConstraint(
                Lower("account"),
                name="customer_account_unique_ignoring_case",
                violation_error_code="account_taken",
                violation_error_message=ACCOUNT_TAKEN,
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("admin:customers_customer_change", args=[self.pk])

    def clean(self) -> None:
        if self.currency:
            self.currency = self.currency.upper()
        if self.country:
            self.country = self.country.upper()
        if self.invoice_account_id and self.invoice_account_id == self.pk:
            raise ValidationError(
                {"invoice_account": _("A customer cannot be its own invoice account.")}
            )


class AccountsReceivableParameters(ApprovalSettings):
    """The approval parameters of customers, under the name Dynamics 365 users know."""

    class Meta:
        proxy = True
        verbose_name = _("Accounts receivable parameters")
        verbose_name_plural = _("Accounts receivable parameters")


class AccountsReceivableWorkflow(Workflow):
    """The customer workflows, under the name Dynamics 365 users know."""

    class Meta:
        proxy = True
        verbose_name = _("Accounts receivable workflow")
        verbose_name_plural = _("Accounts receivable workflows")


class TermsOfPaymentParameters(ApprovalSettings):
    """The approval parameters of terms of payment."""

    class Meta:
        proxy = True
        verbose_name = _("Terms of payment parameters")
        verbose_name_plural = _("Terms of payment parameters")


class TermsOfPaymentWorkflow(Workflow):
    """The workflows that approve changes to terms of payment."""

    class Meta:
        proxy = True
        verbose_name = _("Terms of payment workflow")
        verbose_name_plural = _("Terms of payment workflows")


class CashDiscountParameters(ApprovalSettings):
    """The approval parameters of cash discounts."""

    class Meta:
        proxy = True
        verbose_name = _("Cash discount parameters")
        verbose_name_plural = _("Cash discount parameters")


class CashDiscountWorkflow(Workflow):
    """The workflows that approve changes to cash discounts."""

    class Meta:
        proxy = True
        verbose_name = _("Cash discount workflow")
        verbose_name_plural = _("Cash discount workflows")
