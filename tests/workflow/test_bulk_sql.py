"""The bulk writers store every value exactly as the ORM would, on PostgreSQL by COPY."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from json.encoder import encode_basestring_ascii

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from customers.models import Customer
from tests.factories import CustomerFactory
from workflow.audit import audit_row, audit_rows_write
from workflow.bulk_sql import (
    _COPY_ESCAPES,
    _copy_escaped,
    _encodes_text_plainly,
    instances_insert,
    rows_update,
)
from workflow.models import AuditEntry

AWKWARD = "Tab\there, new\nline, back\\slash, \\N, quote ' and \" and ü€"


def name_changed(actor, object_id, **values) -> tuple[object, ...]:
    """The audit row of a customer's name changed by an import."""
    return audit_row(
        action="field_changed",
        actor=actor,
        source="import",
        content_type_id=ContentType.objects.get_for_model(Customer).pk,
        object_id=object_id,
        field_name="name",
        **values,
    )


@pytest.mark.django_db
def test_audit_rows_keep_awkward_text_and_json_values(clerk):
    content_type = ContentType.objects.get_for_model(Customer)
    rows = [
        name_changed(
            clerk,
            7,
            object_repr=AWKWARD,
            field_label="Name",
            old_value={"nested": [AWKWARD, None, 1.5]},
            new_value=AWKWARD,
            old_display="",
            new_display=AWKWARD,
            comment=AWKWARD,
        ),
        audit_row(
            action="created",
            actor=None,
            source="system",
            content_type_id=content_type.pk,
            object_id=None,
        ),
    ]
    with CaptureQueriesContext(connection) as queries:
        audit_rows_write(rows)
    assert len(queries) == 1

    first, second = AuditEntry.objects.order_by("id")
    assert (first.object_repr, first.comment, first.new_display) == (AWKWARD,) * 3
    assert first.old_value == {"nested": [AWKWARD, None, 1.5]}
    assert first.new_value == AWKWARD
    assert first.actor == clerk and first.actor_name == clerk.username
    assert (second.actor, second.object_id, second.old_value) == (None, None, None)


@given(st.text())
def test_copy_text_is_escaped_exactly_when_it_has_to_be(value):
    assert _copy_escaped(value) == value.translate(_COPY_ESCAPES)


@given(st.text())
def test_text_in_audit_json_columns_is_written_as_json_dumps_writes_it(value):
    """Old and new values that are text skip building an encoder per value: only
    where that gives what the field's own encoder gives."""
    for name in ("old_value", "new_value"):
        model_field = AuditEntry._meta.get_field(name)
        assert _encodes_text_plainly(model_field)
        assert encode_basestring_ascii(value) == json.dumps(
            value, cls=model_field.encoder
        )


def test_a_json_encoder_that_writes_text_its_own_way_is_asked_itself():
    class Shouting(json.JSONEncoder):
        def encode(self, o):
            return super().encode(o.upper() if isinstance(o, str) else o)

    assert not _encodes_text_plainly(models.JSONField(encoder=Shouting))
    assert _encodes_text_plainly(models.JSONField())


@pytest.mark.django_db
def test_rows_sharing_one_json_value_each_keep_it(clerk):
    """An import's note in every language is one object for all its rows: written once
    in COPY's form, read back whole in every row."""
    shared = {"nested": [AWKWARD, "\\N", None]}
    rows = [
        name_changed(
            clerk,
            n,
            old_value=shared,
            new_value=shared if n else {"own": AWKWARD},
        )
        for n in range(3)
    ]
    audit_rows_write(rows)

    entries = AuditEntry.objects.order_by("object_id")
    assert [(e.old_value, e.new_value) for e in entries] == [
        (shared, {"own": AWKWARD}),
        (shared, shared),
        (shared, shared),
    ]


@pytest.mark.django_db
def test_new_instances_get_their_keys_and_read_back_as_written():
    template = CustomerFactory()
    customers = [
        Customer(
            **{
                f.attname: getattr(template, f.attname)
                for f in Customer._meta.concrete_fields
                if not f.primary_key
            }
        )
        for _ in range(3)
    ]
    for index, customer in enumerate(customers):
        customer.account = f"X{index:05d}"
        customer.name = AWKWARD[:100]
        customer.credit_limit = Decimal("1234.50")
        customer.mandatory_credit_limit = index == 1
    instances_insert(Customer, customers)

    assert all(c.pk for c in customers)
    assert len({c.pk for c in customers}) == 3
    for customer in customers:
        stored = Customer.objects.get(pk=customer.pk)
        assert stored.account == customer.account
        assert stored.name == AWKWARD[:100]
        assert stored.credit_limit == Decimal("1234.50")
        assert stored.mandatory_credit_limit is customer.mandatory_credit_limit
        assert stored.created_at is not None
    # The sequence moved on: the next ordinary save gets a fresh key.
    assert CustomerFactory().pk > max(c.pk for c in customers)


