"""Why a task waits in RUNNABLE (runs/stuck.py), offline: many cases of job, queue,
compute environment and instance types.

AWS facts the cases follow (AWS Batch User Guide): "Jobs stuck in a RUNNABLE status"
(troubleshooting: resources larger than any instance the environment allows, maxvCpus too
small, environment DISABLED/INVALID); "Compute resource memory management" (ECS registers
less memory than the instance has: a job asking all of it is never placed); "Compute
environment parameters: instanceTypes" (``optimal`` = C4/M4/R4, else C5/M5/R5; a family =
all its sizes); "Fargate" (16 vCPUs, 120 GiB, no GPU).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from batchforge.local_aws import LocalAws
from batchforge.runs.stuck import (
    Environment,
    InstanceSize,
    JobNeeds,
    Queue,
    explain,
    family_patterns,
    sizes_for,
)
from batchforge.services import credentials, run_health, run_tokens, run_tracker
from batchforge.services.compute_envs import SessionCache
from batchforge.services.context import AppContext
from tests.batchjobs import BatchJobs
from tests.factories import keys_credentials
from tests.trace import payloads as p
from tests.trace.conftest import basic, bearer, make_run
from tests.trace.spec import validate

C5 = [
    InstanceSize("c5.large", 2, 4096),
    InstanceSize("c5.xlarge", 4, 8192),
    InstanceSize("c5.4xlarge", 16, 32768),
]
R5 = [InstanceSize("r5.large", 2, 16384), InstanceSize("r5.4xlarge", 16, 131072)]
G4 = [InstanceSize("g4dn.xlarge", 4, 16384, gpus=1)]
CATALOG = {s.name: s for s in [*C5, *R5, *G4, InstanceSize("m4.large", 2, 8192)]}

CE = "arn:aws:batch:us-east-1:123456789012:compute-environment/TowerForge-x-work"
QUEUE = Queue("TowerForge-x-work", environments=(CE,))


def env(**values: object) -> Environment:
    base: dict[str, object] = {
        "name": "TowerForge-x-work",
        "max_vcpus": 256,
        "desired_vcpus": 0,
        "instance_types": ("c5",),
    }
    base.update(values)
    return Environment(**base)  # type: ignore[arg-type]


def why(needs: JobNeeds, environment: Environment | None, sizes=C5, queue=QUEUE, reason=""):
    return explain(needs, queue, {CE: environment}, {CE: sizes}, reason)


def test_more_cpus_than_the_largest_type() -> None:
    result = why(JobNeeds(vcpus=64, memory_mib=1024), env())
    assert result.blocked
    assert (
        "Asks 64 CPUs; the largest instance type TowerForge-x-work allows (c5.4xlarge) has 16"
        in result.message
    )


def test_more_memory_than_the_largest_type() -> None:
    result = why(JobNeeds(vcpus=2, memory_mib=200 * 1024), env())
    assert result.blocked
    assert result.message.startswith("Asks 200 GiB of memory")
    assert "(c5.4xlarge) has 32 GiB" in result.message


def test_all_of_an_instances_memory_is_at_the_limit() -> None:
    """ECS registers less than the installed memory: 32 GiB on a 32 GiB c5.4xlarge never fits."""
    result = why(JobNeeds(vcpus=2, memory_mib=32 * 1024), env())
    assert result.blocked
    assert "ECS registers less" in result.message


def test_cpus_and_memory_together_on_no_single_type() -> None:
    sizes = [InstanceSize("c5.4xlarge", 16, 32768), InstanceSize("r5.xlarge", 4, 32768 * 4)]
    result = why(JobNeeds(vcpus=16, memory_mib=100 * 1024), env(), sizes=sizes)
    assert result.blocked
    assert "no instance type TowerForge-x-work allows has both" in result.message


def test_gpu_needed_none_allowed() -> None:
    result = why(JobNeeds(vcpus=2, memory_mib=1024, gpus=1), env())
    assert result.blocked
    assert "Needs 1 GPU" in result.message and "none has one" in result.message


def test_gpu_available() -> None:
    result = why(JobNeeds(vcpus=2, memory_mib=1024, gpus=1), env(instance_types=("g4dn",)), G4)
    assert not result.blocked


def test_two_gpus_one_per_instance() -> None:
    result = why(JobNeeds(vcpus=2, memory_mib=1024, gpus=2), env(), G4)
    assert result.blocked and "the most any has is 1 (g4dn.xlarge)" in result.message


def test_max_vcpus_zero() -> None:
    result = why(JobNeeds(vcpus=1, memory_mib=512), env(max_vcpus=0))
    assert result.blocked and "maxvCpus 0" in result.message


def test_more_cpus_than_max_vcpus() -> None:
    result = why(JobNeeds(vcpus=8, memory_mib=512), env(max_vcpus=4))
    assert result.blocked
    assert "Asks 8 CPUs; the compute environment TowerForge-x-work has maxvCpus 4" in result.message


@pytest.mark.parametrize("state", ["DISABLED"])
def test_disabled_environment(state: str) -> None:
    result = why(JobNeeds(), env(state=state))
    assert result.blocked and "is DISABLED" in result.message


def test_invalid_environment_says_aws_reason() -> None:
    result = why(
        JobNeeds(),
        env(status="INVALID", status_reason="CLIENT_ERROR - service role is not authorized."),
    )
    assert result.blocked
    assert "is INVALID: CLIENT_ERROR - service role is not authorized." in result.message
    assert ".." not in result.message


def test_environment_gone() -> None:
    result = why(JobNeeds(), None)
    assert result.blocked and "TowerForge-x-work does not exist" in result.message


def test_queue_disabled_invalid_gone_or_empty() -> None:
    needs = JobNeeds()
    assert (
        "is DISABLED"
        in why(needs, env(), queue=Queue("q", state="DISABLED", environments=(CE,))).message
    )
    invalid = why(needs, env(), queue=Queue("q", status="INVALID", status_reason="bad order."))
    assert invalid.blocked and "INVALID: bad order." in invalid.message
    assert why(needs, env(), queue=None).message.startswith("its job queue no longer exists")
    assert "has no compute environment" in why(needs, env(), queue=Queue("q")).message


def test_fargate_limits() -> None:
    fargate = env(kind="FARGATE", instance_types=())
    assert (
        "Fargate (TowerForge-x-work) runs at most 16 CPUs"
        in why(JobNeeds(vcpus=32), fargate, None).message
    )
    assert "Fargate has no GPUs" in why(JobNeeds(gpus=1), fargate, None).message
    assert not why(JobNeeds(vcpus=4, memory_mib=8192), fargate, None).blocked


def test_fits_and_environment_full() -> None:
    result = why(JobNeeds(vcpus=2, memory_mib=2048), env(max_vcpus=16, desired_vcpus=16))
    assert not result.blocked
    assert "at its maxvCpus (16)" in result.message


def test_fits_and_scaling_spot() -> None:
    result = why(JobNeeds(vcpus=2, memory_mib=2048), env(kind="SPOT", desired_vcpus=4))
    assert not result.blocked
    assert "waits for Spot capacity" in result.message and "4 of 256" in result.message


def test_batch_status_reason_is_quoted() -> None:
    reason = "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement is higher"
    result = why(JobNeeds(vcpus=64), env(), reason=reason)
    assert result.message.endswith(f"AWS Batch says: {reason}")


def test_one_environment_of_two_can_run_it() -> None:
    other = "arn:aws:batch:us-east-1:123456789012:compute-environment/big"
    queue = Queue("q", environments=(CE, other))
    result = explain(
        JobNeeds(vcpus=32),
        queue,
        {CE: env(), other: env(name="big", instance_types=("r5",), max_vcpus=64)},
        {CE: C5, other: [InstanceSize("r5.8xlarge", 32, 262144)]},
    )
    assert not result.blocked
    assert result.reasons == (
        "asks 32 CPUs; the largest instance type TowerForge-x-work allows (c5.4xlarge) has 16",
    )


def test_all_environments_blocked_lists_each() -> None:
    other = "arn:aws:batch:us-east-1:123456789012:compute-environment/off"
    queue = Queue("q", environments=(CE, other))
    result = explain(
        JobNeeds(vcpus=32),
        queue,
        {CE: env(), other: env(name="off", state="DISABLED")},
        {CE: C5, other: C5},
    )
    assert result.blocked and len(result.reasons) == 2


def test_unknown_sizes_do_not_block() -> None:
    """Without instance sizes (DescribeInstanceTypes refused, unknown keyword) nothing is
    claimed about them."""
    result = why(JobNeeds(vcpus=64), env(), sizes=None)
    assert not result.blocked


def test_job_needs_from_describe_jobs() -> None:
    job = {
        "container": {
            "vcpus": 1,
            "memory": 512,
            "resourceRequirements": [
                {"type": "VCPU", "value": "4"},
                {"type": "MEMORY", "value": "16384"},
                {"type": "GPU", "value": "1"},
            ],
        }
    }
    assert JobNeeds.from_job(job) == JobNeeds(4.0, 16384, 1)
    assert JobNeeds.from_job({"container": {"vcpus": 2, "memory": 2048}}) == JobNeeds(2.0, 2048, 0)
    assert JobNeeds.from_job({}) == JobNeeds(1.0, 0, 0)


def test_views_from_aws_answers() -> None:
    ce = Environment.from_aws(
        {
            "computeEnvironmentName": "ce",
            "state": "ENABLED",
            "status": "INVALID",
            "statusReason": "broken.",
            "computeResources": {
                "type": "SPOT",
                "maxvCpus": 8,
                "desiredvCpus": 2,
                "instanceTypes": ["optimal"],
            },
        }
    )
    assert (ce.kind, ce.max_vcpus, ce.instance_types, ce.status_reason) == (
        "SPOT",
        8,
        ("optimal",),
        "broken",
    )
    queue = Queue.from_aws(
        {
            "jobQueueName": "q",
            "computeEnvironmentOrder": [
                {"order": 2, "computeEnvironment": "b"},
                {"order": 1, "computeEnvironment": "a"},
            ],
        }
    )
    assert queue.environments == ("a", "b")
    size = InstanceSize.from_aws(
        {
            "InstanceType": "g4dn.xlarge",
            "VCpuInfo": {"DefaultVCpus": 4},
            "MemoryInfo": {"SizeInMiB": 16384},
            "GpuInfo": {"Gpus": [{"Count": 1}]},
        }
    )
    assert size == InstanceSize("g4dn.xlarge", 4, 16384, 1)


def test_instance_type_resolution() -> None:
    assert family_patterns(["c5", "m5.large", "optimal", "c5"])[:2] == ["c5.*", "m5.large"]
    assert "m4.*" in family_patterns(["optimal"]) and "r5.*" in family_patterns(["optimal"])
    assert family_patterns(["default_x86_64"]) == []
    assert sizes_for(["optimal"], CATALOG) == [CATALOG["m4.large"]]  # C4/M4/R4 first
    newer = {k: v for k, v in CATALOG.items() if not k.startswith("m4")}
    assert {s.name for s in sizes_for(["optimal"], newer) or []} >= {"c5.large", "r5.large"}
    assert sizes_for(["default_x86_64"], CATALOG) is None
    assert sizes_for(["c5.9xlarge"], CATALOG) is None
    assert [s.name for s in sizes_for(["g4dn"], CATALOG) or []] == ["g4dn.xlarge"]


# --- through the tracker's run health step: stale runs ---------------------------------------


def _silent_run(ctx: AppContext, workspace_id: int, minutes: float, **values: Any) -> str:
    """A run whose Nextflow last reported ``minutes`` ago."""
    row: dict[str, Any] = {
        "status": "RUNNING",
        "trace_state": "begun",
        "trace_at": datetime.now(UTC) - timedelta(minutes=minutes),
    }
    row.update(values)
    return make_run(ctx, workspace_id, **row)


def _describe(http: TestClient, token: str, run_id: str) -> dict[str, Any]:
    answer = http.get(f"/workflow/{run_id}", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_silent_run_from_elsewhere_is_unknown_until_it_reports_again(
    app_ctx: AppContext, http: TestClient, admin: tuple[str, int]
) -> None:
    """nf-tower sends a heartbeat after 1 min without task events
    (reference/nextflow-trace-protocol.md §2): 10 silent minutes (the setting) mean it is
    lost.  A run launched elsewhere has no head job: Seqera shows it UNKNOWN."""
    user_token, workspace_id = admin
    run_id = _silent_run(app_ctx, workspace_id, 15, origin="trace", job_id=None)
    fresh = _silent_run(app_ctx, workspace_id, 9, origin="trace", job_id=None)
    stats = run_tracker.run_cycle(app_ctx)
    assert stats.health is not None and stats.health.stale == 1
    body = _describe(http, user_token, run_id)
    assert body["workflow"]["status"] == "UNKNOWN"
    (message,) = body["messages"]
    assert message.startswith("No report from Nextflow since") and "(15 minutes" in message
    assert "launched outside batchforge" in message
    assert _describe(http, user_token, fresh)["workflow"]["status"] == "RUNNING"
    assert run_tracker.run_cycle(app_ctx).health.stale == 0  # type: ignore[union-attr]

    token = run_tokens.issue(app_ctx, run_id)
    answer = http.put(f"/trace/{run_id}/heartbeat", headers=basic(token), json={})
    assert answer.status_code == 200, answer.text
    assert run_tracker.run_cycle(app_ctx).health.recovered == 1  # type: ignore[union-attr]
    body = _describe(http, user_token, run_id)
    assert body["workflow"]["status"] == "RUNNING" and body["messages"] == []


def test_a_silent_launched_run_keeps_its_head_jobs_status(
    app_ctx: AppContext, http: TestClient, admin: tuple[str, int]
) -> None:
    user_token, workspace_id = admin
    run_id = _silent_run(app_ctx, workspace_id, 30, job_id="head-job-id", batch_state="RUNNING|")
    stats = run_health.check(app_ctx, SessionCache(app_ctx).get)
    assert stats.stale == 1
    body = _describe(http, user_token, run_id)
    assert body["workflow"]["status"] == "RUNNING"
    assert "Its head job is RUNNING in AWS Batch" in body["messages"][0]
    # It completes: the mark goes.
    token = run_tokens.issue(app_ctx, run_id)
    answer = http.put(f"/trace/{run_id}/complete", headers=basic(token), json=p.complete(run_id))
    assert answer.status_code == 200, answer.text
    assert run_health.check(app_ctx, SessionCache(app_ctx).get).recovered == 1
    assert _describe(http, user_token, run_id)["messages"] == []


# --- through the run health step: tasks waiting in RUNNABLE, on the emulator -----------------


def _environment(aws: LocalAws, instance_types: list[str], max_vcpus: int = 16) -> str:
    """A managed EC2 compute environment and its queue in the emulator; the queue's name."""
    name = f"bf-wait-{uuid.uuid4().hex[:6]}"
    batch, ec2 = aws.boto_client("batch"), aws.boto_client("ec2")
    iam = aws.boto_client("iam")
    role = iam.create_role(RoleName=f"{name}-svc", AssumeRolePolicyDocument="{}")
    profile = iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Arn"]
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]["GroupId"]
    batch.create_compute_environment(
        computeEnvironmentName=name,
        type="MANAGED",
        state="ENABLED",
        serviceRole=role["Role"]["Arn"],
        computeResources={
            "type": "EC2",
            "minvCpus": 0,
            "maxvCpus": max_vcpus,
            "desiredvCpus": 0,
            "instanceTypes": instance_types,
            "subnets": [subnet],
            "securityGroupIds": [group],
            "instanceRole": profile,
        },
    )
    batch.create_job_queue(
        jobQueueName=name,
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": name}],
    )
    return name


