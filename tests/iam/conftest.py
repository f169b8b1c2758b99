"""Fixtures for the IAM tests (see :mod:`tests.iam.seed` for where the seed comes from)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.iam.seed import seed_full_policy_text


@pytest.fixture(scope="session")
def seed_full_text() -> str:
    return seed_full_policy_text()


@pytest.fixture(scope="session")
def seed_full() -> dict[str, Any]:
    return json.loads(seed_full_policy_text())
