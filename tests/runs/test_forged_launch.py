"""A launch on a forged environment uses the roles and queues Forge made."""

from __future__ import annotations

from typing import Any

from batchforge.client import BatchforgeClient
from batchforge.services import forge_runner
from batchforge.services.context import AppContext
from tests.batchjobs import BatchJobs
from tests.compute.conftest import (  # noqa: F401 - fixtures
    credentials_id,
    forge_body,
    network,
    rules,
)
from tests.runs.headjob_text import launch_files


def test_the_head_job_runs_with_the_forged_roles_on_the_forged_queues(
    api: BatchforgeClient,
    app_ctx: AppContext,
    rules: Any,  # noqa: F811
    forge_body: Any,  # noqa: F811
    jobs: BatchJobs,
    local_aws: Any,
) -> None:
    ce_id = api.create_compute_env(forge_body("forged-for-runs")["computeEnv"])
    forge_runner.run_pending(app_ctx)
    env = api.describe_compute_env(ce_id)
    assert env.status == "AVAILABLE"
    arns = {r["name"]: r["arn"] for r in env.config.forgedResources if r["type"] == "iam-role"}
    run_id = api.launch_workflow({"computeEnvId": ce_id, "pipeline": "nextflow-io/hello"})
    request = jobs.submits[0]
    assert request["jobQueue"] == f"TowerForge-{ce_id}-head"
    definition = local_aws.boto_client("batch").describe_job_definitions(
        jobDefinitions=[request["jobDefinition"]]
    )["jobDefinitions"][0]["containerProperties"]
    assert definition["jobRoleArn"] == arns[f"TowerForge-{ce_id}-HeadJobRole"]
    assert definition["executionRoleArn"] == arns[f"TowerForge-{ce_id}-ExecutionRole"]
    config = launch_files(local_aws, request)["batchforge.config"]
    assert f"process.queue = 'TowerForge-{ce_id}-work'" in config
    assert "aws.batch.cliPath = '/home/ec2-user/miniconda/bin/aws'" in config
    assert f"aws.batch.executionRole = '{arns[f'TowerForge-{ce_id}-ExecutionRole']}'" in config
    assert api.describe_workflow(run_id).workflow.status == "SUBMITTED"