@pytest.mark.django_db
def test_new_instances_are_stamped_with_the_time_of_their_insert():
    """updated_at (the record's version, which a form compares) is the insert's time on
    the instances and in the rows, whatever they held, as a save would set it;
    created_at keeps the value given, as a save would."""
    template = CustomerFactory()
    long_ago = timezone.now() - datetime.timedelta(days=400)
    customers = []
    for n in range(3):
        customer = Customer(
            **{
                f.attname: getattr(template, f.attname)
                for f in Customer._meta.concrete_fields
                if not f.primary_key
            }
        )
        customer.account = f"STAMP{n}"
        customer.created_at = customer.updated_at = long_ago
        customers.append(customer)
    before = timezone.now()
    instances_insert(Customer, customers)
    after = timezone.now()

    for customer in customers:
        stored = Customer.objects.get(pk=customer.pk)
        assert before <= stored.updated_at <= after
        assert stored.updated_at == customer.updated_at
        assert stored.created_at == customer.created_at == long_ago


@pytest.mark.django_db
def test_rows_update_writes_only_the_named_fields_and_refuses_a_missing_row():
    first, second = CustomerFactory(), CustomerFactory()
    first.name, first.phone = AWKWARD[:100], "+31 1"
    second.name, second.phone = "Plain", "+31 2"
    rows_update(Customer, [first, second], ["name"])

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.name, second.name) == (AWKWARD[:100], "Plain")
    assert first.phone != "+31 1"

    if connection.vendor == "postgresql":
        gone = Customer(pk=999_999, name="x")
        with pytest.raises(RuntimeError, match="1 of 2 rows"):
            rows_update(Customer, [first, gone], ["name"])


@pytest.mark.django_db
def test_rows_update_writes_each_row_its_own_time_where_most_share_one():
    """A batch's rows mostly hold the same time (converted once): a row that holds
    another, between them, keeps its own."""
    customers = [CustomerFactory() for _ in range(4)]
    batch_time = timezone.now().replace(microsecond=0)
    other_time = batch_time - datetime.timedelta(hours=5, microseconds=7)
    times = [batch_time, batch_time, other_time, batch_time]
    for customer, moment in zip(customers, times, strict=True):
        customer.created_at = moment
    rows_update(Customer, customers, ["created_at"])

    stored = [Customer.objects.get(pk=c.pk).created_at for c in customers]
    assert stored == times


@pytest.mark.django_db
def test_rows_update_writes_a_value_every_row_shares_to_each_of_them():
    """What all rows share (the batch's time, one text, an empty e-mail) is written
    to every row, beside what each row has of its own; awkward text included."""
    customers = [CustomerFactory(email="x@example.com") for _ in range(3)]
    batch_time = timezone.now().replace(microsecond=0) - datetime.timedelta(days=2)
    shared_text = "100% O'Neil; \\N"
    for n, customer in enumerate(customers):
        customer.updated_at = batch_time
        customer.city = shared_text
        customer.email = ""
        customer.name = f"{AWKWARD[:80]} {n}"
    rows_update(Customer, customers, ["name", "city", "email", "updated_at"])

    stored = Customer.objects.filter(pk__in=[c.pk for c in customers]).order_by("pk")
    assert [(c.name, c.city, c.email, c.updated_at) for c in stored] == [
        (f"{AWKWARD[:80]} {n}", shared_text, "", batch_time) for n in range(3)
    ]


@pytest.mark.django_db
def test_rows_update_of_one_row_writes_all_its_values():
    customer = CustomerFactory()
    customer.name, customer.phone = "Only 'row'", "+31 20 123"
    rows_update(Customer, [customer], ["name", "phone"])

    stored = Customer.objects.get(pk=customer.pk)
    assert (stored.name, stored.phone) == ("Only 'row'", "+31 20 123")


@pytest.mark.django_db
def test_new_rows_keep_the_creation_time_each_was_given_in_its_zone():
    """Times with a zone are stored as they are; a time without one is read in the
    site's zone, as the ORM reads it."""
    group = CustomerFactory().customer_group
    amsterdam = datetime.timezone(datetime.timedelta(hours=1))
    given_times = [
        datetime.datetime(2026, 3, 1, 9, 15, 0, 123456, tzinfo=datetime.UTC),
        datetime.datetime(2026, 3, 1, 9, 15, 0, 123456, tzinfo=amsterdam),
        datetime.datetime(2026, 3, 2, 8, 0),
    ]
    customers = [
        Customer(
            account=f"T{n}",
            name=f"Timed {n}",
            customer_group=group,
            created_at=moment,
        )
        for n, moment in enumerate(given_times)
    ]
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        instances_insert(Customer, customers)

    stored = [Customer.objects.get(account=f"T{n}").created_at for n in range(3)]
    assert stored[:2] == given_times[:2]
    assert stored[1] - stored[0] == datetime.timedelta(hours=-1)
    assert stored[2] == timezone.make_aware(given_times[2])
