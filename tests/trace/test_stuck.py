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

import pytest

from batchforge.runs.stuck import (
    Environment,
    InstanceSize,
    JobNeeds,
    Queue,
    explain,
    family_patterns,
    sizes_for,
)

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
