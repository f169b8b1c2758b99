"""Pipeline shapes (Seqera's CreatePipelineRequest / PipelineDbDto / LaunchDbDto)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from batchforge.schemas.common import ApiModel
from batchforge.schemas.compute_envs import LabelDbDto
from batchforge.schemas.workflows import ComputeEnvRef, WorkflowLaunchRequest


class CreatePipelineVersionRequest(ApiModel):
    """Seqera's CreatePipelineVersionRequest: the name of the pipeline's first version."""

    name: str | None = None


class CreatePipelineRequest(ApiModel):
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    icon: str | None = Field(default=None, max_length=255)
    launch: WorkflowLaunchRequest
    labelIds: list[int] = Field(default_factory=list)
    # The first version's name (``tw pipelines add --version-name``); else ``<name>-1``.
    version: CreatePipelineVersionRequest | None = None


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


class PipelineVersionFullInfoDto(ApiModel):
    """One version of a pipeline (Seqera's PipelineVersionFullInfoDto)."""

    id: str
    name: str | None = None
    hash: str | None = None
    isDefault: bool = False
    creatorUserName: str | None = None
    creatorUserId: int | None = None
    dateCreated: datetime | None = None
    lastUpdated: datetime | None = None


class PipelineDbDto(ApiModel):
    pipelineId: int
    name: str
    description: str | None = None
    icon: str | None = None
    repository: str
    userName: str | None = None
    workspaceId: int
    # Its workspace's (Seqera): PRIVATE or SHARED; set with orgId/orgName/workspaceName by
    # services/pipelines.py, so that a shared pipeline listed elsewhere says where it is.
    visibility: str = "PRIVATE"
    orgId: int | None = None
    orgName: str | None = None
    workspaceName: str | None = None
    deleted: bool = False
    lastUpdated: datetime
    labels: list[LabelDbDto] | None = None
    computeEnv: ComputeEnvDbDto | None = None
    # The default version (describe, list, update: the version updated or made).
    version: PipelineVersionFullInfoDto | None = None


class CreatePipelineResponse(ApiModel):
    pipeline: PipelineDbDto


UpdatePipelineResponse = CreatePipelineResponse
DescribePipelineResponse = CreatePipelineResponse


class ListPipelinesResponse(ApiModel):
    pipelines: list[PipelineDbDto]
    totalSize: int


class ListPipelineVersionsResponse(ApiModel):
    """Seqera's ListPipelineVersionsResponse: each entry the pipeline with ``version`` set."""

    versions: list[PipelineDbDto]
    totalSize: int


class PipelineVersionManageRequest(ApiModel):
    """Seqera's PipelineVersionManageRequest: a new name (its pattern is checked by the
    service, with Seqera's 400 message) and/or ``isDefault: true``."""

    name: str | None = None
    isDefault: bool | None = None


class PipelineLabelsRequest(ApiModel):
    """Seqera's AssociatePipelineLabelsRequest (``/pipelines/labels/add|apply|remove``)."""

    pipelineIds: list[int] = Field(default_factory=list)
    labelIds: list[int] = Field(default_factory=list)


class LaunchDbDto(WorkflowLaunchRequest):
    """The pipeline's launch configuration (Seqera's LaunchDbDto): ``id`` is the version's id
    (Seqera: the launch id), ``computeEnv`` the environment object ``tw`` reads."""

    computeEnv: ComputeEnvRef | None = None
    id: str | None = None
    workspaceId: int | None = None
    dateCreated: datetime | None = None
    lastUpdated: datetime | None = None


class DescribeLaunchResponse(ApiModel):
    launch: LaunchDbDto
