from __future__ import annotations

import pytest

from tests.factories import UserFactory


@pytest.fixture
def importer_user(roles):
    user = UserFactory(username="importer")
    user.groups.add(roles["Clerks"])
    return user
