"""Forge against real-AWS behaviour the emulator lacks (review findings 1, 7, 12, 14, 15).

A test layer of ``after-call`` hooks (installed through ``AwsEnvironment.event_hooks``, as
tests/awsrules.py does) rewrites what the emulator answers the way AWS would:
- FSx for Lustre file systems have a random ``LustreConfiguration.MountName`` (all deployment
  types but SCRATCH_1: FSx for Lustre User Guide, "Mounting from an Amazon EC2 instance");
- EFS mount targets are ``creating`` for a while before ``available`` (EFS User Guide,
  "Creating mount targets": 60-90 s);
- a compute environment created while IAM propagates its new roles turns INVALID with a
  ``CLIENT_ERROR`` about ``sts:AssumeRole`` / ``ecs:DescribeClusters``
  (hashicorp/terraform-provider-aws #37945, #21281).
"""

from __future__ import annotations

import base64
import email
import threading
import uuid
from collections import Counter
from typing import Any

import pytest

from batchforge.client import BatchforgeClient
from batchforge.forge.plan import build_plan
from batchforge.forge.spec import ForgeSpec
from batchforge.iam.enforce import Enforcer
from batchforge.local_aws import ACCOUNT_ID, LocalAws
from batchforge.services import forge_runner
from batchforge.services.context import AppContext
from tests.awsrules import AwsRules
from tests.compute.conftest import Network, nothing_left

ASSUME_ROLE_REASON = (
    "CLIENT_ERROR - User: batch.amazonaws.com is not authorized to perform: sts:AssumeRole on "
    "resource: arn:aws:iam::{account}:role/{name}-ServiceRole (Service: "
    "AWSSecurityTokenService; Status Code: 403; Error Code: AccessDenied)"
)


class RealAwsAnswers:
    """``after-call`` hooks giving the emulator's answers AWS's shape (see module doc)."""

    def __init__(self, creating_describes: int = 2, poison_suffix: str | None = None):
        self.creating_describes = creating_describes
        self.poison_suffix = poison_suffix
        self.mount_names: dict[str, str] = {}
        self.target_describes: Counter[str] = Counter()
        self.ce_creates: Counter[str] = Counter()
        self.poisoned: set[str] = set()
        self.events: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def hooks(self) -> list[tuple[str, Any]]:
        return [("after-call.*.*", self._after)]

    def _mount_name(self, fs_id: str) -> str:
        return self.mount_names.setdefault(fs_id, uuid.uuid4().hex[:8])

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if http_response.status_code >= 300:
            return
        name = f"{model.service_model.service_name}:{model.name}"
        with self._lock:
            if name in ("fsx:CreateFileSystem", "fsx:DescribeFileSystems"):
                systems = parsed.get("FileSystems") or [parsed.get("FileSystem") or {}]
                for system in systems:
                    if system.get("FileSystemType") == "LUSTRE":
                        lustre = system.setdefault("LustreConfiguration", {})
                        lustre["MountName"] = self._mount_name(system["FileSystemId"])
            elif name == "efs:DescribeMountTargets":
                for target in parsed.get("MountTargets", []):
                    target_id = target["MountTargetId"]
                    self.target_describes[target_id] += 1
                    if self.target_describes[target_id] <= self.creating_describes:
                        target["LifeCycleState"] = "creating"
                    else:
                        self.events.append(("mount-target-available", target_id))
            elif name == "batch:CreateComputeEnvironment":
                ce = parsed["computeEnvironmentName"]
                self.ce_creates[ce] += 1
                self.events.append(("ce-create", ce))
            elif name == "batch:DescribeComputeEnvironments":
                for ce in parsed.get("computeEnvironments", []):
                    self._poison(ce)

    def _poison(self, ce: dict[str, Any]) -> None:
        """The first compute environment of that name stays INVALID once AWS is done with
        it (as AWS leaves it); the one Forge creates again is VALID."""
        ce_name = ce["computeEnvironmentName"]
        if not self.poison_suffix or not ce_name.endswith(self.poison_suffix):
            return
        if self.ce_creates[ce_name] == 1 and ce.get("status") in ("VALID", "INVALID"):
            base = ce_name.removesuffix(self.poison_suffix)
            ce["status"] = "INVALID"
            ce["statusReason"] = ASSUME_ROLE_REASON.format(account=ACCOUNT_ID, name=base)
            self.poisoned.add(ce_name)


@pytest.fixture
def answers(app_ctx: AppContext, rules: AwsRules) -> RealAwsAnswers:
    installed = RealAwsAnswers()
    app_ctx.aws.event_hooks.extend(installed.hooks())
    return installed