def _task_job(aws: LocalAws, jobs: BatchJobs, queue: str, needs: dict[str, str]) -> str:
    """A task job as nf-amazon submits it, held RUNNABLE by the Batch job layer."""
    batch = aws.boto_client("batch")
    definition = batch.register_job_definition(
        jobDefinitionName=f"nf-task-{uuid.uuid4().hex[:8]}",
        type="container",
        containerProperties={
            "image": "quay.io/nextflow/bash",
            "resourceRequirements": [{"type": k, "value": v} for k, v in needs.items()],
        },
    )["jobDefinitionArn"]
    job_id = batch.submit_job(jobName="tw-task", jobQueue=queue, jobDefinition=definition)["jobId"]
    jobs.set(job_id, "RUNNABLE")
    return str(job_id)


@pytest.fixture
def job_resources(app_ctx: AppContext, local_aws: LocalAws) -> None:
    """DescribeJobs answers ``container.resourceRequirements`` (VCPU, MEMORY, GPU) as AWS
    does (API reference, ContainerDetail: "The type and amount of resources to assign to a
    container"); the emulator drops them (it keeps the legacy vcpus/memory, not GPU).  This
    test layer puts back those of the job's definition."""
    batch = local_aws.boto_client("batch")

    def restore(parsed: dict[str, Any], **_: Any) -> None:
        for job in parsed.get("jobs", []):
            container = job.setdefault("container", {})
            if container.get("resourceRequirements") or not job.get("jobDefinition"):
                continue
            found = batch.describe_job_definitions(jobDefinitions=[job["jobDefinition"]])
            for definition in found["jobDefinitions"]:
                wanted = definition.get("containerProperties", {}).get("resourceRequirements")
                container["resourceRequirements"] = wanted or []

    app_ctx.aws.event_hooks.append(("after-call.batch.DescribeJobs", restore))


