"""Field-by-field validation of a compute environment request, before any AWS call.

Every problem is an :class:`InvalidInput` naming the field (``computeEnv.config.forge.maxCpus``)
and the reason.  Nothing here talks to AWS or the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from batchforge.errors import InvalidInput, Unsupported
from batchforge.forge import ebs_autoscale
from batchforge.schemas.compute_envs import AwsBatchConfig, ComputeEnvIn, ForgeConfig

NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\x00-\x1f]*)?$")
ABS_PATH = re.compile(r"^/[^\x00-\x1f]*$")
SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
SECURITY_GROUP = re.compile(r"^sg-[0-9a-f]{8,17}$")
VPC = re.compile(r"^vpc-[0-9a-f]{8,17}$")
IMAGE = re.compile(r"^ami-[0-9a-f]{8,17}$")
# CloudWatch Logs CreateLogGroup: 1-512 characters of [\.\-_/#A-Za-z0-9].
LOG_GROUP = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
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
    validate_supported(config)
    _validate_work_dir(config)
    _validate_head_job(config)
    if config.logGroup is not None and not LOG_GROUP.match(config.logGroup):
        raise _bad(
            f"{C}.logGroup",
            "must be a CloudWatch log group name: 1-512 characters of letters, digits and "
            "'.', '-', '_', '/', '#'.",
        )
    _validate_environment(config)
    for index, volume in enumerate(config.volumes):
        if not ABS_PATH.match(volume or ""):
            raise _bad(f"{C}.volumes[{index}]", "must be an absolute host path (e.g. /mnt/efs).")
    for field in ("headJobRole", "computeJobRole", "executionRole"):
        value = getattr(config, field)
        if value and not ROLE_ARN.match(value):
            raise _bad(
                f"{C}.{field}", "must be an IAM role ARN (arn:aws:iam::123456789012:role/NAME)."
            )


def _validate_work_dir(config: AwsBatchConfig) -> None:
    """Nextflow's awsbatch executor aborts unless the work directory is in S3
    (``AwsBatchExecutor.validateWorkDir`` in nf-amazon, Nextflow 24.10): an EFS or FSx path is
    refused here, not when the first run fails.  EFS/FSx are data mounts beside it."""
    work_dir = config.workDir
    if not work_dir:
        raise _bad(f"{C}.workDir", "an S3 work directory (s3://bucket/path) is required.")
    if S3_URI.match(work_dir):
        return
    if ABS_PATH.match(work_dir):
        raise _bad(
            f"{C}.workDir",
            f"'{work_dir}' is not in S3: Nextflow's awsbatch executor needs an S3 work directory "
            "(s3://bucket/path) and aborts otherwise. Mount EFS/FSx with efsMount/fsxMount "
            "as data storage beside an S3 work directory.",
        )
    raise _bad(f"{C}.workDir", "must be an S3 URI: s3://bucket[/path].")


def _validate_environment(config: AwsBatchConfig) -> None:
    for index, variable in enumerate(config.environment):
        field = f"{C}.environment[{index}]"
        if not ENV_NAME.match(variable.name or ""):
            raise _bad(f"{field}.name", f"'{variable.name}' is not an environment variable name.")
        if not (variable.head or variable.compute):
            raise _bad(
                field,
                f"variable {variable.name} targets neither the head job (head) nor the tasks "
                "(compute): set one of them.",
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
    _validate_architecture(forge)
    if forge.ebsBootSize is not None and not 30 <= forge.ebsBootSize <= 16384:
        raise _bad(f"{F}.ebsBootSize", "must be between 30 and 16384 GiB.")
    _validate_ebs_autoscale(forge)
    for index, bucket in enumerate(forge.allowBuckets):
        if not S3_URI.match(bucket if bucket.startswith("s3://") else f"s3://{bucket}"):
            raise _bad(
                f"{F}.allowBuckets[{index}]", f"'{bucket}' is not a bucket name or s3:// URI."
            )


def _validate_ebs_autoscale(forge: ForgeConfig) -> None:
    """``ebsBlockSize`` is the size (GiB) of the first auto-scaled volume and of those added
    later (tower-cli ``--ebs-blocksize``): an EBS gp3 volume size, and only meaningful with
    ``ebsAutoScale`` (refused without it rather than silently ignored)."""
    size = forge.ebsBlockSize
    if size is None:
        return
    low, high = ebs_autoscale.MIN_BLOCK_SIZE, ebs_autoscale.MAX_BLOCK_SIZE
    if not low <= size <= high:
        raise _bad(
            f"{F}.ebsBlockSize",
            f"must be between {low} and {high} GiB (the sizes of an EBS gp3 volume).",
        )
    if not forge.ebsAutoScale:
        raise _bad(
            f"{F}.ebsBlockSize",
            "applies only with ebsAutoScale: set ebsAutoScale to true, or leave ebsBlockSize out.",
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


# Where EFS/FSx are mounted when the request names no path.  Seqera (and ``tw``'s
# ``--efs-mount``/``--fsx-mount``) default the mount to the pipeline work directory, which
# there may be the file system itself; here the work directory is always in S3 (see
# _validate_work_dir), so the file systems get fixed paths beside it.
DEFAULT_EFS_MOUNT = "/mnt/efs"
DEFAULT_FSX_MOUNT = "/mnt/fsx"


def default_mounts(config: AwsBatchConfig) -> tuple[AwsBatchConfig, list[str]]:
    """``config`` with the EFS/FSx mount paths filled where a file system is asked for
    without one, and a note saying so for each."""
    forge = config.forge
    if forge is None:
        return config, []
    filled: dict[str, str] = {}
    if (forge.efsCreate or forge.efsId) and not forge.efsMount:
        filled["efsMount"] = DEFAULT_EFS_MOUNT
    fsx = forge.fsxSize is not None or bool(config.lustreId or forge.fsxName)
    if fsx and not forge.fsxMount:
        filled["fsxMount"] = DEFAULT_FSX_MOUNT
    if not filled:
        return config, []
    notes = [
        f"{F}.{key} not given: mounted at {path} (the work directory is in S3, so it cannot "
        "be the mount path as on Seqera)."
        for key, path in filled.items()
    ]
    forge = forge.model_copy(update=filled)
    return config.model_copy(update={"forge": forge}), notes


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


def warnings_for(config: AwsBatchConfig, forge: ForgeConfig | None) -> list[str]:
    """Non-blocking advice shown with the environment."""
    notes: list[str] = []
    if forge and forge.imageId and (forge.fsxSize or forge.fsxName or config.lustreId):
        notes.append("FSx with a custom AMI: make sure the Lustre client is installed in it.")
    return notes


# --- Seqera features batchforge does not implement ---------------------------------------
# Each is accepted when off (false, null, empty: exports carry them so) and refused when on,
# so that a request never silently does less than it says.  Keys are paths under ``config``.
UNSUPPORTED: dict[str, str] = {
    "waveEnabled": "Wave containers",
    "fusion2Enabled": "Fusion v2 file system",
    "fusionSnapshots": "Fusion snapshots",
    "nvnmeStorageEnabled": "NVMe fast instance storage",
    "dragenQueue": "DRAGEN queue",
    "dragenInstanceType": "DRAGEN instance type",
    "storageType": "storage type (deprecated Seqera field)",
    "forge.fusionEnabled": "Fusion file system",
    "forge.fargateHeadEnabled": "Fargate for the head job",
    "forge.dragenEnabled": "DRAGEN",
    "forge.dragenAmiId": "DRAGEN AMI",
    "forge.dragenInstanceType": "DRAGEN instance type",
}


def _is_on(value: Any) -> bool:
    return value is not None and value is not False and value != "" and value != []


def unsupported_fields(config: Mapping[str, Any]) -> list[str]:
    """The paths (under ``config``, e.g. ``forge.fusionEnabled``) of the Seqera features that
    ``config`` (a request or export's ``config`` object, as JSON) turns on and batchforge does
    not implement."""
    found = []
    for path in UNSUPPORTED:
        section: Any = config
        for key in path.split(".")[:-1]:
            section = section.get(key) if isinstance(section, Mapping) else None
        if isinstance(section, Mapping) and _is_on(section.get(path.split(".")[-1])):
            found.append(path)
    return found


def drop_unsupported(config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``config`` without the unsupported features it turns on, and their paths
    (what ``compute-envs import --ignore-unsupported`` drops)."""
    result: dict[str, Any] = dict(config)
    if isinstance(result.get("forge"), Mapping):
        result["forge"] = dict(result["forge"])
    dropped = unsupported_fields(result)
    for path in dropped:
        *parents, key = path.split(".")
        section = result
        for parent in parents:
            section = section[parent]
        section.pop(key, None)
    return result, dropped


def describe_unsupported(paths: list[str]) -> str:
    return ", ".join(f"{path} ({UNSUPPORTED[path]})" for path in paths)


def validate_supported(config: AwsBatchConfig) -> None:
    """A 400 ``unsupported`` naming the first unsupported feature ``config`` turns on (the
    message lists them all)."""
    found = unsupported_fields(config.model_dump(mode="json"))
    if not found:
        return
    field = f"{C}.{found[0]}"
    raise Unsupported(
        f"{field}: {UNSUPPORTED[found[0]]} is not supported by batchforge"
        + (f" (nor: {describe_unsupported(found[1:])})" if found[1:] else "")
        + ". Turn it off (false/null) to create this compute environment.",
        field=field,
        hint="Importing a Seqera export? `batchforge compute-envs import FILE "
        "--ignore-unsupported` drops these features and says which.",
    )


# --- Instance types and architectures ----------------------------------------------------
# EC2 instance type names: a "g" after the generation digit marks AWS Graviton (arm64)
# processors (m6g, c7gn, r8gd, x2gd, im4gn…); a1 is the first Graviton family.
# https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html
GRAVITON = re.compile(r"^(a1|[a-z]+\d+g[a-z0-9]*)$")
# NVIDIA GPU families for which AWS Batch picks the ECS GPU-optimized AMI (p3-p6, g3-g6…;
# https://docs.aws.amazon.com/batch/latest/userguide/batch-gpu-ami.html).  g4ad is AMD
# (no NVIDIA driver in that AMI); g5g is Graviton (the GPU AMI is x86_64).
NVIDIA_GPU = re.compile(r"^(p[3-9][a-z0-9-]*|g[3-9][a-z]*|gr[6-9][a-z]*)$")
NOT_NVIDIA_GPU = {"g4ad", "g5g"}
# Defaults when the request leaves instance types open (none, or just "optimal", which
# Batch resolves to x86_64 C/M/R families only): current Graviton general/compute/memory
# families for arm64, and NVIDIA GPU families for GPU (T4, A10G, L4, L40S).  Preflight keeps
# those the region offers.
ARM64_DEFAULT = ("m7g", "c7g", "r7g", "m6g", "c6g", "r6g")
GPU_DEFAULT = ("g6", "g6e", "g5", "g4dn")


def family(instance_type: str) -> str:
    return instance_type.split(".", 1)[0]


def is_arm64(instance_type: str) -> bool:
    return instance_type != "optimal" and bool(GRAVITON.match(family(instance_type)))


def is_nvidia_gpu(instance_type: str) -> bool:
    name = family(instance_type)
    return bool(NVIDIA_GPU.match(name)) and name not in NOT_NVIDIA_GPU


def uses_default_types(forge: ForgeConfig) -> bool:
    return forge.instanceTypes in ([], ["optimal"])


def default_instance_types(forge: ForgeConfig) -> tuple[str, ...] | None:
    """The families Forge uses when the request gives none (None: Batch's ``optimal``)."""
    if forge.arm64Enabled:
        return ARM64_DEFAULT
    if forge.gpuEnabled:
        return GPU_DEFAULT
    return None


def _validate_architecture(forge: ForgeConfig) -> None:
    """ARM64 environments need Graviton types only (the arm64 AMI boots nothing else), x86
    ones no Graviton types, GPU ones at least one NVIDIA GPU type."""
    if uses_default_types(forge):
        return
    field = f"{F}.instanceTypes"
    for index, name in enumerate(forge.instanceTypes):
        if forge.arm64Enabled and not is_arm64(name):
            reason = (
                "'optimal' means x86_64 C/M/R families only"
                if name == "optimal"
                else f"{name} is an x86_64 type"
            )
            raise _bad(
                f"{field}[{index}]",
                f"{reason}: an ARM64 environment runs on the arm64 ECS AMI, which needs AWS "
                "Graviton types (e.g. m7g, c7g, r7g, m6g). Leave instanceTypes empty for those.",
            )
        if not forge.arm64Enabled and is_arm64(name):
            raise _bad(
                f"{field}[{index}]",
                f"{name} is an ARM64 (Graviton) type: the x86_64 ECS AMI cannot boot it. Set "
                "arm64Enabled or choose x86_64 types.",
            )
    if forge.gpuEnabled and not any(is_nvidia_gpu(name) for name in forge.instanceTypes):
        raise _bad(
            field,
            "a GPU environment needs at least one NVIDIA GPU family (e.g. g6, g5, g4dn, p4d, "
            "p5), otherwise no task asking for a GPU can ever be placed. Leave instanceTypes "
            "empty for the default GPU families.",
        )
