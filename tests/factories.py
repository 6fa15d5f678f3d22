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


def customers_by_sql(
    count: int,
    *,
    prefix: str,
    group: CustomerGroup,
    terms: PaymentTerms,
    bank_account: str = "''",
    city: str = "'Utrecht'",
) -> None:
    """`count` customers in one INSERT, for tests that need a table of some size:
    accounts `prefix` + six digits from 1, named "<prefix> customer <n>", with an
    e-mail address and phone number of their own. `bank_account` and `city` are SQL
    expressions of n."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO customers_customer (account, name, customer_group_id, currency,
                credit_limit, mandatory_credit_limit, credit_rating,
                payment_specification, tax_exempt_number, bank_account,
                exclude_interest_charges, exclude_collection_fees, email, phone,
                street, postal_code, city, country, created_at, updated_at,
                payment_terms_id)
            SELECT %s || lpad(n::text, 6, '0'), %s || ' customer ' || n, %s, 'EUR',
                10000, false, '', '', '', {bank_account}, false, false,
                'customer' || n || '@example.com', '+31 20 ' || lpad(n::text, 7, '0'),
                '', '', {city}, 'NL', now(), now(), %s
            FROM generate_series(1, %s) AS n
            """,
            [prefix, prefix, group.pk, terms.pk, count],
        )
