"""Pipeline shapes (Seqera's CreatePipelineRequest / PipelineDbDto / LaunchDbDto)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from batchforge.schemas.common import ApiModel
from batchforge.schemas.compute_envs import LabelDbDto
from batchforge.schemas.workflows import WorkflowLaunchRequest


class CreatePipelineRequest(ApiModel):
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    icon: str | None = Field(default=None, max_length=255)
    launch: WorkflowLaunchRequest
    labelIds: list[int] = Field(default_factory=list)


class UpdatePipelineRequest(ApiModel):
    name: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    icon: str | None = Field(default=None, max_length=255)
    launch: WorkflowLaunchRequest | None = None
    labelIds: list[int] | None = None


class ComputeEnvDbDto(ApiModel):
    id: str
    name: str
    platform: str
    region: str | None = None


class PipelineDbDto(ApiModel):
    pipelineId: int
    name: str
    description: str | None = None
    icon: str | None = None
    repository: str
    userName: str | None = None
    workspaceId: int
    visibility: str = "SHARED"
    deleted: bool = False
    lastUpdated: datetime
    labels: list[LabelDbDto] | None = None
    computeEnv: ComputeEnvDbDto | None = None


class CreatePipelineResponse(ApiModel):
    pipeline: PipelineDbDto


UpdatePipelineResponse = CreatePipelineResponse
DescribePipelineResponse = CreatePipelineResponse


class ListPipelinesResponse(ApiModel):
    pipelines: list[PipelineDbDto]
    totalSize: int


class LaunchDbDto(WorkflowLaunchRequest):
    """The pipeline's launch configuration (Seqera's LaunchDbDto)."""

    id: str | None = None
    workspaceId: int | None = None
    dateCreated: datetime | None = None
    lastUpdated: datetime | None = None


class DescribeLaunchResponse(ApiModel):
    launch: LaunchDbDto
