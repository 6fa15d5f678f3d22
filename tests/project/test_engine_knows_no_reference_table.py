"""The engine took terms of payment and cash discounts as it took customers: from their
app's registration, without a word about them in its own code or templates."""

from __future__ import annotations

import re
from pathlib import Path

from customers.models import CashDiscount, PaymentTerms
from workflow import registry

ROOT = Path(__file__).resolve().parents[2]
ENGINE = [
    ROOT / "workflow",
    ROOT / "templates" / "admin" / "workflow",
    ROOT / "templates" / "workflow",
]
# The model names in every spelling the code could use: PaymentTerms,
# customers_paymentterms, customers.cashdiscount, "CASHDISCOUNT" …
MENTION = re.compile(r"paymentterms|cashdiscount", re.IGNORECASE)


def mentions(paths: list[Path]) -> list[str]:
    found = []
    for base in paths:
        for path in sorted(base.rglob("*")):
            if not path.is_file() or path.suffix in {".pyc", ".mo"}:
                continue
            name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            text = path.read_text(encoding="utf-8", errors="replace")
            for number, line in enumerate(text.splitlines(), start=1):
                if MENTION.search(line):
                    found.append(f"{name}:{number}: {line.strip()}")
    return found


def test_the_engine_never_mentions_the_governed_reference_tables():
    assert mentions(ENGINE) == []


def test_the_scan_finds_a_mention(tmp_path):
    (tmp_path / "probe.py").write_text("if model is CashDiscount:\n    pass\n")
    (tmp_path / "probe.html").write_text(
        "{% url 'admin:customers_paymentterms_change' %}"
    )
    assert len(mentions([tmp_path])) == 2


def test_the_reference_tables_are_governed_by_their_registration():
    assert registry.get(PaymentTerms).governable_field_names == ("days",)
    assert registry.get(CashDiscount).governable_field_names == ("days", "percentage")
    assert registry.get(PaymentTerms).business_key == "code"
