"""Trace fixtures: raw HTTP to the app (as the nf-tower plugin speaks it) and runs to report."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from batchforge.db import models
from batchforge.services.accounts import bootstrap_admin
from batchforge.services.context import AppContext
from batchforge.services.ids import new_id


def basic(token: str) -> dict[str, str]:
    """nf-tower 1.9.3's header for a token that is not a JWT (TowerClient.setAuthToken)."""
    encoded = base64.b64encode(f"@token:{token}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def http(app_ctx: AppContext) -> Iterator[TestClient]:
    from batchforge.server.app import create_app

    with TestClient(create_app(app_ctx), base_url="http://batchforge.test") as client:
        yield client


@pytest.fixture
def admin(app_ctx: AppContext) -> tuple[str, int]:
    """The admin's API token and default workspace id."""
    boot = bootstrap_admin(app_ctx)
    assert boot.token is not None
    return boot.token, boot.workspace_id


def make_run(ctx: AppContext, workspace_id: int, **values: Any) -> str:
    """A launched run's row (as launches.launch records it), submitted, RUNNING in Batch."""
    run_id = new_id()
    row = {
        "id": run_id,
        "workspace_id": workspace_id,
        "region": "us-east-1",
        "run_name": f"run-{run_id.lower()}",
        "repository": "https://github.com/nextflow-io/hello",
        "work_dir": "s3://bf-work/work",
        "session_id": "00000000-0000-0000-0000-000000000000",
        "status": "SUBMITTED",
        "submit_state": "submitted",
        "job_name": f"bf-{run_id}",
        "job_queue": "head-queue",
        "user_name": "admin",
        **values,
    }
    with ctx.db.transaction() as session:
        session.add(models.Run(**row))
    return run_id


# Launched runs on the emulator, with the Batch job layer (tests/runs/conftest.py).
from tests.runs.conftest import env_id, jobs, launch  # noqa: E402, F401
