"""Why a task waits in AWS Batch's RUNNABLE state: pure explanation logic (no AWS calls).

Inputs are plain views of AWS answers: the job (``batch:DescribeJobs``), its job queue
(``batch:DescribeJobQueues``), the queue's compute environments
(``batch:DescribeComputeEnvironments``) and the sizes of the instance types they allow
(``ec2:DescribeInstanceTypes``).  :func:`explain` says either why no environment of the queue
can ever place the job as it is (``blocked``), or what it is most likely waiting for.

AWS facts used (AWS Batch User Guide):

- "Jobs stuck in a RUNNABLE status" (troubleshooting): a job stays RUNNABLE when no compute
  environment of its queue can satisfy its vCPU, memory or GPU requirements, when the
  environment's ``maxvCpus`` is too small, or when the environment is DISABLED/INVALID;
- "Compute resource memory management": an instance registers less memory with ECS than it
  has installed (the agent and the OS keep some), so a job asking for all of an instance's
  memory is never placed on it (:data:`MEMORY_RESERVE`);
- "Compute environments: instanceTypes": ``optimal`` means the C4, M4 and R4 families, or C5,
  M5 and R5 in Regions without those; a family name (``c5``) means every size of it;
- Fargate resources (AWS Batch on Fargate): at most 16 vCPUs and 120 GiB per job, no GPUs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MEMORY_RESERVE = 0.05
"""Fraction of an instance's installed memory taken as not registered for jobs (ECS agent
and OS).  AWS gives no fixed figure; a job asking more than 95% of the largest instance's
memory is said to be at the limit, not impossible."""
FARGATE_MAX_VCPUS = 16.0
FARGATE_MAX_MEMORY_MIB = 120 * 1024
OPTIMAL_FAMILIES = ("c4", "m4", "r4")
OPTIMAL_FALLBACK = ("c5", "m5", "r5")


@dataclass(frozen=True)
class InstanceSize:
    """An EC2 instance type's size (``ec2:DescribeInstanceTypes``)."""

    name: str
    vcpus: int
    memory_mib: int
    gpus: int = 0

    @classmethod
    def from_aws(cls, item: Mapping[str, Any]) -> InstanceSize:
        gpus = sum(int(g.get("Count", 0)) for g in item.get("GpuInfo", {}).get("Gpus", []))
        return cls(
            name=str(item["InstanceType"]),
            vcpus=int(item.get("VCpuInfo", {}).get("DefaultVCpus", 0)),
            memory_mib=int(item.get("MemoryInfo", {}).get("SizeInMiB", 0)),
            gpus=gpus,
        )


@dataclass(frozen=True)
class JobNeeds:
    """What a Batch job asks for: vCPUs, memory (MiB) and GPUs."""

    vcpus: float = 1.0
    memory_mib: int = 0
    gpus: int = 0

    @classmethod
    def from_job(cls, job: Mapping[str, Any]) -> JobNeeds:
        """From a ``DescribeJobs`` job: ``container.resourceRequirements`` (VCPU, MEMORY, GPU),
        else the legacy ``container.vcpus`` / ``container.memory``."""
        container = job.get("container") or {}
        vcpus = float(container.get("vcpus") or 0)
        memory = int(container.get("memory") or 0)
        gpus = 0
        for req in container.get("resourceRequirements") or []:
            kind, value = req.get("type"), req.get("value")
            try:
                if kind == "VCPU":
                    vcpus = float(value)
                elif kind == "MEMORY":
                    memory = int(float(value))
                elif kind == "GPU":
                    gpus = int(float(value))
            except (TypeError, ValueError):
                continue
        return cls(vcpus=vcpus or 1.0, memory_mib=memory, gpus=gpus)


@dataclass(frozen=True)
class Environment:
    """A compute environment as ``DescribeComputeEnvironments`` shows it."""

    name: str
    state: str = "ENABLED"
    status: str = "VALID"
    status_reason: str = ""
    kind: str = "EC2"  # EC2, SPOT, FARGATE, FARGATE_SPOT
    max_vcpus: int | None = None
    desired_vcpus: int | None = None
    instance_types: tuple[str, ...] = ()

    @classmethod
    def from_aws(cls, item: Mapping[str, Any]) -> Environment:
        resources = item.get("computeResources") or {}
        return cls(
            name=str(item.get("computeEnvironmentName") or item.get("computeEnvironmentArn")),
            state=str(item.get("state") or "ENABLED"),
            status=str(item.get("status") or "VALID"),
            status_reason=str(item.get("statusReason") or "").rstrip("."),
            kind=str(resources.get("type") or item.get("type") or "EC2"),
            max_vcpus=resources.get("maxvCpus"),
            desired_vcpus=resources.get("desiredvCpus"),
            instance_types=tuple(resources.get("instanceTypes") or ()),
        )

    @property
    def fargate(self) -> bool:
        return self.kind.startswith("FARGATE")


