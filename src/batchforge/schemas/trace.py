"""Trace shapes (Seqera's ``Trace*Response``, ``Task``, ``ProgressData``, ``WorkflowMetrics``).

Request bodies of ``/trace/*`` are read leniently by :mod:`batchforge.runs.trace_parse`
(unknown fields accepted, dates with or without seconds, ``nativeId`` number or string);
the shapes below are what the API answers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from batchforge.schemas.common import ApiModel

TraceProcessingStatus = Literal["OK", "KO"]


class TraceCreateResponse(ApiModel):
    workflowId: str
    message: str | None = None
    watchUrl: str | None = None
    metadata: dict[str, Any] | None = None


class TraceBeginResponse(ApiModel):
    status: TraceProcessingStatus = "OK"
    workflowId: str
    watchUrl: str | None = None


class TraceProgressResponse(ApiModel):
    status: TraceProcessingStatus = "OK"
    workflowId: str


class TraceHeartbeatResponse(ApiModel):
    message: str = "OK"


class TraceCompleteResponse(ApiModel):
    status: TraceProcessingStatus = "OK"
    workflowId: str


class Task(BaseModel):
    """Seqera's Task: every field the plugin reported (unknown ones too), with ``taskId``,
    ``status``, ``nativeId`` (a string), dates normalised to UTC ISO-8601."""

    model_config = ConfigDict(extra="allow")

    taskId: int
    status: str
    id: int | None = None
    dateCreated: datetime | None = None
    lastUpdated: datetime | None = None


class DescribeTaskResponse(ApiModel):
    task: Task


class ListTasksResponse(ApiModel):
    tasks: list[DescribeTaskResponse]
    total: int


class ProcessLoad(ApiModel):
    """Seqera's ProcessLoad (its deprecated required fields are zeros)."""

    process: str
    pending: int = 0
    submitted: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    cached: int = 0
    aborted: int = 0
    ignored: int = 0
    retries: int = 0
    loadCpus: int = 0
    loadMemory: int = 0
    peakCpus: int = 0
    peakMemory: int = 0
    peakTasks: int = 0
    loadTasks: int = 0
    cpus: int = 0
    cpuTime: int = 0
    cpuLoad: int = 0
    memoryRss: int = 0
    memoryReq: int = 0
    readBytes: int = 0
    writeBytes: int = 0
    volCtxSwitch: int = 0
    invCtxSwitch: int = 0
    dateCreated: datetime | None = None
    lastUpdated: datetime | None = None


class WorkflowLoad(ApiModel):
    """Seqera's WorkflowLoad: run totals (counts from the tasks received)."""

    pending: int = 0
    submitted: int = 0
    running: int = 0
    succeeded: int = 0
    failed: int = 0
    cached: int = 0
    aborted: int = 0
    ignored: int = 0
    retries: int = 0
    loadCpus: int = 0
    loadMemory: int = 0
    loadTasks: int = 0
    peakCpus: int = 0
    peakMemory: int = 0
    peakTasks: int = 0
    cpus: int = 0
    cpuTime: int = 0
    cpuLoad: int = 0
    memoryRss: int = 0
    memoryReq: int = 0
    readBytes: int = 0
    writeBytes: int = 0
    volCtxSwitch: int = 0
    invCtxSwitch: int = 0
    executors: list[str] = []
    dateCreated: datetime | None = None
    lastUpdated: datetime | None = None
    # USD, an estimate (batchforge: services/run_costs.py); None while no task was priced.
    cost: float | None = None


class ProgressData(ApiModel):
    workflowProgress: WorkflowLoad
    processesProgress: list[ProcessLoad]
    totalProcesses: int


class GetProgressResponse(ApiModel):
    progress: ProgressData


class ResourceData(BaseModel):
    model_config = ConfigDict(extra="allow")

    mean: float | None = None
    min: float | None = None
    q1: float | None = None
    q2: float | None = None
    q3: float | None = None
    max: float | None = None
    minLabel: str | None = None
    maxLabel: str | None = None
    q1Label: str | None = None
    q2Label: str | None = None
    q3Label: str | None = None


class WorkflowMetrics(ApiModel):
    process: str
    cpu: ResourceData | None = None
    mem: ResourceData | None = None
    vmem: ResourceData | None = None
    time: ResourceData | None = None
    reads: ResourceData | None = None
    writes: ResourceData | None = None
    cpuUsage: ResourceData | None = None
    memUsage: ResourceData | None = None
    timeUsage: ResourceData | None = None
    gpuUsage: ResourceData | None = None
    gpuMemPeak: ResourceData | None = None
    gpuMemAvg: ResourceData | None = None


class GetWorkflowMetricsResponse(ApiModel):
    metrics: list[WorkflowMetrics]
