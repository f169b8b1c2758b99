"""Compute-environment fixtures: real-AWS rules at the boundary, fast pacing, request bodies."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.db import models
from batchforge.forge.waits import Pacing
from batchforge.local_aws import WORK_BUCKET, LocalAws
from batchforge.services.context import AppContext
from tests.awsrules import AwsRules
from tests.factories import keys_credentials


@dataclass
class Network:
    vpc: str
    subnets: list[str]
    security_group: str


@pytest.fixture
def rules(app_ctx: AppContext) -> AwsRules:
    installed = AwsRules()
    app_ctx.aws.event_hooks.extend(installed.hooks())
    app_ctx.pacing = Pacing(interval=0.0, retry_interval=0.0, timeout=30, retry_timeout=5)
    return installed


@pytest.fixture
def network(request: pytest.FixtureRequest, local_aws: LocalAws) -> Network:
    """The default VPC's network.  A test that also asks for ``aws`` (a fresh account) gets
    the network of the fresh account; others skip the ~1 s reset."""
    aws = request.getfixturevalue("aws") if "aws" in request.fixturenames else local_aws
    ec2 = aws.boto_client("ec2")
    vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
    subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc)
    group = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "SecurityGroups"
    ][0]["GroupId"]
    return Network(vpc, subnets, group)


@pytest.fixture
def credentials_id(api: BatchforgeClient) -> str:
    return api.create_credentials(keys_credentials("aws"))


@pytest.fixture
def forge_body(credentials_id: str, network: Network) -> Iterator[Any]:
    def build(name: str = "forged", **forge: Any) -> dict[str, Any]:
        config: dict[str, Any] = {
            "type": "SPOT",
            "minCpus": 0,
            "maxCpus": 64,
            "instanceTypes": ["optimal"],
            "vpcId": network.vpc,
            "subnets": network.subnets[:2],
            "securityGroups": [network.security_group],
        }
        config.update(forge)
        return {
            "computeEnv": {
                "name": name,
                "platform": "aws-batch",
                "credentialsId": credentials_id,
                "config": {
                    "region": "us-east-1",
                    "workDir": f"s3://{WORK_BUCKET}/work",
                    "forge": config,
                },
            }
        }

    yield build


def forged_names(aws: LocalAws, ce_id: str) -> dict[str, list[str]]:
    """Every AWS resource in the emulator whose name carries ``ce_id``, by kind."""
    iam, ec2, batch = aws.boto_client("iam"), aws.boto_client("ec2"), aws.boto_client("batch")
    efs, fsx = aws.boto_client("efs"), aws.boto_client("fsx")
    mark = f"TowerForge-{ce_id}"
    found = {
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"]],
        "instance_profiles": [
            p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]
        ],
        "launch_templates": [
            t["LaunchTemplateName"] for t in ec2.describe_launch_templates()["LaunchTemplates"]
        ],
        "compute_environments": [
            c["computeEnvironmentName"]
            for c in batch.describe_compute_environments()["computeEnvironments"]
        ],
        "job_queues": [q["jobQueueName"] for q in batch.describe_job_queues()["jobQueues"]],
        "efs": [f.get("CreationToken", "") for f in efs.describe_file_systems()["FileSystems"]],
        "fsx": [
            next((t["Value"] for t in f.get("Tags", []) if t["Key"] == "Name"), "")
            for f in fsx.describe_file_systems()["FileSystems"]
        ],
    }
    return {kind: sorted(n for n in names if mark in n) for kind, names in found.items()}


def nothing_left(aws: LocalAws, ce_id: str) -> bool:
    return not any(forged_names(aws, ce_id).values())


WAIT = 180.0
"""Seconds a test waits for background Forge work (generous: a busy 2-core machine)."""


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Poll ``condition`` until true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def env_row(app_ctx: AppContext, ce_id: str) -> models.ComputeEnv:
    """The environment's row as stored now (detached)."""
    with app_ctx.db.transaction() as session:
        row = session.get(models.ComputeEnv, ce_id)
        assert row is not None
        session.expunge(row)
        return row


def env_gone(api: BatchforgeClient, ce_id: str) -> bool:
    """True once the environment is deleted: read by id it answers status DELETED (a
    tombstone, for ``tw compute-envs delete --wait``), or 404 once that has expired."""
    try:
        found = api.request("GET", f"/compute-envs/{ce_id}").json()
    except ApiError as error:
        return error.status == 404
    return bool(found["computeEnv"]["status"] == "DELETED" and found["computeEnv"]["deleted"])