@dataclass(frozen=True)
class Queue:
    """A job queue (``DescribeJobQueues``): state, status and its environments in order."""

    name: str
    state: str = "ENABLED"
    status: str = "VALID"
    status_reason: str = ""
    environments: tuple[str, ...] = ()

    @classmethod
    def from_aws(cls, item: Mapping[str, Any]) -> Queue:
        order = sorted(item.get("computeEnvironmentOrder") or [], key=lambda o: o.get("order", 0))
        return cls(
            name=str(item.get("jobQueueName") or item.get("jobQueueArn")),
            state=str(item.get("state") or "ENABLED"),
            status=str(item.get("status") or "VALID"),
            status_reason=str(item.get("statusReason") or "").rstrip("."),
            environments=tuple(str(o["computeEnvironment"]) for o in order),
        )


@dataclass(frozen=True)
class Explanation:
    """Why a job waits: ``blocked`` when nothing will ever place it as it is."""

    message: str
    blocked: bool
    reasons: tuple[str, ...] = field(default=())


def family_patterns(instance_types: Iterable[str]) -> list[str]:
    """``DescribeInstanceTypes`` name patterns for an environment's ``instanceTypes``
    (``optimal`` → both generations of C/M/R; the sizes found decide, see :func:`sizes_for`).
    Unknown keywords (``default_x86_64``…) give no pattern: their sizes stay unknown."""
    patterns: list[str] = []
    for name in instance_types:
        if name == "optimal":
            wanted = [f"{f}.*" for f in (*OPTIMAL_FAMILIES, *OPTIMAL_FALLBACK)]
        elif name.startswith("default_"):
            wanted = []
        elif "." in name:
            wanted = [name]
        else:
            wanted = [f"{name}.*"]
        patterns += [p for p in wanted if p not in patterns]
    return patterns


def sizes_for(
    instance_types: Iterable[str], catalog: Mapping[str, InstanceSize]
) -> list[InstanceSize] | None:
    """The instance types an environment allows, from ``catalog`` (name → size).  None when
    one entry cannot be resolved (an unknown keyword): the sizes are then not known."""
    chosen: dict[str, InstanceSize] = {}
    for name in instance_types:
        if name == "optimal":
            older = [s for s in catalog.values() if s.name.split(".")[0] in OPTIMAL_FAMILIES]
            newer = [s for s in catalog.values() if s.name.split(".")[0] in OPTIMAL_FALLBACK]
            found = older or newer
        elif name.startswith("default_"):
            return None
        elif "." in name:
            found = [catalog[name]] if name in catalog else []
        else:
            found = [s for s in catalog.values() if s.name.split(".")[0] == name]
        if not found:
            return None
        chosen.update((s.name, s) for s in found)
    return list(chosen.values()) or None


def gib(mib: float) -> str:
    value = mib / 1024
    return f"{value:.0f} GiB" if value >= 10 or value == int(value) else f"{value:.1f} GiB"


def cpus(value: float) -> str:
    text = f"{value:g}"
    return f"{text} CPU" if value == 1 else f"{text} CPUs"


def _largest(sizes: list[InstanceSize], key: str) -> InstanceSize:
    return max(sizes, key=lambda s: (getattr(s, key), s.name))


def _size_problem(env: Environment, needs: JobNeeds, sizes: list[InstanceSize]) -> str | None:
    """Why none of ``sizes`` can hold the job, or None if one can."""
    if needs.gpus:
        with_gpus = [s for s in sizes if s.gpus >= needs.gpus]
        if not with_gpus:
            most = _largest(sizes, "gpus")
            has = f"the most any has is {most.gpus} ({most.name})" if most.gpus else "none has one"
            return (
                f"needs {needs.gpus} GPU{'s' if needs.gpus > 1 else ''}; of the instance types "
                f"{env.name} allows ({_types(env)}), {has}"
            )
        sizes = with_gpus
    biggest = _largest(sizes, "vcpus")
    if needs.vcpus > biggest.vcpus:
        return (
            f"asks {cpus(needs.vcpus)}; the largest instance type {env.name} allows "
            f"({biggest.name}) has {biggest.vcpus}"
        )
    roomiest = _largest(sizes, "memory_mib")
    if needs.memory_mib > roomiest.memory_mib:
        return (
            f"asks {gib(needs.memory_mib)} of memory; the largest instance type {env.name} "
            f"allows ({roomiest.name}) has {gib(roomiest.memory_mib)}"
        )
    if needs.memory_mib > roomiest.memory_mib * (1 - MEMORY_RESERVE):
        return (
            f"asks {gib(needs.memory_mib)} of memory, all or nearly all of the largest instance "
            f"type {env.name} allows ({roomiest.name}, {gib(roomiest.memory_mib)} installed); "
            "ECS registers less than that for jobs (the agent and the OS keep some): ask a "
            "little less memory, or allow a larger type"
        )
    fits = [
        s
        for s in sizes
        if s.vcpus >= needs.vcpus and s.memory_mib * (1 - MEMORY_RESERVE) >= needs.memory_mib
    ]
    if not fits:
        return (
            f"asks {cpus(needs.vcpus)} and {gib(needs.memory_mib)} together; no instance type "
            f"{env.name} allows has both (most CPUs: {biggest.name}, {biggest.vcpus} CPUs and "
            f"{gib(biggest.memory_mib)}; most memory: {roomiest.name}, {roomiest.vcpus} CPUs "
            f"and {gib(roomiest.memory_mib)})"
        )
    return None


