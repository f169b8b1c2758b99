"""Product flows run by the permission contract.

Adding a flow is one line: decorate a function of :class:`FlowEnv` with
``@flow(name, features)``; it returns the :class:`FlowScope` it configured.  Flows go through
the API (and ``forge_runner`` for Forge work), exactly as users do, with the call recorder on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from batchforge.client import BatchforgeClient
from batchforge.iam.catalog_model import resolve_features
from batchforge.local_aws import WORK_BUCKET, LocalAws
from batchforge.services import forge_runner
from batchforge.services.context import AppContext
from tests.compute.conftest import nothing_left
from tests.contract.contract import FlowScope
from tests.factories import keys_credentials

FORGE = resolve_features(mode="forge")
MANUAL = resolve_features(mode="manual")


@dataclass
class FlowEnv:
    api: BatchforgeClient
    app_ctx: AppContext
    aws: LocalAws
    forge_body: Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Flow:
    name: str
    features: tuple[str, ...]
    run: Callable[[FlowEnv], FlowScope]


FLOWS: list[Flow] = []


def flow(name: str, features: tuple[str, ...]) -> Callable[[Callable[[FlowEnv], FlowScope]], Any]:
    """Register a flow (the one line a new flow needs)."""

    def register(fn: Callable[[FlowEnv], FlowScope]) -> Callable[[FlowEnv], FlowScope]:
        FLOWS.append(Flow(name, features, fn))
        return fn

    return register


# --- helpers ------------------------------------------------------------------------------


def _resource_label(env: FlowEnv) -> int:
    """A resource label, so that Forge sends tags on create (where drift likes to hide)."""
    body = {"name": "team", "value": "genomics", "resource": True}
    return int(env.api.request("POST", "/labels", json=body).json()["id"])


def _forge_round_trip(env: FlowEnv, body: dict[str, Any]) -> FlowScope:
    body["labelIds"] = [_resource_label(env)]
    ce_id = env.api.request("POST", "/compute-envs", json=body).json()["computeEnvId"]
    forge_runner.run_pending(env.app_ctx)
    described = env.api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]
    assert described["status"] == "AVAILABLE", described.get("message")
    env.api.request("DELETE", f"/compute-envs/{ce_id}")
    forge_runner.run_pending(env.app_ctx)
    assert nothing_left(env.aws, ce_id)
    return FlowScope(work_dir=body["computeEnv"]["config"]["workDir"])


# --- flows --------------------------------------------------------------------------------


@flow("credentials-keys", ())
def credentials_keys(env: FlowEnv) -> FlowScope:
    credentials_id = env.api.create_credentials(keys_credentials("contract-keys"))
    assert env.api.validate_credentials(credentials_id).status == "AVAILABLE"
    return FlowScope()


@flow("credentials-role", ())
def credentials_role(env: FlowEnv) -> FlowScope:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    role = env.aws.boto_client("iam").create_role(
        RoleName="BatchforgeAccess", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    body = keys_credentials("contract-role", assumeRoleArn=role)
    credentials_id = env.api.create_credentials(body)
    assert env.api.validate_credentials(credentials_id).status == "AVAILABLE"
    return FlowScope(roles=(role,))


@flow("forge-spot", FORGE)
def forge_spot(env: FlowEnv) -> FlowScope:
    return _forge_round_trip(env, env.forge_body("contract-spot"))


@flow("forge-efs-fsx", (*FORGE, "efs", "fsx"))
def forge_efs_fsx(env: FlowEnv) -> FlowScope:
    body = env.forge_body(
        "contract-storage", efsCreate=True, efsMount="/mnt/efs", fsxSize=1200, fsxMount="/fsx"
    )
    return _forge_round_trip(env, body)


@flow("manual", MANUAL)
def manual(env: FlowEnv) -> FlowScope:
    batch, iam = env.aws.boto_client("batch"), env.aws.boto_client("iam")
    role = iam.create_role(RoleName="svc", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    ce = batch.create_compute_environment(
        computeEnvironmentName="mine", type="UNMANAGED", serviceRole=role
    )["computeEnvironmentArn"]
    queues = ("my-head", "my-work")
    for name in queues:
        order = [{"order": 1, "computeEnvironment": ce}]
        batch.create_job_queue(
            jobQueueName=name, state="ENABLED", priority=1, computeEnvironmentOrder=order
        )
    credentials_id = env.api.create_credentials(keys_credentials("contract-manual"))
    work_dir = f"s3://{WORK_BUCKET}/manual"
    body = {
        "computeEnv": {
            "name": "contract-manual",
            "platform": "aws-batch",
            "credentialsId": credentials_id,
            "config": {
                "region": "us-east-1",
                "workDir": work_dir,
                "headQueue": queues[0],
                "computeQueue": queues[1],
            },
        }
    }
    ce_id = env.api.request("POST", "/compute-envs", json=body).json()["computeEnvId"]
    env.api.request("DELETE", f"/compute-envs/{ce_id}")
    return FlowScope(work_dir=work_dir, queues=queues)
