"""The permission contract for what Nextflow does inside the head job, on a forged environment.

The emulator executes the head job's real command (interfaces.md section 4) with the Nextflow
stand-in, which makes Nextflow's AWS calls with the head-job role's credentials and logs each one
(``LocalAws.standin_calls()``, section 6).  Every call made with the forged head-job role must be
allowed by that role's own policies, as AWS's authoriser would decide it (batchforge's evaluator
through :class:`batchforge.iam.enforce.Enforcer`).  Nextflow's calls: nf-amazon 24.10.5
``AwsBatchTaskHandler.groovy`` (job definition with ``jobRoleArn``/``executionRoleArn``, SubmitJob,
DescribeJobs, TerminateJob) and the S3 work dir; PassRole to a job definition is checked as
``iam:PassedToService`` = ``batch.amazonaws.com`` (IAM User Guide, id_roles_use_passrole).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from batchforge.client import BatchforgeClient
from batchforge.iam.enforce import Enforcer, policies_for_principal
from batchforge.local_aws import ACCOUNT_ID, LocalAws
from batchforge.services.context import AppContext
from tests.awsrules import AwsRules
from tests.contract.flows import FlowEnv, _forge
from tests.emulator.live import port, server, settings  # noqa: F401 - fixtures
from tests.runs.conftest import wait_run_end


@pytest.mark.usefixtures("server")  # the head job reports its trace there
def test_nextflows_calls_with_the_forged_head_job_role_keep_the_contract(
    api: BatchforgeClient,
    app_ctx: AppContext,
    aws: LocalAws,
    rules: AwsRules,
    forge_body: Callable[..., dict[str, Any]],
) -> None:
    ce_id = _forge(FlowEnv(api, app_ctx, aws, forge_body), forge_body("contract-head-job"))
    role = f"arn:aws:iam::{ACCOUNT_ID}:role/TowerForge-{ce_id}-HeadJobRole"
    aws.set_execution(True)
    try:
        body = {
            "computeEnvId": ce_id,
            "pipeline": "nextflow-io/hello",
            "paramsText": '{"standin_tasks": 2}',
        }
        status = wait_run_end(api, app_ctx, api.launch_workflow(body))
        calls = aws.standin_calls()
    finally:
        aws.set_execution(False)
    mine = [c for c in calls if c["principal"] == role]
    denied = [f"{c['service']}:{c['operation']}: {c['denied']}" for c in mine if c["denied"]]
    assert not denied, "the head-job role was refused:\n" + "\n".join(denied)
    assert status == "SUCCEEDED"
    operations = {f"{c['service']}:{c['operation']}" for c in mine}
    assert {"batch:RegisterJobDefinition", "batch:SubmitJob"} <= operations, operations
    # Decided again here, independently of the stand-in's own enforcement.
    enforcer = Enforcer(policies_for_principal(aws.boto_client("iam"), role), ACCOUNT_ID, role)
    refused = [
        f"{c['service']}:{c['operation']}: {why}"
        for c in mine
        if (why := enforcer.check(c["service"], c["operation"], c["params"], c["region"]))
    ]
    assert not refused, "\n".join(refused)
