"""Contract fixtures: the compute fixtures (real-AWS rules, fast pacing, request bodies), on
SQLite only -- the database plays no part in which AWS calls a flow makes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compute.conftest import credentials_id, forge_body, network, rules  # noqa: F401


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'batchforge.db'}"
