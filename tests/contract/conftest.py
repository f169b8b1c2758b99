"""Contract fixtures: the compute fixtures (real-AWS rules, fast pacing, request bodies), on
SQLite only -- the database plays no part in which AWS calls a flow makes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from batchforge.local_aws import LocalAws
from tests.compute.conftest import credentials_id, forge_body, network, rules  # noqa: F401


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'batchforge.db'}"


@pytest.fixture
def aws(request: pytest.FixtureRequest, local_aws: LocalAws) -> LocalAws:
    """A fresh account, unless the flow under test says it needs none (``fresh_account``)."""
    callspec = getattr(request.node, "callspec", None)
    flow = callspec.params.get("flow") if callspec is not None else None
    if flow is None or flow.fresh_account:
        local_aws.reset()
    return local_aws
