"""Platform shapes (Seqera's ComputePlatform / ComputeRegion / AwsBatchPlatformMetainfo)."""

from __future__ import annotations

from pydantic import Field

from batchforge.schemas.common import ApiModel


class ComputePlatform(ApiModel):
    id: str
    name: str
    credentialsProviders: list[str]


class ListPlatformsResponse(ApiModel):
    platforms: list[ComputePlatform]


class ComputeRegion(ApiModel):
    id: str
    name: str


class ListRegionsResponse(ApiModel):
    regions: list[ComputeRegion]


class Vpc(ApiModel):
    id: str
    isDefault: bool = False


class Subnet(ApiModel):
    id: str
    vpcId: str
    zone: str | None = None


class SecurityGroup(ApiModel):
    id: str
    name: str | None = None
    vpcId: str | None = None


class Bucket(ApiModel):
    path: str


class EfsFileSystem(ApiModel):
    id: str


class FsxFileSystem(ApiModel):
    id: str
    dns: str | None = None
    mount: str | None = None


class Image(ApiModel):
    id: str
    name: str
    description: str
    arch: str


class JobQueue(ApiModel):
    name: str
    state: str


class AwsBatchPlatformMetainfo(ApiModel):
    discriminator: str = "aws-batch"
    warnings: list[str] = Field(default_factory=list)
    jobQueues: list[JobQueue] = Field(default_factory=list)
    buckets: list[Bucket] = Field(default_factory=list)
    fileSystems: list[FsxFileSystem] = Field(default_factory=list)
    efsFileSystems: list[EfsFileSystem] = Field(default_factory=list)
    keyPairs: list[str] = Field(default_factory=list)
    vpcs: list[Vpc] = Field(default_factory=list)
    images: list[Image] = Field(default_factory=list)
    securityGroups: list[SecurityGroup] = Field(default_factory=list)
    subnets: list[Subnet] = Field(default_factory=list)
    instanceFamilies: list[str] = Field(default_factory=list)
    allocStrategy: list[str] = Field(default_factory=list)


class DescribePlatformResponse(ApiModel):
    metainfo: AwsBatchPlatformMetainfo