def _create(api: BatchforgeClient, body: dict) -> str:
    return api.request("POST", "/compute-envs", json=body).json()["computeEnvId"]


def _env(api: BatchforgeClient, ce_id: str) -> dict:
    return api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]


def _user_data_parts(aws: LocalAws, ce_id: str) -> list[str]:
    versions = aws.boto_client("ec2").describe_launch_template_versions(
        LaunchTemplateName=f"TowerForge-{ce_id}"
    )["LaunchTemplateVersions"]
    raw = base64.b64decode(versions[0]["LaunchTemplateData"]["UserData"])
    message = email.message_from_bytes(raw)
    return [p.get_payload(decode=True).decode() for p in message.walk() if not p.is_multipart()]


def _dispose(api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, ce_id: str) -> None:
    api.request("DELETE", f"/compute-envs/{ce_id}")
    forge_runner.run_pending(app_ctx)
    assert nothing_left(aws, ce_id)


# --- finding 7: Lustre mount source --------------------------------------------------------


def test_a_created_fsx_is_mounted_with_its_mount_name(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, answers: RealAwsAnswers, forge_body
) -> None:
    """FSx for Lustre User Guide ("Mounting from an Amazon EC2 instance"): ``mount -t lustre
    <DNSName>@tcp:/<MountName>``; MountName is random except on SCRATCH_1."""
    ce_id = _create(api, forge_body(fsxSize=1200, fsxMount="/fsx"))
    forge_runner.run_pending(app_ctx)
    assert _env(api, ce_id)["status"] == "AVAILABLE"
    ((fs_id, mount_name),) = answers.mount_names.items()
    dns = aws.boto_client("fsx").describe_file_systems(FileSystemIds=[fs_id])["FileSystems"][0][
        "DNSName"
    ]
    mounts = _user_data_parts(aws, ce_id)[-1]
    assert f"{dns}@tcp:/{mount_name} /fsx" in mounts
    _dispose(api, app_ctx, aws, ce_id)


def test_an_existing_fsx_is_mounted_with_its_dns_name_and_mount_name(
    api: BatchforgeClient,
    app_ctx: AppContext,
    aws: LocalAws,
    answers: RealAwsAnswers,
    forge_body,
    network: Network,
) -> None:
    """At ed4dc55 an existing FSx was mounted as ``fs-...@tcp:/fsx`` (review finding 7)."""
    fsx = aws.boto_client("fsx")
    fs_id = fsx.create_file_system(
        FileSystemType="LUSTRE",
        StorageCapacity=1200,
        SubnetIds=[network.subnets[0]],
        LustreConfiguration={"DeploymentType": "PERSISTENT_2"},
    )["FileSystem"]["FileSystemId"]
    body = forge_body(fsxMount="/fsx")
    body["computeEnv"]["config"]["lustreId"] = fs_id
    ce_id = _create(api, body)
    forge_runner.run_pending(app_ctx)
    env = _env(api, ce_id)
    assert env["status"] == "AVAILABLE", env["message"]
    dns = fsx.describe_file_systems(FileSystemIds=[fs_id])["FileSystems"][0]["DNSName"]
    mounts = _user_data_parts(aws, ce_id)[-1]
    assert f"{dns}@tcp:/{answers.mount_names[fs_id]} /fsx" in mounts
    assert f"{fs_id}@tcp:/fsx" not in mounts
    _dispose(api, app_ctx, aws, ce_id)
    assert fsx.describe_file_systems(FileSystemIds=[fs_id])["FileSystems"]  # not ours: kept


# --- finding 14: EFS mount targets available before the compute environments ---------------


def test_compute_environments_wait_for_available_mount_targets(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, answers: RealAwsAnswers, forge_body
) -> None:
    ce_id = _create(api, forge_body(efsCreate=True, efsMount="/mnt/efs"))
    forge_runner.run_pending(app_ctx)
    assert _env(api, ce_id)["status"] == "AVAILABLE"
    kinds = [kind for kind, _ in answers.events]
    targets = {t for kind, t in answers.events if kind == "mount-target-available"}
    waited = answers.creating_describes
    assert targets and all(answers.target_describes[t] > waited for t in targets)
    first_ce = kinds.index("ce-create")
    assert kinds.count("mount-target-available") == len(targets)
    assert all(k == "mount-target-available" for k in kinds[:first_ce]) and first_ce == len(targets)
    assert "bf_retry 30 10 mount -t efs" in _user_data_parts(aws, ce_id)[-1]
    _dispose(api, app_ctx, aws, ce_id)


