"""Disposing of a forged environment deregisters the head job definitions only its runs used,
when batch:DeregisterJobDefinition is granted; a refusal never fails or blocks the disposal."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from batchforge.client import BatchforgeClient
from batchforge.db import models
from batchforge.local_aws import LocalAws
from batchforge.services import forge_runner
from batchforge.services.context import AppContext
from batchforge.settings import Settings
from tests.batchjobs import BatchJobs
from tests.compute.conftest import (  # noqa: F401 - fixtures
    credentials_id,
    forge_body,
    network,
    nothing_left,
    rules,
)
from tests.runs.conftest import manual_env, run_row

OTHER_IMAGE = "quay.io/example/nextflow:24.04.4"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Shared head job definitions are what this module disposes of: the trace token, which
    gives each run with an execution role a definition of its own, is off here."""
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, trace_token_delivery="off"
    )


def _forged(api: BatchforgeClient, app_ctx: AppContext, body: dict[str, Any]) -> str:
    ce_id = api.create_compute_env(body["computeEnv"])
    forge_runner.run_pending(app_ctx)
    assert api.describe_compute_env(ce_id).status == "AVAILABLE"
    return ce_id


def _launch(api: BatchforgeClient, ce_id: str, **fields: Any) -> str:
    return api.launch_workflow({"computeEnvId": ce_id, "pipeline": "nextflow-io/hello", **fields})


def _definition(app_ctx: AppContext, run_id: str) -> str:
    arn = run_row(app_ctx, run_id).job_definition
    assert arn is not None
    return arn


def _statuses(aws: LocalAws, *arns: str) -> dict[str, str]:
    found = aws.boto_client("batch").describe_job_definitions(jobDefinitions=list(arns))
    return {d["jobDefinitionArn"]: d["status"] for d in found["jobDefinitions"]}


def _dispose(api: BatchforgeClient, app_ctx: AppContext, ce_id: str) -> models.ComputeEnv:
    api.request("DELETE", f"/compute-envs/{ce_id}")
    forge_runner.run_pending(app_ctx)
    with app_ctx.db.transaction() as session:
        row = session.get(models.ComputeEnv, ce_id)
        assert row is not None
        return row


def test_only_definitions_no_live_environment_uses_are_deregistered(
    api: BatchforgeClient,
    app_ctx: AppContext,
    rules: Any,  # noqa: F811
    forge_body: Any,  # noqa: F811
    credentials_id: str,  # noqa: F811
    jobs: BatchJobs,
    local_aws: LocalAws,
) -> None:
    forged = _forged(api, app_ctx, forge_body("retire-defs"))
    roles = {
        r["name"]: r["arn"]
        for r in api.describe_compute_env(forged).config.forgedResources
        if r["type"] == "iam-role"
    }
    sharing = manual_env(  # the same launcher image and roles: the same head job definition
        api,
        local_aws,
        credentials_id,
        headJobRole=roles[f"TowerForge-{forged}-HeadJobRole"],
        executionRole=roles[f"TowerForge-{forged}-ExecutionRole"],
    )
    shared = _definition(app_ctx, _launch(api, forged))
    assert _definition(app_ctx, _launch(api, sharing)) == shared
    own = _definition(app_ctx, _launch(api, forged, launchContainer=OTHER_IMAGE))
    assert own != shared

    app_ctx.recorder.clear()
    row = _dispose(api, app_ctx, forged)
    assert row.deleted and row.status == "DELETED" and row.message is None
    assert nothing_left(local_aws, forged)
    assert _statuses(local_aws, shared, own) == {shared: "ACTIVE", own: "INACTIVE"}
    deregistered = [c for c in app_ctx.recorder.calls if c.operation == "DeregisterJobDefinition"]
    assert [c.params["jobDefinition"] for c in deregistered] == [own]  # one call, no describe

    # The process forgot the retired ARN: the same configuration gets a fresh revision.
    again = _definition(app_ctx, _launch(api, sharing, launchContainer=OTHER_IMAGE))
    assert again != own and again.rsplit(":", 1)[0] == own.rsplit(":", 1)[0]
    assert jobs.submits[-1]["jobDefinition"] == again
    assert _statuses(local_aws, again) == {again: "ACTIVE"}


def test_a_denied_deregistration_does_not_block_the_disposal(
    api: BatchforgeClient,
    app_ctx: AppContext,
    rules: Any,  # noqa: F811
    forge_body: Any,  # noqa: F811
    jobs: BatchJobs,
    local_aws: LocalAws,
    caplog: pytest.LogCaptureFixture,
) -> None:
    forged = _forged(api, app_ctx, forge_body("retire-denied"))
    first = _definition(app_ctx, _launch(api, forged))
    second = _definition(app_ctx, _launch(api, forged, launchContainer=OTHER_IMAGE))
    jobs.deny("DeregisterJobDefinition")

    with caplog.at_level(logging.INFO, logger="batchforge"):
        row = _dispose(api, app_ctx, forged)
    assert row.deleted and row.status == "DELETED" and row.operation is None
    assert nothing_left(local_aws, forged)
    assert jobs.calls["DeregisterJobDefinition"] == 1  # the first refusal stops it
    assert _statuses(local_aws, first, second) == {first: "ACTIVE", second: "ACTIVE"}
    note = row.message or ""
    assert "batch:DeregisterJobDefinition was denied" in note
    assert "OptionalExtraBatchHousekeeping" in note and "optional" in note
    assert first.rsplit("/", 1)[1] in note and second.rsplit("/", 1)[1] in note
    assert any(note in record.getMessage() for record in caplog.records)
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
