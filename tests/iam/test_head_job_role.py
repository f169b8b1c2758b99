"""The forged head-job role allows what Nextflow's awsbatch executor calls (review finding 1).

Nextflow registers one job definition per task container with ``jobRoleArn`` (``aws.batch.
jobRole``) and ``executionRoleArn`` (``aws.batch.executionRole``), then submits, describes and
terminates task jobs (nf-amazon 24.10.5 ``AwsBatchTaskHandler.groovy``: ``setJobRoleArn``/
``setExecutionRoleArn`` in ``makeJobDefRequest``, ``registerJobDefinition``, ``submitJob``,
``describeJobs``, ``terminateJob``).  Handing a role to a service is authorised as
``iam:PassRole`` on the role with ``iam:PassedToService`` = the service that receives it --
for a job definition that is AWS Batch (IAM User Guide, "Grant a user permissions to pass a role
to an AWS service", https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html;
seqeralabs/nf-tower-aws launch policy, statement "PassRolesToBatch").
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from batchforge.forge.plan import build_plan
from batchforge.forge.spec import ForgeSpec
from batchforge.iam.enforce import Enforcer
from batchforge.local_aws import ACCOUNT_ID

REGION = "eu-west-1"
SPEC = ForgeSpec(ce_id="ce1", region=REGION, work_dir="s3://nf-work/runs")
ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/TowerForge-ce1-"
WORK_QUEUE = "TowerForge-ce1-work"


def head_job_policy(spec: ForgeSpec = SPEC) -> dict[str, Any]:
    """The inline policy of the head-job role, as Forge's plan makes it."""
    (role,) = [r for r in build_plan(spec) if r.key == "head-job-role"]
    return dict(role.params["inline"]["batchforge-head-job"])


def at_ed4dc55(policy: dict[str, Any]) -> dict[str, Any]:
    """``policy`` with the PassRole statement as plan.py wrote it at ed4dc55 (before the fix):
    PassRole to ``ecs-tasks.amazonaws.com`` only."""
    old = copy.deepcopy(policy)
    statements = [s for s in old["Statement"] if s.get("Action") != "iam:PassRole"]
    statements.append(
        {
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": "arn:aws:iam::*:role/TowerForge-ce1*",
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        }
    )
    old["Statement"] = statements
    return old


def register_task_definition() -> dict[str, Any]:
    """What Nextflow sends for a task container on a forged environment."""
    return {
        "jobDefinitionName": "nf-quay-io-nextflow-bash-latest",
        "type": "container",
        "parameters": {"nf-token": "0123456789abcdef"},
        "tags": {"nextflow.io/createdAt": "2026-12-01T23:00:00Z", "nextflow.io/version": "24.10.5"},
        "containerProperties": {
            "image": "quay.io/nextflow/bash:latest",
            "command": ["true"],
            "resourceRequirements": [{"type": "VCPU", "value": "1"}],
            "jobRoleArn": f"{ROLE}HeadJobRole",
            "executionRoleArn": f"{ROLE}ExecutionRole",
        },
    }


NEXTFLOW_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("batch", "DescribeJobDefinitions", {"jobDefinitionName": "nf-quay-io-nextflow-bash-latest"}),
    ("batch", "RegisterJobDefinition", register_task_definition()),
    (
        "batch",
        "SubmitJob",
        {
            "jobName": "tw-4yZWp3dTQYGNxg-sayHello",
            "jobQueue": WORK_QUEUE,
            "jobDefinition": "nf-quay-io-nextflow-bash-latest:1",
        },
    ),
    ("batch", "DescribeJobs", {"jobs": ["8b7e0f0c-1111-2222-3333-444455556666"]}),
    ("batch", "TerminateJob", {"jobId": "8b7e0f0c-1111-2222-3333-444455556666", "reason": "x"}),
    ("s3", "PutObject", {"Bucket": "nf-work", "Key": "runs/ab/cdef/.command.run"}),
    ("s3", "GetObject", {"Bucket": "nf-work", "Key": "runs/ab/cdef/.exitcode"}),
    ("s3", "ListObjectsV2", {"Bucket": "nf-work", "Prefix": "runs/ab/cdef/"}),
    ("logs", "GetLogEvents", {"logGroupName": "/aws/batch/job", "logStreamName": "nf/x/y"}),
]


def test_finding_1_the_ed4dc55_head_job_role_cannot_register_task_definitions() -> None:
    """At ed4dc55 every task on a forged environment was refused iam:PassRole."""
    enforcer = Enforcer([at_ed4dc55(head_job_policy())], ACCOUNT_ID, principal=f"{ROLE}HeadJob")
    denial = enforcer.check("batch", "RegisterJobDefinition", register_task_definition(), REGION)
    assert denial is not None
    assert f"iam:PassRole on resource: {ROLE}HeadJobRole" in denial
    assert "needed for batch:RegisterJobDefinition" in denial


@pytest.mark.parametrize(
    ("service", "operation", "params"), NEXTFLOW_CALLS, ids=[c[1] for c in NEXTFLOW_CALLS]
)
def test_the_forged_head_job_role_allows_nextflows_calls(
    service: str, operation: str, params: dict[str, Any]
) -> None:
    enforcer = Enforcer([head_job_policy()], ACCOUNT_ID, principal=f"{ROLE}HeadJobRole")
    assert enforcer.check(service, operation, params, REGION) is None


def test_the_forged_head_job_role_passes_no_role_outside_the_environment() -> None:
    enforcer = Enforcer([head_job_policy()], ACCOUNT_ID)
    foreign = register_task_definition()
    foreign["containerProperties"]["jobRoleArn"] = f"arn:aws:iam::{ACCOUNT_ID}:role/Admin"
    denial = enforcer.check("batch", "RegisterJobDefinition", foreign, REGION)
    assert denial is not None and "iam:PassRole on resource: arn:aws:iam::" in denial
