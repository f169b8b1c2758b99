"""Field-by-field validation of a compute environment request, before any AWS call.

Every problem is an :class:`InvalidInput` naming the field (``computeEnv.config.forge.maxCpus``)
and the reason.  Nothing here talks to AWS or the database.
"""

from __future__ import annotations

import re

from batchforge.errors import InvalidInput
from batchforge.schemas.compute_envs import AwsBatchConfig, ComputeEnvIn, ForgeConfig

NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\x00-\x1f]*)?$")
ABS_PATH = re.compile(r"^/[^\x00-\x1f]*$")
SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
SECURITY_GROUP = re.compile(r"^sg-[0-9a-f]{8,17}$")
VPC = re.compile(r"^vpc-[0-9a-f]{8,17}$")
IMAGE = re.compile(r"^ami-[0-9a-f]{8,17}$")
EFS_ID = re.compile(r"^fs-[0-9a-f]{8,17}$")
INSTANCE_TYPE = re.compile(r"^(optimal|[a-z][a-z0-9-]*[0-9][a-z0-9-]*(\.[a-z0-9]+)?)$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
QUEUE = re.compile(
    r"^([A-Za-z0-9_-]{1,128}|arn:aws[a-z-]*:batch:[a-z0-9-]+:\d{12}:job-queue/[A-Za-z0-9_-]{1,128})$"
)
EC2_ALLOC = {"BEST_FIT", "BEST_FIT_PROGRESSIVE"}
SPOT_ALLOC = {
    "BEST_FIT",
    "BEST_FIT_PROGRESSIVE",
    "SPOT_CAPACITY_OPTIMIZED",
    "SPOT_PRICE_CAPACITY_OPTIMIZED",
}
MIN_HEAD_MEMORY_MB = 1024

P = "computeEnv"
C = f"{P}.config"
F = f"{C}.forge"


def _bad(field: str, reason: str) -> InvalidInput:
    return InvalidInput(f"{field}: {reason}", field=field)


def _check_list(field: str, values: list[str], pattern: re.Pattern[str], example: str) -> None:
    for index, value in enumerate(values):
        if not pattern.match(value):
            raise _bad(f"{field}[{index}]", f"'{value}' is not valid (expected e.g. {example}).")


def validate_common(body: ComputeEnvIn) -> None:
    if not NAME.match(body.name):
        raise _bad(f"{P}.name", "use 1-100 letters, digits, '-' or '_'.")
    if body.platform != "aws-batch":
        raise _bad(f"{P}.platform", f"'{body.platform}' is not supported; use 'aws-batch'.")
    if not body.credentialsId:
        raise _bad(f"{P}.credentialsId", "AWS credentials are required.")
    config = body.config
    if not config.region or not REGION.match(config.region):
        raise _bad(f"{C}.region", "a region such as us-east-1 is required.")
    if not config.workDir:
        raise _bad(
            f"{C}.workDir", "a work directory (s3://bucket/path, or a path on EFS/FSx) is required."
        )
    if not (S3_URI.match(config.workDir) or ABS_PATH.match(config.workDir)):
        raise _bad(f"{C}.workDir", "must be s3://bucket[/path] or an absolute path on EFS/FSx.")
    _validate_head_job(config)
    for field in ("headJobRole", "computeJobRole", "executionRole"):
        value = getattr(config, field)
        if value and not ROLE_ARN.match(value):
            raise _bad(
                f"{C}.{field}", "must be an IAM role ARN (arn:aws:iam::123456789012:role/NAME)."
            )


def _validate_head_job(config: AwsBatchConfig) -> None:
    if config.headJobCpus is not None and not 1 <= config.headJobCpus <= 192:
        raise _bad(f"{C}.headJobCpus", "must be between 1 and 192.")
    if config.headJobMemoryMb is not None and config.headJobMemoryMb < MIN_HEAD_MEMORY_MB:
        raise _bad(f"{C}.headJobMemoryMb", f"must be at least {MIN_HEAD_MEMORY_MB} MiB.")


def validate_manual(config: AwsBatchConfig) -> None:
    if not config.headQueue:
        raise _bad(f"{C}.headQueue", "a job queue for the head job is required without Forge.")
    for field in ("headQueue", "computeQueue"):
        value = getattr(config, field)
        if value and not QUEUE.match(value):
            raise _bad(f"{C}.{field}", "must be a job queue name or ARN.")


def validate_forge(config: AwsBatchConfig, forge: ForgeConfig) -> None:
    if forge.type is None:
        raise _bad(f"{F}.type", "choose SPOT or EC2.")
    _validate_capacity(forge)
    _validate_network(forge)
    _validate_storage(config, forge)
    if forge.imageId and not IMAGE.match(forge.imageId):
        raise _bad(f"{F}.imageId", "must be an AMI id (ami-...).")
    if forge.gpuEnabled and forge.arm64Enabled:
        raise _bad(f"{F}.arm64Enabled", "GPU instances and ARM64 cannot be combined.")
    if forge.ebsBootSize is not None and not 30 <= forge.ebsBootSize <= 16384:
        raise _bad(f"{F}.ebsBootSize", "must be between 30 and 16384 GiB.")
    for index, bucket in enumerate(forge.allowBuckets):
        if not S3_URI.match(bucket if bucket.startswith("s3://") else f"s3://{bucket}"):
            raise _bad(
                f"{F}.allowBuckets[{index}]", f"'{bucket}' is not a bucket name or s3:// URI."
            )


def _validate_capacity(forge: ForgeConfig) -> None:
    if forge.maxCpus is None or forge.maxCpus < 1:
        raise _bad(f"{F}.maxCpus", "must be at least 1.")
    if forge.minCpus is not None and forge.minCpus < 0:
        raise _bad(f"{F}.minCpus", "cannot be negative.")
    if (forge.minCpus or 0) > forge.maxCpus:
        raise _bad(f"{F}.minCpus", f"({forge.minCpus}) must not exceed maxCpus ({forge.maxCpus}).")
    allowed = SPOT_ALLOC if forge.type == "SPOT" else EC2_ALLOC
    if forge.allocStrategy and forge.allocStrategy not in allowed:
        raise _bad(
            f"{F}.allocStrategy",
            f"{forge.allocStrategy} is not valid with {forge.type}; "
            f"use one of {', '.join(sorted(allowed))}.",
        )
    if forge.bidPercentage is not None:
        if forge.type != "SPOT":
            raise _bad(f"{F}.bidPercentage", "applies to SPOT only.")
        if not 1 <= forge.bidPercentage <= 100:
            raise _bad(f"{F}.bidPercentage", "must be between 1 and 100.")
    _check_list(f"{F}.instanceTypes", forge.instanceTypes, INSTANCE_TYPE, "m5.large, c6i, optimal")


def _validate_network(forge: ForgeConfig) -> None:
    _check_list(f"{F}.subnets", forge.subnets, SUBNET, "subnet-0abc12345")
    _check_list(f"{F}.securityGroups", forge.securityGroups, SECURITY_GROUP, "sg-0abc12345")
    if forge.vpcId and not VPC.match(forge.vpcId):
        raise _bad(f"{F}.vpcId", "must be a VPC id (vpc-...).")
    if (forge.subnets or forge.securityGroups) and not forge.vpcId:
        raise _bad(
            f"{F}.vpcId", "is required with subnets or security groups (they must belong to it)."
        )


def _validate_storage(config: AwsBatchConfig, forge: ForgeConfig) -> None:
    if forge.efsCreate and forge.efsId:
        raise _bad(f"{F}.efsId", "choose either an existing EFS (efsId) or efsCreate, not both.")
    if forge.efsId and not EFS_ID.match(forge.efsId):
        raise _bad(f"{F}.efsId", "must be an EFS id (fs-...).")
    if (forge.efsCreate or forge.efsId) and not forge.efsMount:
        raise _bad(f"{F}.efsMount", "a mount path is required with EFS.")
    fsx = forge.fsxSize is not None or bool(config.lustreId or forge.fsxName)
    if forge.fsxSize is not None and (
        forge.fsxSize < 1200 or (forge.fsxSize > 1200 and forge.fsxSize % 2400)
    ):
        raise _bad(f"{F}.fsxSize", "FSx for Lustre takes 1200 GiB or a multiple of 2400 GiB.")
    if fsx and not forge.fsxMount:
        raise _bad(f"{F}.fsxMount", "a mount path is required with FSx.")
    for field in ("efsMount", "fsxMount"):
        value = getattr(forge, field)
        if value and not ABS_PATH.match(value):
            raise _bad(f"{F}.{field}", "must be an absolute path.")
    work_dir = config.workDir or ""
    if work_dir.startswith("/"):
        mounts = [m for m in (forge.efsMount, forge.fsxMount) if m]
        if not any(work_dir == m or work_dir.startswith(m.rstrip("/") + "/") for m in mounts):
            raise _bad(f"{C}.workDir", "a path work directory must be under the EFS or FSx mount.")


def warnings_for(config: AwsBatchConfig, forge: ForgeConfig | None) -> list[str]:
    """Non-blocking advice shown with the environment."""
    notes: list[str] = []
    if (config.workDir or "").startswith("/"):
        notes.append("A work directory on EFS/FSx is incompatible with Studios.")
    if forge and forge.imageId and (forge.fsxSize or forge.fsxName or config.lustreId):
        notes.append("FSx with a custom AMI: make sure the Lustre client is installed in it.")
    return notes
