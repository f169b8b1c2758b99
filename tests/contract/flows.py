"""Product flows run by the permission contract.

Adding a flow is one line: decorate a function of :class:`FlowEnv` with
``@flow(name, features)``; it returns the :class:`FlowScope` it configured.  Flows go through
the API (and ``forge_runner`` for Forge work), exactly as users do, with the call recorder on.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from batchforge.client import BatchforgeClient
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.iam.catalog_model import resolve_features
from batchforge.launch import jobdefs
from batchforge.local_aws import WORK_BUCKET, LocalAws
from batchforge.services import forge_runner, run_secrets, run_tracker
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
    fresh_account: bool = True
    """False for a flow whose resources are all uniquely named (nothing another test could
    see or count): it skips the emulator reset (~2 s)."""


FLOWS: list[Flow] = []


def flow(
    name: str, features: tuple[str, ...], fresh_account: bool = True
) -> Callable[[Callable[[FlowEnv], FlowScope]], Any]:
    """Register a flow (the one line a new flow needs)."""

    def register(fn: Callable[[FlowEnv], FlowScope]) -> Callable[[FlowEnv], FlowScope]:
        FLOWS.append(Flow(name, features, fn, fresh_account))
        return fn

    return register


# --- helpers ------------------------------------------------------------------------------


def _resource_label(env: FlowEnv) -> int:
    """A resource label, so that Forge sends tags on create (where drift likes to hide)."""
    body = {"name": "team", "value": "genomics", "resource": True}
    return int(env.api.request("POST", "/labels", json=body).json()["id"])


def _forge(env: FlowEnv, body: dict[str, Any]) -> str:
    body["labelIds"] = [_resource_label(env)]
    ce_id = env.api.request("POST", "/compute-envs", json=body).json()["computeEnvId"]
    forge_runner.run_pending(env.app_ctx)
    described = env.api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]
    assert described["status"] == "AVAILABLE", described.get("message")
    return str(ce_id)


def _forge_round_trip(env: FlowEnv, body: dict[str, Any], runs: int = 0) -> FlowScope:
    ce_id = _forge(env, body)
    for _ in range(runs):  # their head job definition is deregistered at disposal (an extra)
        _launch(env, ce_id)
    env.api.request("DELETE", f"/compute-envs/{ce_id}")
    forge_runner.run_pending(env.app_ctx)
    assert nothing_left(env.aws, ce_id)
    if runs:
        assert "batch:DeregisterJobDefinition" in _called(env)
        with env.app_ctx.db.transaction() as session:
            definition = session.scalars(select(models.Run.job_definition)).first()
        assert definition
        found = env.aws.boto_client("batch").describe_job_definitions(jobDefinitions=[definition])[
            "jobDefinitions"
        ]
        assert [d["status"] for d in found] == ["INACTIVE"]
    return FlowScope(work_dir=body["computeEnv"]["config"]["workDir"])


def _launch(env: FlowEnv, ce_id: str) -> str:
    """A run with the environment's resource label (SubmitJob sends tags)."""
    labels = [label["id"] for label in env.api.request("GET", "/labels").json()["labels"]]
    body = {"computeEnvId": ce_id, "pipeline": "nextflow-io/hello", "labelIds": labels}
    return env.api.launch_workflow(body)


def _launched(env: FlowEnv, runs: int = 1) -> tuple[list[str], FlowScope]:
    """Set-up for the run flows: a forged environment and runs on it; the recorder is cleared
    after, so the flow checks only what comes next."""
    body = env.forge_body("contract-runs")
    ce_id = _forge(env, body)
    run_ids = [_launch(env, ce_id) for _ in range(runs)]
    env.app_ctx.recorder.clear()
    return run_ids, FlowScope(work_dir=body["computeEnv"]["config"]["workDir"])


def _called(env: FlowEnv) -> list[str]:
    return [call.name for call in env.app_ctx.recorder.calls]


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


# Flows that launch on an environment with an execution role use Secrets Manager for the run's
# trace token (services/run_token_delivery.py): they declare "secrets".
@flow("forge-spot", (*FORGE, "secrets"))
def forge_spot(env: FlowEnv) -> FlowScope:
    return _forge_round_trip(env, env.forge_body("contract-spot"), runs=1)


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


# --- runs: each on a forged environment, checking only the step's own calls -----------------


@flow("run-launch", ("launch", "secrets"), fresh_account=False)
def run_launch(env: FlowEnv) -> FlowScope:
    """Head job definition looked up and registered with the forged roles (iam:PassRole to
    batch.amazonaws.com), SubmitJob with the resource label as tags (batch:TagResource)."""
    jobdefs.clear_cache()
    body = env.forge_body("contract-launch")
    ce_id = _forge(env, body)
    env.app_ctx.recorder.clear()
    _launch(env, ce_id)
    assert _called(env) == [
        "s3:PutObject",  # the launch files (the config) to <workDir>/batchforge/<runId>/launch/
        "secretsmanager:CreateSecret",  # the run's trace token, tower-batchforge-<runId>-run-token
        "batch:RegisterJobDefinition",  # the run's own, naming the token's secret
        "batch:SubmitJob",
    ]
    registered = env.app_ctx.recorder.calls[2].params["containerProperties"]
    assert registered["jobRoleArn"] and registered["executionRoleArn"]
    assert [s["name"] for s in registered["secrets"]] == ["TOWER_ACCESS_TOKEN"]
    assert env.app_ctx.recorder.calls[3].params["tags"]["team"] == "genomics"
    return FlowScope(work_dir=body["computeEnv"]["config"]["workDir"])


