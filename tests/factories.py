from __future__ import annotations

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from customers.models import (
    CashDiscount,
    Customer,
    CustomerGroup,
    MethodOfPayment,
    PaymentTerms,
    SalesTaxGroup,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.django.Password("pw")


class CustomerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerGroup
        django_get_or_create = ["code"]

    code = "10"
    description = "Domestic customers"


class PaymentTermsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentTerms
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"Net{n + 10}")
    description = factory.LazyAttribute(lambda t: f"Net {t.code[3:]} days")
    days = 30


class MethodOfPaymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MethodOfPayment
        django_get_or_create = ["code"]

    code = "SEPA-CT"


class SalesTaxGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SalesTaxGroup
        django_get_or_create = ["code"]

    code = "NL-HIGH"


class CashDiscountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CashDiscount
        django_get_or_create = ["code"]

    code = "2D10"
    days = 10
    percentage = Decimal("2.00")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    account = factory.Sequence(lambda n: f"T{n:05d}")
    name = factory.Sequence(lambda n: f"Test Customer {n}")
    customer_group = factory.SubFactory(CustomerGroupFactory)
    credit_limit = Decimal("10000.00")
    payment_terms = factory.SubFactory(PaymentTermsFactory, code="Net30")
    bank_account = "NL91ABNA0417164300"
    country = "NL"
    currency = "EUR"
