"""Names and addresses refuse control characters and direction overrides with a
sentence that names the character, on the form, in an import and from a script,
instead of a server error (PostgreSQL cannot store NUL) or text that reads otherwise
than it is stored."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from customers.models import Customer
from customers.services import customer_update
from workflow.text import TEXT_CONTROL_CHARACTER, TEXT_DIRECTION_CONTROL

from .helpers import form_errors, row_errors


def control(character: str, position: int) -> str:
    return str(TEXT_CONTROL_CHARACTER) % {
        "character": character,
        "position": position,
    }


def direction(character: str, position: int) -> str:
    return str(TEXT_DIRECTION_CONTROL) % {
        "character": character,
        "position": position,
    }


FORM_REFUSALS = [
    ("name", "Contoso \u202eliateR", direction("U+202E RIGHT-TO-LEFT OVERRIDE", 9)),
    ("name", "\u2067Contoso", direction("U+2067 RIGHT-TO-LEFT ISOLATE", 1)),
    ("street", "Main\u202a Street", direction("U+202A LEFT-TO-RIGHT EMBEDDING", 5)),
    ("street", "Main Street\x07", control("U+0007 BEL", 12)),
    ("city", "Amster\x85dam", control("U+0085", 7)),
    ("phone", "+31\x1b20", control("U+001B ESC", 4)),
    ("postal_code", "1012\x7fAB", control("U+007F DEL", 5)),
    (
        "payment_specification",
        "\u2069Ref",
        direction("U+2069 POP DIRECTIONAL ISOLATE", 1),
    ),
    ("tax_exempt_number", "NL\u202d123", direction("U+202D LEFT-TO-RIGHT OVERRIDE", 3)),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "message"), FORM_REFUSALS)
def test_the_form_names_the_character_it_refuses(
    client, clerk, customer, edit_customer, field, value, message
):
    client.force_login(clerk)

    response = edit_customer(customer, **{field: value})

    assert response.status_code == 200
    assert form_errors(response) == {field: [message]}
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"


@pytest.mark.django_db
def test_the_marks_that_shape_scripts_and_emoji_are_kept(
    client, clerk, customer, edit_customer
):
    """Joiners and direction marks belong to Persian, Arabic and emoji; only the
    embeddings, overrides and isolates reorder text."""
    client.force_login(clerk)
    name = "می\u200cخواهم \u200fشرکت 👩\u200d💻"

    response = edit_customer(customer, name=name)

    assert response.status_code == 302, form_errors(response)
    customer.refresh_from_db()
    assert customer.name == name


@pytest.mark.django_db
def test_the_import_names_the_character_and_writes_nothing(clerk, customer, import_csv):
    report = import_csv(
        "account;name;street\n"
        "C00001;Contoso \u202eliateR;Main Street 1\n"
        "C00002;Fabrikam;Main\x01Street\n",
        clerk,
    )

    assert row_errors(report) == [
        (2, "name", direction("U+202E RIGHT-TO-LEFT OVERRIDE", 9)),
        (3, "street", control("U+0001 SOH", 5)),
        (3, "customer_group", "This field cannot be null."),
    ]
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"
    assert Customer.objects.count() == 1


@pytest.mark.django_db
def test_a_nul_from_a_script_is_refused_with_the_sentence(clerk, customer):
    """The form refuses NUL itself; the service, which an import or a script calls,
    refuses it with the field's message instead of failing in the database."""
    with pytest.raises(ValidationError) as refused:
        customer_update(
            customer_id=customer.pk, values={"name": "Contoso\x00"}, actor=clerk
        )

    assert refused.value.message_dict == {"name": [control("U+0000 NUL", 8)]}
    customer.refresh_from_db()
    assert customer.name == "Contoso Retail"


@pytest.mark.django_db
def test_tabs_and_line_breaks_stay_text(clerk, customer):
    """Spreadsheets hold them in cells and the export writes them back."""
    customer_update(
        customer_id=customer.pk,
        values={"street": "Building A\r\nMain Street\t1"},
        actor=clerk,
    )

    customer.refresh_from_db()
    assert customer.street == "Building A\r\nMain Street\t1"
