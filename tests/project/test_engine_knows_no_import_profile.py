"""The engine reads other systems' files through profiles the apps register: it knows
no Dynamics 365 column, as it knows no customer field."""

from __future__ import annotations

import re

from customers.import_profiles import CUSTOMERS_V3_COLUMNS, D365_CUSTOMERS_V3
from customers.models import Customer
from tests.project.test_engine_knows_no_reference_table import ENGINE, mentions
from workflow.importing import profiles

# The entity's columns that have a field here, and the entity's own names.
COLUMNS = re.compile(
    r"CUSTOMERACCOUNT|ORGANIZATIONNAME|CREDITLIMIT|CUSTOMERGROUPID|PAYMENTTERMS"
    r"|ADDRESSCOUNTRYREGIONID|INVOICEACCOUNT|CustomersV3|CustCustomerV3Entity"
)


def test_the_engine_never_names_a_customers_v3_column(monkeypatch):
    import tests.project.test_engine_knows_no_reference_table as scan

    monkeypatch.setattr(scan, "MENTION", COLUMNS)
    assert mentions(ENGINE) == []


def test_the_scan_finds_a_column(tmp_path, monkeypatch):
    import tests.project.test_engine_knows_no_reference_table as scan

    monkeypatch.setattr(scan, "MENTION", COLUMNS)
    (tmp_path / "probe.py").write_text('COLUMNS = {"CUSTOMERACCOUNT": "account"}\n')
    assert len(mentions([tmp_path])) == 1


def test_the_customers_app_registers_the_customers_v3_profile():
    profile = profiles.get(Customer, D365_CUSTOMERS_V3)
    assert [p.name for p in profiles.profiles_for(Customer)] == [D365_CUSTOMERS_V3]
    mapping = profile.map_header(CUSTOMERS_V3_COLUMNS)
    assert (len(mapping.sources), len(mapping.ignored), mapping.unknown) == (
        22,
        len(CUSTOMERS_V3_COLUMNS) - 22,
        [],
    )