def test_runnable_tasks_explained_from_their_job_and_environment(
    app_ctx: AppContext,
    http: TestClient,
    admin: tuple[str, int],
    local_aws: LocalAws,
    jobs: BatchJobs,
    job_resources: None,
) -> None:
    user_token, workspace_id = admin
    queue = _environment(local_aws, ["c5.large", "c5.xlarge"])
    too_big = _task_job(local_aws, jobs, queue, {"VCPU": "8", "MEMORY": "2048"})
    gpu = _task_job(local_aws, jobs, queue, {"VCPU": "1", "MEMORY": "1024", "GPU": "1"})
    fits = _task_job(local_aws, jobs, queue, {"VCPU": "1", "MEMORY": "1024"})
    recent = _task_job(local_aws, jobs, queue, {"VCPU": "8", "MEMORY": "1024"})
    credentials_id = credentials.create(
        app_ctx, workspace_id, keys_credentials("aws"), use_external_id=False
    )
    run_id = make_run(
        app_ctx,
        workspace_id,
        credentials_id=credentials_id,
        status="RUNNING",
        trace_state="begun",
        trace_at=datetime.now(UTC),
    )
    token = run_tokens.issue(app_ctx, run_id)
    old = (datetime.now(UTC) - timedelta(minutes=20)).isoformat()
    tasks = [
        p.task(i + 1, "SUBMITTED", nativeId=job, submit=old)
        for i, job in enumerate([too_big, gpu, fits])
    ]
    tasks.append(p.task(4, "SUBMITTED", nativeId=recent, submit=datetime.now(UTC).isoformat()))
    answer = http.put(f"/trace/{run_id}/progress", headers=basic(token), json=p.progress(tasks))
    assert answer.status_code == 200, answer.text

    stats = run_health.check(app_ctx, SessionCache(app_ctx).get)
    assert stats.explained == 3
    # DescribeJobs, DescribeJobQueues, DescribeComputeEnvironments: once each
    assert stats.batch_calls == 3
    listed = http.get(f"/workflow/{run_id}/tasks", headers=bearer(user_token)).json()
    validate("ListTasksResponse", listed)
    reasons = {t["task"]["taskId"]: t["task"].get("waitingReason") for t in listed["tasks"]}
    assert reasons[1] == (
        f"Asks 8 CPUs; the largest instance type {queue} allows (c5.xlarge) has 4."
    )
    assert reasons[2] is not None and reasons[2].startswith("Needs 1 GPU")
    assert reasons[3] is not None
    assert reasons[3].startswith(f"The compute environment {queue} can run it and is scaling")
    assert reasons[4] is None  # not waiting long enough yet
    messages = _describe(http, user_token, run_id)["messages"]
    assert any(m.startswith("2 tasks cannot be placed by AWS Batch") for m in messages)

    # Looked at again only after a while: no AWS call in the next cycle.
    assert run_health.check(app_ctx, SessionCache(app_ctx).get).batch_calls == 0
    # A task that starts running loses its explanation.
    started = p.task(1, "RUNNING", nativeId=too_big, submit=old)
    answer = http.put(f"/trace/{run_id}/progress", headers=basic(token), json=p.progress([started]))
    assert answer.status_code == 200
    task = http.get(f"/workflow/{run_id}/task/1", headers=bearer(user_token)).json()["task"]
    assert "waitingReason" not in task
    messages = _describe(http, user_token, run_id)["messages"]
    assert any(m.startswith("1 task cannot be placed by AWS Batch") for m in messages)
