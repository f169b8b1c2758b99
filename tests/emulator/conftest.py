"""Executing-emulator fixtures: execution on, queues, a head-job role, and job helpers that
talk to the emulator over HTTP (boto3 with its default identity, as an AWS account would)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from batchforge.local_aws import ACCOUNT_ID, WORK_BUCKET, LocalAws
from tests.runs.conftest import HEAD_QUEUE, WORK_QUEUE, make_queues

TRUST_ECS_TASKS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}
FINAL = ("SUCCEEDED", "FAILED")


def head_role_policy(pass_to: str = "batch.amazonaws.com") -> dict[str, Any]:
    """What Nextflow's head job needs (seqeralabs/nf-tower-aws launch policy, trimmed):
    Batch, the work bucket, logs, and PassRole of the task roles to ``pass_to``."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["batch:*"], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["s3:*"],
                "Resource": [f"arn:aws:s3:::{WORK_BUCKET}", f"arn:aws:s3:::{WORK_BUCKET}/*"],
            },
            {"Effect": "Allow", "Action": ["logs:*"], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": f"arn:aws:iam::{ACCOUNT_ID}:role/*",
                "Condition": {"StringEquals": {"iam:PassedToService": pass_to}},
            },
        ],
    }


def make_role(aws: LocalAws, policy: dict[str, Any]) -> str:
    iam = aws.boto_client("iam")
    name = f"bf-emu-head-{uuid.uuid4().hex[:6]}"
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_ECS_TASKS))[
        "Role"
    ]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="head", PolicyDocument=json.dumps(policy))
    return str(arn)


@dataclass
class Emu:
    """The executing emulator with two queues and a head-job role."""

    aws: LocalAws
    role: str
    head_queue: str = HEAD_QUEUE
    work_queue: str = WORK_QUEUE

    def definition(self, role: str | None = None, **props: Any) -> str:
        container = {
            "image": "public.cr.seqera.io/nextflow/nextflow:24.10.5",
            "command": ["true"],
            "jobRoleArn": role or self.role,
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "1024"},
            ],
            **props,
        }
        answer = self.aws.boto_client("batch").register_job_definition(
            jobDefinitionName=f"bf-emu-{uuid.uuid4().hex[:6]}",
            type="container",
            containerProperties=container,
        )
        return str(answer["jobDefinitionArn"])

    def submit(
        self,
        command: list[str],
        env: dict[str, str] | None = None,
        definition: str | None = None,
        head: bool = True,
        **overrides: Any,
    ) -> str:
        request: dict[str, Any] = {
            "jobName": f"bf-emu-{uuid.uuid4().hex[:6]}",
            "jobQueue": self.head_queue,
            "jobDefinition": definition or self.definition(),
            "containerOverrides": {
                "command": command,
                "environment": [{"name": k, "value": v} for k, v in (env or {}).items()],
                **overrides,
            },
        }
        if head:
            request["tags"] = {"batchforge:run-id": uuid.uuid4().hex[:10]}
        return str(self.aws.boto_client("batch").submit_job(**request)["jobId"])

    def describe(self, job_id: str) -> dict[str, Any]:
        return dict(self.aws.boto_client("batch").describe_jobs(jobs=[job_id])["jobs"][0])

    def wait(self, job_id: str, states: tuple[str, ...] = FINAL, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        seen = self.describe(job_id)
        while seen["status"] not in states and time.monotonic() < deadline:
            time.sleep(0.2)
            seen = self.describe(job_id)
        assert seen["status"] in states, seen
        return seen

    def log(self, job: dict[str, Any], group: str = "/aws/batch/job") -> list[str]:
        events = self.aws.boto_client("logs").get_log_events(
            logGroupName=group,
            logStreamName=job["container"]["logStreamName"],
            startFromHead=True,
        )["events"]
        return [e["message"] for e in events]

    def nextflow(
        self,
        config: str,
        args: str,
        env: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        definition: str | None = None,
    ) -> dict[str, Any]:
        """A head job that writes ``config`` (and ``params``) and runs ``nextflow run ARGS``
        (``-c nf.config`` and ``-params-file params.json`` added); the finished job."""
        script = 'printf %s "$NF_CONFIG" | base64 -d > nf.config'
        values = {"NF_CONFIG": base64.b64encode(config.encode()).decode(), **(env or {})}
        extra = ""
        if params is not None:
            script += ' && printf %s "$NF_PARAMS" > params.json'
            values["NF_PARAMS"] = json.dumps(params)
            extra = " -params-file params.json"
        script += f" && nextflow run nextflow-io/hello {args} -c nf.config{extra}"
        job_id = self.submit(["bash", "-c", script], values, definition=definition)
        return self.wait(job_id)


def config_text(emu: Emu, **overrides: str) -> str:
    """The config batchforge generates (interfaces.md section 2), with ``overrides``."""
    values = {
        "process.executor": "awsbatch",
        "process.queue": emu.work_queue,
        "workDir": f"s3://{WORK_BUCKET}/work",
        "aws.region": "us-east-1",
        "aws.batch.jobRole": emu.role,
        "aws.batch.executionRole": emu.role,
        **overrides,
    }
    return "\n".join(f"{k} = '{v}'" for k, v in values.items()) + "\n"


@pytest.fixture
def emu(aws: LocalAws) -> Iterator[Emu]:
    aws.set_execution(True)
    make_queues(aws)
    yield Emu(aws, make_role(aws, head_role_policy()))
    aws.set_execution(False)
