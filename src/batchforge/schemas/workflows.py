"""Run shapes (Seqera's Workflow* schemas, for the fields batchforge fills)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from batchforge.schemas.common import ApiModel
from batchforge.schemas.compute_envs import AwsBatchConfig, LabelDbDto
from batchforge.schemas.trace import ProgressData

# The run name a run is shown with when its stored row cannot be read (see
# batchforge.services.run_rows); its ``errorMessage`` says why and how to delete it.
BROKEN_RUN_NAME = "(unreadable)"

WorkflowStatus = Literal["SUBMITTED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED", "UNKNOWN"]
ACTIVE_STATUSES = ("SUBMITTED", "RUNNING")


class WorkflowLaunchRequest(ApiModel):
    """Seqera's WorkflowLaunchRequest (``labelIds`` are numeric label ids).

    Every field of Seqera's schema is here, so none is silently dropped: the launch service
    honours each one or refuses it with a 400 ``unsupported`` naming it
    (:data:`batchforge.launch.checks.UNSUPPORTED_FIELDS`).  ``id`` and ``dateCreated``
    are read-only metadata (``tw runs relaunch`` sends them back): accepted and not used.
    ``sessionId`` counts only with ``resume`` (as on Seqera, ``tw`` sends it with
    ``resume=false`` too); without ``resume`` a run gets a new session.
    """

    # Limits of the columns these are stored in (PostgreSQL enforces them).
    computeEnvId: str | None = Field(default=None, max_length=64)
    pipeline: str | None = Field(default=None, max_length=1024)
    revision: str | None = Field(default=None, max_length=255)
    commitId: str | None = Field(default=None, max_length=255)
    workDir: str | None = Field(default=None, max_length=1024)
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
    outputDir: str | None = None
    id: str | None = None
    dateCreated: datetime | None = None
    # Seqera features batchforge does not implement: refused when set.
    optimizationId: str | None = None
    optimizationTargets: str | None = None
    pipelineSchemaId: int | None = None
    schemaName: str | None = None
    syntaxParser: Literal["v1", "v2"] | None = None
    towerConfig: str | None = None


class ComputeEnvRef(ApiModel):
    """The compute environment of a launch (Seqera's ComputeEnv_ComputeConfig_): ``tw``
    reads its ``id`` (``tw launch`` of a saved pipeline), ``name`` (``tw runs view``) and
    ``config.workDir``."""

    id: str
    name: str | None = None
    platform: str = "aws-batch"
    status: str | None = None
    credentialsId: str | None = None
    workspaceId: int | None = None
    primary: bool | None = None
    message: str | None = None
    config: AwsBatchConfig | None = None


class WorkflowLaunchResponse(WorkflowLaunchRequest):
    """Seqera's WorkflowLaunchResponse: the launch of a run, ready to be posted again.

    ``sessionId`` is the run's session, ``resumeDir`` its work directory, ``resumeCommitId``
    the revision to resume (``tw runs relaunch`` resumes only when it is set)."""

    computeEnv: ComputeEnvRef | None = None
    pipelineId: int | None = None
    resumeDir: str | None = None
    resumeCommitId: str | None = None


class DescribeWorkflowLaunchResponse(ApiModel):
    launch: WorkflowLaunchResponse


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
    # Filled by the trace (Nextflow's own report, see services/trace.py).
    commitId: str | None = None
    scriptName: str | None = None
    profile: str | None = None
    container: str | None = None
    containerEngine: str | None = None
    launchDir: str | None = None
    projectDir: str | None = None
    errorReport: str | None = None
    nextflow: dict[str, Any] | None = None
    manifest: dict[str, Any] | None = None
    stats: dict[str, Any] | None = None


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


class AssociateWorkflowLabelsRequest(ApiModel):
    """Seqera's AssociateWorkflowLabelsRequest (``/workflow/labels/add|apply|remove``)."""

    workflowIds: list[str] | None = None
    labelIds: list[int] | None = None


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
    progress: ProgressData | None = None
    # The run's cost estimate (USD) from its priced tasks (services/run_costs.py), and,
    # batchforge's extension, what the estimate leaves out (tasks that could not be priced).
    cost: float | None = None
    costCurrency: str | None = None
    costIsEstimate: bool | None = None
    costNote: str | None = None


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
