"""Compute environment shapes (Seqera's ComputeEnv / AwsBatchConfig / ForgeConfig)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from batchforge.schemas.common import ApiModel

ComputeEnvStatus = Literal[
    "CREATING", "AVAILABLE", "DISABLED", "DELETING", "ERRORED", "INVALID", "DELETED"
]


class ForgeConfig(ApiModel):
    type: Literal["SPOT", "EC2"] | None = None
    minCpus: int | None = None
    maxCpus: int | None = None
    gpuEnabled: bool = False
    arm64Enabled: bool = False
    ebsAutoScale: bool | None = None
    instanceTypes: list[str] = Field(default_factory=list)
    allocStrategy: (
        Literal[
            "BEST_FIT",
            "BEST_FIT_PROGRESSIVE",
            "SPOT_CAPACITY_OPTIMIZED",
            "SPOT_PRICE_CAPACITY_OPTIMIZED",
        ]
        | None
    ) = None
    imageId: str | None = None
    vpcId: str | None = None
    subnets: list[str] = Field(default_factory=list)
    securityGroups: list[str] = Field(default_factory=list)
    fsxMount: str | None = None
    fsxName: str | None = None
    fsxSize: int | None = None
    disposeOnDeletion: bool = True
    ec2KeyPair: str | None = None
    allowBuckets: list[str] = Field(default_factory=list)
    ebsBlockSize: int | None = None
    fusionEnabled: bool | None = None
    bidPercentage: int | None = None
    efsCreate: bool = False
    efsId: str | None = None
    efsMount: str | None = None
    dragenEnabled: bool | None = None
    dragenAmiId: str | None = None  # refused when set (DRAGEN is not supported)
    dragenInstanceType: str | None = None  # refused when set
    ecsConfig: str | None = None
    fargateHeadEnabled: bool | None = None
    ebsBootSize: int | None = None
    amiFamily: Literal["al2023", "al2"] = "al2023"  # batchforge extension


class ConfigEnvVariable(ApiModel):
    name: str
    value: str | None = None
    head: bool = False
    compute: bool = False


class AwsBatchConfig(ApiModel):
    discriminator: Literal["aws-batch"] | None = "aws-batch"
    region: str | None = None
    workDir: str | None = None
    forge: ForgeConfig | None = None
    headQueue: str | None = None
    computeQueue: str | None = None
    headJobRole: str | None = None
    computeJobRole: str | None = None
    executionRole: str | None = None
    headJobCpus: int | None = None
    headJobMemoryMb: int | None = None
    cliPath: str | None = None
    logGroup: str | None = None
    # batchforge extension: the KMS key that encrypts the per-run Secrets Manager copies of
    # pipeline secrets (default: the account's aws/secretsmanager key).
    secretsKmsKeyId: str | None = None
    lustreId: str | None = None
    volumes: list[str] = Field(default_factory=list)
    preRunScript: str | None = None
    postRunScript: str | None = None
    nextflowConfig: str | None = None
    environment: list[ConfigEnvVariable] = Field(default_factory=list)
    # Seqera features batchforge does not implement: accepted only when off (false/null/empty);
    # on, they are a 400 "unsupported" (services/compute_validation.UNSUPPORTED).
    waveEnabled: bool | None = None
    fusion2Enabled: bool | None = None
    fusionSnapshots: bool | None = None
    nvnmeStorageEnabled: bool | None = None
    dragenQueue: str | None = None
    dragenInstanceType: str | None = None
    storageType: str | None = None
    forgedResources: list[dict[str, Any]] = Field(default_factory=list)


class ComputeEnvIn(ApiModel):
    name: str = Field(max_length=100)
    platform: str
    credentialsId: str | None = None
    description: str | None = Field(default=None, max_length=2000)
    config: AwsBatchConfig


class CreateComputeEnvRequest(ApiModel):
    computeEnv: ComputeEnvIn
    labelIds: list[int] = Field(default_factory=list)


class CreateComputeEnvResponse(ApiModel):
    computeEnvId: str


class UpdateComputeEnvRequest(ApiModel):
    name: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    credentialsId: str | None = None


class LabelDbDto(ApiModel):
    id: int
    name: str
    value: str | None = None
    resource: bool = False
    isDefault: bool = False


class ComputeEnvOut(ApiModel):
    id: str
    name: str
    description: str | None = None
    platform: str
    credentialsId: str | None = None
    workspaceId: int
    config: AwsBatchConfig
    status: ComputeEnvStatus
    message: str | None = None
    primary: bool = False
    deleted: bool = False
    dateCreated: datetime
    lastUpdated: datetime
    lastUsed: datetime | None = None
    labels: list[LabelDbDto] = Field(default_factory=list)


class DescribeComputeEnvResponse(ApiModel):
    computeEnv: ComputeEnvOut


class ValidateComputeEnvResponse(ApiModel):
    """Seqera's ValidateComputeEnvResponse, and batchforge's ``computeEnv`` after the check."""

    status: ComputeEnvStatus
    transientError: bool = False
    message: str | None = None
    computeEnv: ComputeEnvOut | None = None


class ListComputeEnvsEntry(ApiModel):
    id: str
    name: str
    platform: str
    status: ComputeEnvStatus
    message: str | None = None
    credentialsId: str | None = None
    description: str | None = None
    region: str | None = None
    workDir: str | None = None
    primary: bool = False
    lastUsed: datetime | None = None
    labels: list[LabelDbDto] = Field(default_factory=list)


class ListComputeEnvsResponse(ApiModel):
    computeEnvs: list[ListComputeEnvsEntry]