@flow("run-track-cancel-reconcile", ("launch", "secrets"), fresh_account=False)
def run_track_cancel_reconcile(env: FlowEnv) -> FlowScope:
    """Cancel (TerminateJob on the head job, ListJobs for its task jobs); then a tracker cycle:
    DescribeJobs for the active run, ListJobs (an extra) to find by name the job of a launch
    interrupted before its id was recorded, and ListJobs for the task jobs of the run that
    ended."""
    (cancelled, tracked, interrupted), scope = _launched(env, runs=3)
    env.api.cancel_workflow(cancelled)
    # the head job, then the run's task jobs tw-<runId>-* (ListJobs, an extra; none alive)
    assert _called(env) == ["batch:TerminateJob", "batch:ListJobs"]
    with env.app_ctx.db.transaction() as session:  # what a crash after SubmitJob leaves
        session.execute(
            update(models.Run)
            .where(models.Run.id == interrupted)
            .values(submit_state="intent", job_id=None, lease_until=utcnow() - timedelta(seconds=1))
        )
    run_tracker.run_cycle(env.app_ctx)
    assert _called(env) == [
        "batch:TerminateJob",
        "batch:ListJobs",
        "batch:DescribeJobs",
        "batch:ListJobs",  # the interrupted launch's head job, by name
        "batch:ListJobs",  # the task jobs of the run that ended
        # the trace token's secret and the run's own definition, of each ended run
        "secretsmanager:DeleteSecret",
        "batch:DeregisterJobDefinition",  # an extra
        "secretsmanager:DeleteSecret",
        "batch:DeregisterJobDefinition",
    ]
    assert env.api.describe_workflow(cancelled).workflow.status == "CANCELLED"
    assert env.api.describe_workflow(tracked).workflow.status == "SUCCEEDED"  # the emulator's
    assert env.api.describe_workflow(interrupted).jobInfo.operationId  # found again by name
    return scope


@flow("run-log", ("logs",), fresh_account=False)
def run_log(env: FlowEnv) -> FlowScope:
    """The head job's log from CloudWatch (GetLogEvents on its stream)."""
    (run_id,), scope = _launched(env)
    run_tracker.run_cycle(env.app_ctx)  # records the job's log stream
    with env.app_ctx.db.transaction() as session:
        row = session.get(models.Run, run_id)
        assert row is not None and row.log_stream
        group, stream = row.log_group, row.log_stream
    logs = env.aws.boto_client("logs")  # what Batch does: the job writes its output
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    event = {"timestamp": int(time.time() * 1000), "message": "N E X T F L O W"}
    logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[event])
    env.app_ctx.recorder.clear()
    assert env.api.workflow_log(run_id).entries == ["N E X T F L O W"]
    assert _called(env) == ["logs:GetLogEvents"]
    return scope


@flow("run-files", ("work-dir",), fresh_account=False)
def run_files(env: FlowEnv) -> FlowScope:
    """The Nextflow log the head job copied to the work directory (GetObject), and the listing
    of the run's folder (ListObjectsV2)."""
    (run_id,), scope = _launched(env)
    key = f"work/batchforge/{run_id}/nextflow.log"  # where the head job copies it
    env.aws.boto_client("s3").put_object(Bucket=WORK_BUCKET, Key=key, Body=b"log")
    sink = io.BytesIO()
    env.api.download_workflow_file(run_id, sink)
    assert sink.getvalue() == b"log"
    assert [f.fileName for f in env.api.list_workflow_files(run_id).files] == ["nextflow.log"]
    assert _called(env) == ["s3:GetObject", "s3:ListObjectsV2"]
    return scope


@flow("run-secrets", ("launch", "secrets"), fresh_account=False)
def run_with_secrets(env: FlowEnv) -> FlowScope:
    """Pipeline secrets: one CreateSecret per secret (tower-*), the run's own job definition
    carrying their ARNs; when the run ends DeleteSecret (and DeregisterJobDefinition, an extra);
    then the sweep's ListSecrets (on "*")."""
    body = env.forge_body("contract-secrets")
    ce_id = _forge(env, body)
    env.api.create_secret("TOKEN", "contract-value")
    env.app_ctx.recorder.clear()
    labels = [label["id"] for label in env.api.request("GET", "/labels").json()["labels"]]
    run_id = env.api.launch_workflow(
        {
            "computeEnvId": ce_id,
            "pipeline": "nextflow-io/hello",
            "labelIds": labels,
            "workspaceSecrets": ["TOKEN"],
        }
    )
    run_tracker.run_cycle(env.app_ctx)  # the emulator's job has ended: secrets go
    assert env.api.describe_workflow(run_id).workflow.status == "SUCCEEDED"
    assert run_secrets.sweep(env.app_ctx).errors == []
    assert _called(env) == [
        "s3:PutObject",
        "secretsmanager:CreateSecret",
        "secretsmanager:CreateSecret",  # the run's trace token
        "batch:RegisterJobDefinition",
        "batch:SubmitJob",
        "batch:DescribeJobs",
        "batch:ListJobs",  # the ended run's task jobs still alive (none)
        "secretsmanager:DeleteSecret",
        "secretsmanager:DeleteSecret",
        "batch:DeregisterJobDefinition",
        "secretsmanager:ListSecrets",
    ]
    return FlowScope(work_dir=body["computeEnv"]["config"]["workDir"])