# --- finding 12: a compute environment INVALID while IAM propagates is recovered -----------


def test_a_compute_environment_invalid_while_iam_propagates_is_recreated(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, answers: RealAwsAnswers, forge_body
) -> None:
    """hashicorp/terraform-provider-aws #37945 / #21281: a new CE turns INVALID with
    ``CLIENT_ERROR - User: batch.amazonaws.com is not authorized to perform: sts:AssumeRole``
    while its service role propagates.  Forge re-creates it instead of rolling back."""
    answers.poison_suffix = "-work"
    ce_id = _create(api, forge_body())
    forge_runner.run_pending(app_ctx)
    env = _env(api, ce_id)
    assert env["status"] == "AVAILABLE", env["message"]
    work = f"TowerForge-{ce_id}-work"
    assert answers.poisoned == {work}
    assert answers.ce_creates[work] == 2 and answers.ce_creates[f"TowerForge-{ce_id}-head"] == 1
    described = aws.boto_client("batch").describe_compute_environments(computeEnvironments=[work])
    assert len(described["computeEnvironments"]) == 1  # the first one is gone
    _dispose(api, app_ctx, aws, ce_id)


def test_a_compute_environment_invalid_for_another_reason_still_fails_the_forge(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, answers: RealAwsAnswers, forge_body
) -> None:
    answers.poison_suffix = "-work"
    reason = "CLIENT_ERROR - The security group 'sg-1' does not exist"
    original = answers._poison

    def poison(ce: dict[str, Any]) -> None:
        original(ce)
        if ce["computeEnvironmentName"] in answers.poisoned:
            ce["statusReason"] = reason

    answers._poison = poison  # type: ignore[method-assign]
    ce_id = _create(api, forge_body())
    forge_runner.run_pending(app_ctx)
    env = _env(api, ce_id)
    assert env["status"] == "ERRORED" and "security group" in env["message"]
    assert answers.ce_creates[f"TowerForge-{ce_id}-work"] == 1
    assert nothing_left(aws, ce_id)


# --- findings 1 and 15: the head-job role --------------------------------------------------

REGION = "eu-west-1"
MY_TASK_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/MyTaskRole"
MY_EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/MyExecutionRole"


def _head_job_enforcer(spec: ForgeSpec) -> Enforcer:
    (role,) = [r for r in build_plan(spec) if r.key == "head-job-role"]
    return Enforcer([role.params["inline"]["batchforge-head-job"]], ACCOUNT_ID)


def _register(job_role: str, execution_role: str) -> dict[str, Any]:
    return {
        "jobDefinitionName": "nf-ubuntu-22-04",
        "type": "container",
        "containerProperties": {
            "image": "ubuntu:22.04",
            "jobRoleArn": job_role,
            "executionRoleArn": execution_role,
        },
    }


def test_roles_the_user_gave_for_tasks_can_be_passed_to_batch() -> None:
    """nf-amazon ``AwsBatchTaskHandler.makeJobDefRequest``: ``jobRoleArn`` = aws.batch.jobRole
    (computeJobRole), ``executionRoleArn`` = aws.batch.executionRole; PassRole checked with
    ``iam:PassedToService`` = batch.amazonaws.com (seqeralabs/nf-tower-aws "PassRolesToBatch")."""
    spec = ForgeSpec(
        ce_id="ce1",
        region=REGION,
        work_dir="s3://nf-work/runs",
        compute_job_role=MY_TASK_ROLE,
        execution_role=MY_EXECUTION_ROLE,
    )
    enforcer = _head_job_enforcer(spec)
    allowed = _register(MY_TASK_ROLE, MY_EXECUTION_ROLE)
    assert enforcer.check("batch", "RegisterJobDefinition", allowed, REGION) is None
    other = _register(f"arn:aws:iam::{ACCOUNT_ID}:role/Admin", MY_EXECUTION_ROLE)
    assert enforcer.check("batch", "RegisterJobDefinition", other, REGION) is not None
    # Without them, only the environment's own forged roles.
    plain = _head_job_enforcer(ForgeSpec(ce_id="ce1", region=REGION, work_dir="s3://w/x"))
    assert plain.check("batch", "RegisterJobDefinition", allowed, REGION) is not None
    forged = _register(
        f"arn:aws:iam::{ACCOUNT_ID}:role/TowerForge-ce1-HeadJobRole",
        f"arn:aws:iam::{ACCOUNT_ID}:role/TowerForge-ce1-ExecutionRole",
    )
    assert plain.check("batch", "RegisterJobDefinition", forged, REGION) is None
    neighbour = _register(
        f"arn:aws:iam::{ACCOUNT_ID}:role/TowerForge-ce2-HeadJobRole",
        f"arn:aws:iam::{ACCOUNT_ID}:role/TowerForge-ce1-ExecutionRole",
    )
    assert plain.check("batch", "RegisterJobDefinition", neighbour, REGION) is not None


