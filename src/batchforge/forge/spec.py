"""What Forge builds for one compute environment, and the names it gives things.

Names are deterministic — ``<prefix><ceId>`` plus a suffix — so that a retry or a resumed run
finds what an earlier attempt created instead of creating it twice, and so that the seed's IAM
policy (which grants on ``TowerForge-*``) works unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ComputeType = Literal["SPOT", "EC2"]
AmiFamily = Literal["al2023", "al2"]

# SSM public parameters of the ECS-optimized AMIs, by (family, variant).
AMI_PARAMETERS: dict[tuple[str, str], str] = {
    ("al2023", "x86_64"): "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
    (
        "al2023",
        "arm64",
    ): "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
    ("al2023", "gpu"): "/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/recommended/image_id",
    ("al2", "x86_64"): "/aws/service/ecs/optimized-ami/amazon-linux-2/recommended/image_id",
    ("al2", "arm64"): "/aws/service/ecs/optimized-ami/amazon-linux-2/arm64/recommended/image_id",
    ("al2", "gpu"): "/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id",
}

# AWS managed policies attached to forged roles.
BATCH_SERVICE_POLICY = "arn:aws:iam::aws:policy/service-role/AWSBatchServiceRole"
SPOT_FLEET_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2SpotFleetTaggingRole"
ECS_INSTANCE_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
ECS_TASK_EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"

DEFAULT_EBS_BLOCK_SIZE = 50
"""GiB of the first auto-scaled volume, and of the next ones, when ``ebsBlockSize`` is not
given (tower-cli ``--ebs-blocksize``: "If absent, Platform defaults to 50 GB")."""


@dataclass(frozen=True)
class ForgeSpec:
    """Everything Forge needs; built from a validated API request (see services)."""

    ce_id: str
    region: str
    work_dir: str
    prefix: str = "TowerForge-"
    account_id: str = ""
    compute_type: ComputeType = "SPOT"
    min_cpus: int = 0
    max_cpus: int = 256
    instance_types: tuple[str, ...] = ("optimal",)
    alloc_strategy: str | None = None
    bid_percentage: int | None = None
    subnets: tuple[str, ...] = ()
    security_groups: tuple[str, ...] = ()
    vpc_id: str | None = None
    ec2_key_pair: str | None = None
    image_id: str | None = None
    ami_family: AmiFamily = "al2023"
    gpu: bool = False
    arm64: bool = False
    ebs_boot_size: int | None = None
    # EBS auto-scaling (Seqera's ebsAutoScale / ebsBlockSize): Docker's storage grows by
    # volumes of ebs_block_size GiB (see forge.userdata and forge.plan).
    ebs_auto_scale: bool = False
    ebs_block_size: int = DEFAULT_EBS_BLOCK_SIZE
    ecs_config: str | None = None
    cli_path: str = "/home/ec2-user/miniconda/bin/aws"
    efs_create: bool = False
    efs_id: str | None = None
    efs_mount: str | None = None
    fsx_size: int | None = None
    fsx_id: str | None = None
    fsx_mount: str | None = None
    allow_buckets: tuple[str, ...] = ()
    head_job_role: str | None = None
    # Roles the user gave (not forged): the head-job role must be allowed to pass them to
    # AWS Batch, since Nextflow registers task job definitions with them.
    compute_job_role: str | None = None
    execution_role: str | None = None
    # CloudWatch log group of the jobs (aws.batch.logsGroup); Nextflow reads task logs there.
    log_group: str = "/aws/batch/job"
    # The KMS key encrypting per-run secret copies: the execution role must decrypt with it.
    secrets_kms_key: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def base_name(self) -> str:
        return f"{self.prefix}{self.ce_id}"

    def name(self, suffix: str = "") -> str:
        return f"{self.base_name}-{suffix}" if suffix else self.base_name

    @property
    def work_bucket(self) -> str | None:
        if not self.work_dir.startswith("s3://"):
            return None
        return self.work_dir[len("s3://") :].split("/", 1)[0]

    @property
    def ami_parameter(self) -> str | None:
        """The SSM parameter naming the AMI, or None when an image id is given."""
        if self.image_id:
            return None
        variant = "gpu" if self.gpu else ("arm64" if self.arm64 else "x86_64")
        return AMI_PARAMETERS[(self.ami_family, variant)]

    @property
    def head_ami_parameter(self) -> str | None:
        """The x86_64 ECS AMI parameter for the head compute environment when it cannot share
        the work environment's image: the launcher image (nextflow/nextflow) is amd64-only, so
        an ARM64 environment's head job runs on x86_64, and a GPU environment's head job needs
        no GPU.  None: the head shares the launch template's image."""
        if not (self.arm64 or self.gpu):
            return None
        return AMI_PARAMETERS[(self.ami_family, "x86_64")]

    @property
    def head_image_type(self) -> str:
        """Batch's ``ec2Configuration.imageType`` for the head's x86_64 ECS AMI."""
        return "ECS_AL2023" if self.ami_family == "al2023" else "ECS_AL2"

    @property
    def head_instance_types(self) -> tuple[str, ...]:
        """Ordinary x86_64 instances for the head job of an ARM64 or GPU environment."""
        return ("optimal",) if self.head_ami_parameter else self.instance_types

    def resource_tags(self) -> dict[str, str]:
        """Tags on every forged resource: the user's labels plus batchforge's own marks."""
        return {**self.tags, "batchforge:compute-env": self.ce_id, "Name": self.base_name}
