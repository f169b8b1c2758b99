"""Run shapes (Seqera's Workflow* schemas, for the fields batchforge fills)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from batchforge.schemas.common import ApiModel
from batchforge.schemas.compute_envs import LabelDbDto

WorkflowStatus = Literal["SUBMITTED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "UNKNOWN"]
ACTIVE_STATUSES = ("SUBMITTED", "RUNNING")


class WorkflowLaunchRequest(ApiModel):
    """Seqera's WorkflowLaunchRequest (``labelIds`` are numeric label ids)."""

    computeEnvId: str | None = None
    pipeline: str | None = None
    revision: str | None = None
    commitId: str | None = None
    workDir: str | None = None
    runName: str | None = Field(default=None, max_length=80)
    configProfiles: list[str] = Field(default_factory=list)
    configText: str | None = None
    paramsText: str | None = None
    preRunScript: str | None = None
    postRunScript: str | None = None
    headJobCpus: int | None = None
    headJobMemoryMb: int | None = None
    resume: bool = False
    sessionId: str | None = None
    pullLatest: bool = False
    stubRun: bool = False
    mainScript: str | None = None
    entryName: str | None = None
    labelIds: list[int] = Field(default_factory=list)
    nextflowVersion: str | None = None
    launchContainer: str | None = None
    spotRetry: bool = False  # batchforge extension: retry the head job on spot reclaim
    # Names of pipeline secrets to hand to the run (user secrets override workspace ones).
    workspaceSecrets: list[str] = Field(default_factory=list)
    userSecrets: list[str] = Field(default_factory=list)


class SubmitWorkflowLaunchRequest(ApiModel):
    launch: WorkflowLaunchRequest


class SubmitWorkflowLaunchResponse(ApiModel):
    workflowId: str


class WorkflowDbDto(ApiModel):
    id: str
    runName: str
    sessionId: str
    projectName: str
    repository: str | None = None
    revision: str | None = None
    commandLine: str
    workDir: str
    userName: str | None = None
    status: WorkflowStatus
    submit: datetime
    start: datetime | None = None
    complete: datetime | None = None
    dateCreated: datetime
    lastUpdated: datetime
    duration: int | None = None
    exitStatus: int | None = None
    errorMessage: str | None = None
    success: bool | None = None
    resume: bool = False
    deleted: bool = False
    launchId: str | None = None
    configText: str | None = None
    params: dict[str, Any] | None = None
    configProfiles: list[str] | None = None
    preRunScript: str | None = None
    postRunScript: str | None = None
    logFile: str | None = None


class JobInfoDto(ApiModel):
    """The head job.  ``operationId`` is the AWS Batch job id."""

    operationId: str | None = None
    status: str | None = None
    message: str | None = None
    exitCode: int | None = None


class ListWorkflowsElement(ApiModel):
    workflow: WorkflowDbDto
    workspaceId: int
    labels: list[LabelDbDto] | None = None
    starred: bool = False


class ListWorkflowsResponse(ApiModel):
    workflows: list[ListWorkflowsElement]
    totalSize: int | None = None
    hasMore: bool = False
    # batchforge extension: keyset cursor of the next page (pass as ``after``).
    next: str | None = None


class DescribeWorkflowResponse(ApiModel):
    workflow: WorkflowDbDto
    workspaceId: int
    jobInfo: JobInfoDto | None = None
    labels: list[LabelDbDto] | None = None
    messages: list[str] = Field(default_factory=list)
    platform: dict[str, Any] | None = None


class LogPage(ApiModel):
    entries: list[str] = Field(default_factory=list)
    forwardToken: str | None = None
    rewindToken: str | None = None
    pending: bool = False
    message: str | None = None
    truncated: bool = False
    downloads: list[dict[str, Any]] = Field(default_factory=list)


class WorkflowLogResponse(ApiModel):
    log: LogPage