def _types(env: Environment) -> str:
    return ", ".join(env.instance_types) or "none listed"


def _env_problem(
    env: Environment | None, name: str, needs: JobNeeds, sizes: list[InstanceSize] | None
) -> str | None:
    """Why ``env`` can never place the job as it is (None: it could)."""
    if env is None:
        return f"the compute environment {name} does not exist (any more)"
    if env.state != "ENABLED":
        return f"the compute environment {env.name} is {env.state}: it starts no instances"
    if env.status == "INVALID":
        why = f": {env.status_reason.rstrip('.')}" if env.status_reason else ""
        return f"the compute environment {env.name} is INVALID{why}"
    if env.fargate:
        if needs.gpus:
            return f"needs a GPU; {env.name} is a Fargate environment (Fargate has no GPUs)"
        if needs.vcpus > FARGATE_MAX_VCPUS or needs.memory_mib > FARGATE_MAX_MEMORY_MIB:
            return (
                f"asks {cpus(needs.vcpus)} and {gib(needs.memory_mib)}; Fargate ({env.name}) "
                f"runs at most {FARGATE_MAX_VCPUS:g} CPUs and {gib(FARGATE_MAX_MEMORY_MIB)}"
            )
    if env.max_vcpus is not None and env.max_vcpus <= 0:
        return f"the compute environment {env.name} has maxvCpus 0: it can start no instance"
    if env.max_vcpus is not None and needs.vcpus > env.max_vcpus:
        return (
            f"asks {cpus(needs.vcpus)}; the compute environment {env.name} has maxvCpus "
            f"{env.max_vcpus}"
        )
    if sizes and not env.fargate:
        return _size_problem(env, needs, sizes)
    return None


def _waiting(env: Environment) -> str:
    """What a job that ``env`` could place is most likely waiting for."""
    if env.max_vcpus is not None and (env.desired_vcpus or 0) >= env.max_vcpus:
        return (
            f"the compute environment {env.name} is at its maxvCpus ({env.max_vcpus}): the "
            "task waits for other jobs to finish (raise maxCpus to run more at once)"
        )
    spot = " Spot" if env.kind in ("SPOT", "FARGATE_SPOT") else ""
    desired = f" (it wants {env.desired_vcpus} of {env.max_vcpus} vCPUs)" if env.max_vcpus else ""
    return (
        f"the compute environment {env.name} can run it and is scaling{desired}: the task "
        f"waits for{spot} capacity (new instances usually take a few minutes)"
    )


def explain(
    needs: JobNeeds,
    queue: Queue | None,
    environments: Mapping[str, Environment | None],
    sizes: Mapping[str, list[InstanceSize] | None],
    job_status_reason: str = "",
) -> Explanation:
    """Why a RUNNABLE job with ``needs`` in ``queue`` is not running.

    ``environments``: the queue's environments by the ARN or name the queue lists (None: not
    found); ``sizes``: the instance types each one allows, by the same key (None: unknown).
    ``job_status_reason``: the job's own ``statusReason`` (AWS Batch sets one on RUNNABLE jobs
    it knows it cannot place, e.g. ``MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT``)."""
    said = f" AWS Batch says: {job_status_reason}" if job_status_reason else ""
    if queue is None:
        return Explanation(f"its job queue no longer exists.{said}", True)
    if queue.state != "ENABLED":
        return Explanation(
            f"its job queue {queue.name} is {queue.state}: it schedules no new jobs.{said}", True
        )
    if queue.status == "INVALID":
        why = f": {queue.status_reason.rstrip('.')}" if queue.status_reason else ""
        return Explanation(f"its job queue {queue.name} is INVALID{why}.{said}", True)
    if not queue.environments:
        return Explanation(f"its job queue {queue.name} has no compute environment.{said}", True)
    problems: list[str] = []
    runnable: list[Environment] = []
    for key in queue.environments:
        env = environments.get(key)
        problem = _env_problem(env, key.rsplit("/", 1)[-1], needs, sizes.get(key))
        if problem:
            problems.append(problem)
        elif env is not None:
            runnable.append(env)
    if not runnable:
        message = "; ".join(problems)
        return Explanation(f"{message[0].upper()}{message[1:]}.{said}", True, tuple(problems))
    message = _waiting(runnable[0])
    return Explanation(f"{message[0].upper()}{message[1:]}.{said}", False, tuple(problems))
