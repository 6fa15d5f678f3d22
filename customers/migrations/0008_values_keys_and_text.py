"""Customer values as people and files bring them: IBANs checked after normalising,
accounts without invisible characters and unique whatever their case, text without
control characters or direction overrides.

The unique index on LOWER(account) cannot be created while two accounts differ only in
case; the migration then stops, lists them and changes nothing, so that no customer is
lost or merged behind anyone's back. It stops likewise for accounts that hold an
invisible character: such a customer could no longer be saved, and its account cannot
be changed on its page. Rename those accounts (for example in `manage.py shell`) and
migrate again.
"""

import unicodedata

import customers.fields
import customers.validators
import django.db.models.functions.text
import workflow.text
from django.conf import settings
from django.core.management.base import CommandError
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower

SHOWN = 50


def invisible_character(value):
    """As customers.validators.invisible_character when this migration was written."""
    for position, character in enumerate(value, start=1):
        category = unicodedata.category(character)
        if category[0] == "C" or category in ("Zl", "Zp"):
            return position, character
        if category == "Zs" and character != " ":
            return position, character
    return None


def refuse_clashing_accounts(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    customers = Customer.objects.using(schema_editor.connection.alias)
    clashing_keys = list(
        customers.annotate(key=Lower("account"))
        .values("key")
        .annotate(count=Count("pk"))
        .filter(count__gt=1)
        .order_by("key")
        .values_list("key", flat=True)[:SHOWN]
    )
    clashes = []
    for key in clashing_keys:
        accounts = (
            customers.annotate(key=Lower("account"))
            .filter(key=key)
            .order_by("account")
            .values_list("account", flat=True)
        )
        clashes.append(" / ".join(accounts))
    invisible = []
    for pk, account in (
        customers.order_by("account")
        .values_list("pk", "account")
        .iterator(chunk_size=10000)
    ):
        found = invisible_character(account)
        if found is not None and len(invisible) < SHOWN:
            position, character = found
            invisible.append(
                f"{account!r} (id {pk}): U+{ord(character):04X} at position {position}"
            )
    if not clashes and not invisible:
        return
    lines = ["Customer accounts need renaming before this migration can run:"]
    if clashes:
        lines.append(
            "These accounts differ only in case; accounts are now unique whatever "
            "their case (at most %s shown):" % SHOWN
        )
        lines += [f"  {clash}" for clash in clashes]
    if invisible:
        lines.append(
            "These accounts hold an invisible character (at most %s shown):" % SHOWN
        )
        lines += [f"  {entry}" for entry in invisible]
    lines.append("Nothing was changed. Rename them and run the migration again.")
    raise CommandError("\n".join(lines))


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_terms_guarded_base_manager"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(refuse_clashing_accounts, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="customer",
            name="account",
            field=models.CharField(
                max_length=20,
                unique=True,
                validators=[customers.validators.validate_account],
                verbose_name="customer account",
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="bank_account",
            field=customers.fields.IBANField(
                blank=True, max_length=34, verbose_name="bank account (IBAN)"
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="city",
            field=models.CharField(
                blank=True,
                max_length=60,
                validators=[workflow.text.validate_text],
                verbose_name="city",
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="email",
            field=models.EmailField(
                blank=True,
                max_length=254,
                validators=[workflow.text.validate_text],
                verbose_name="email",
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="name",
            field=models.CharField(
                max_length=100,
                validators=[workflow.text.validate_text],
                verbose_name="name",
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="payment_specification",
            field=models.CharField(
                blank=True,
                max_length=30,
                validators=[workflow.text.validate_text],
                verbose_name="payment specification",
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="phone",
            field=models.CharField(
                blank=True,
                max_length=30,
                validators=[workflow.text.validate_text],
                verbose_name="phone",
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="postal_code",
            field=models.CharField(
                blank=True,
                max_length=20,
                validators=[workflow.text.validate_text],
                verbose_name="postal code",
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="street",
            field=models.CharField(
                blank=True,
                max_length=100,
                validators=[workflow.text.validate_text],
                verbose_name="street",
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="tax_exempt_number",
            field=models.CharField(
                blank=True,
                max_length=30,
                validators=[workflow.text.validate_text],
                verbose_name="tax exempt number",
            ),
        ),
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("account"),
                name="customer_account_unique_ignoring_case",
                violation_error_code="account_taken",
                violation_error_message="Another customer already has this account, perhaps written with other capitals: customer accounts are the same whatever their case.",
            ),
        ),
    ]