CLUSTER = "TowerForge-ce1-work_Batch_6d67ab71-4455-3613-b981-4c30a030fb90"
METADATA_CALLS = [
    # nf-amazon AwsBatchHelper.getCloudInfoByQueueAndTaskArn (24.10.5).
    ("ecs", "DescribeTasks", {"cluster": CLUSTER, "tasks": [f"arn:aws:ecs:{REGION}:1:task/x"]}),
    ("ecs", "DescribeContainerInstances", {"cluster": CLUSTER, "containerInstances": ["ci-1"]}),
    ("ec2", "DescribeInstances", {"InstanceIds": ["i-0123456789abcdef0"]}),
    ("ec2", "DescribeInstanceTypes", {"InstanceTypes": ["m5.large"]}),
    ("ec2", "DescribeInstanceStatus", {"InstanceIds": ["i-0123456789abcdef0"]}),
]


@pytest.mark.parametrize(("service", "operation", "params"), METADATA_CALLS)
def test_the_head_job_role_reads_task_instance_metadata(
    service: str, operation: str, params: dict[str, Any]
) -> None:
    """seqeralabs/nf-tower-aws ``launch/launch-policy.json`` grants these to the launcher."""
    enforcer = _head_job_enforcer(ForgeSpec(ce_id="ce1", region=REGION, work_dir="s3://w/x"))
    assert enforcer.check(service, operation, params, REGION) is None


def test_the_head_job_role_reads_logs_of_the_environments_log_group() -> None:
    """AwsBatchHelper.getTaskLogStream: logs:GetLogEvents on aws.batch.logsGroup."""
    spec = ForgeSpec(ce_id="ce1", region=REGION, work_dir="s3://w/x", log_group="/nf/tasks")
    enforcer = _head_job_enforcer(spec)
    ours = {"logGroupName": "/nf/tasks", "logStreamName": "nf-ubuntu/default/abc"}
    assert enforcer.check("logs", "GetLogEvents", ours, REGION) is None
    other = {"logGroupName": "/other", "logStreamName": "x"}
    assert enforcer.check("logs", "GetLogEvents", other, REGION) is not None


def test_the_head_job_role_reads_inputs_anywhere_and_writes_only_its_buckets() -> None:
    spec = ForgeSpec(
        ce_id="ce1", region=REGION, work_dir="s3://nf-work/runs", allow_buckets=("results",)
    )
    enforcer = _head_job_enforcer(spec)
    reads = [
        ("GetObject", {"Bucket": "ngi-igenomes", "Key": "igenomes/GRCh38/genome.fa"}),
        ("ListObjectsV2", {"Bucket": "ngi-igenomes", "Prefix": "igenomes/"}),
        ("GetBucketLocation", {"Bucket": "ngi-igenomes"}),
    ]
    for operation, params in reads:
        assert enforcer.check("s3", operation, params, REGION) is None, operation
    for bucket in ("nf-work", "results"):
        assert enforcer.check("s3", "PutObject", {"Bucket": bucket, "Key": "k"}, REGION) is None
    denied = enforcer.check("s3", "PutObject", {"Bucket": "ngi-igenomes", "Key": "k"}, REGION)
    assert denied is not None


def test_tasks_without_a_job_role_read_inputs_with_the_instance_role() -> None:
    """Without aws.batch.jobRole a task's AWS CLI stages files with the instance's role."""
    spec = ForgeSpec(ce_id="ce1", region=REGION, work_dir="s3://nf-work/runs")
    (role,) = [r for r in build_plan(spec) if r.key == "instance-role"]
    enforcer = Enforcer(list(role.params["inline"].values()), ACCOUNT_ID)
    read = {"Bucket": "ngi-igenomes", "Key": "igenomes/GRCh38/genome.fa"}
    assert enforcer.check("s3", "GetObject", read, REGION) is None
    assert enforcer.check("s3", "PutObject", {"Bucket": "nf-work", "Key": "a"}, REGION) is None
    assert enforcer.check("s3", "PutObject", read, REGION) is not None
