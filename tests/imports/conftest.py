from __future__ import annotations

import pytest

from tests.factories import UserFactory

HEADER = "account;name;customer_group;credit_limit;bank_account;payment_terms;phone\n"


@pytest.fixture
def importer(roles):
    user = UserFactory(username="importer")
    user.groups.add(roles["Clerks"])
    return user


@pytest.fixture
def write_file(tmp_path):
    def write(text: str, name: str = "customers.csv", encoding: str = "utf-8") -> str:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return str(path)

    return write
