"""Pipelines (saved launch configurations) and runs (Seqera's workflows).

A run's head job is submitted exactly once: the row is stored first with ``job_name`` (unique,
deterministic from the run id) and ``submit_state="intent"``; ``job_id`` is recorded after
SubmitJob answered (``submit_state="submitted"``).  An ``intent`` row whose lease expired was
interrupted mid-launch and is reconciled (found by name with ListJobs, or marked UNKNOWN),
never submitted again.

``lease_owner``/``lease_until`` say which tracker (server replica) polls the run.
``batch_state`` is the fingerprint of what AWS Batch last said about the job: a poll that
sees the same fingerprint writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from batchforge.db.models.base import Base, IdType, UtcDateTime, utcnow


class Pipeline(Base):
    """A named launch configuration (repository, revision, environment, params, config)."""

    __tablename__ = "pipeline"
    __table_args__ = (
        Index(
            "uq_pipeline_live_name",
            "workspace_id",
            "name",
            unique=True,
            sqlite_where=text("deleted = false"),
            postgresql_where=text("deleted = false"),
        ),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    icon: Mapped[str | None] = mapped_column(String(255))
    repository: Mapped[str] = mapped_column(String(1024))
    launch: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    label_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    user_name: Mapped[str | None] = mapped_column(String(100))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class PipelineVersion(Base):
    """One version of a pipeline's launch configuration (Seqera's pipeline versions).

    ``hash`` fingerprints the versionable launch fields (services/pipeline_versions.py); a
    pipeline has exactly one default version, whose launch is also kept in
    ``pipeline.launch`` (what launching the pipeline uses)."""

    __tablename__ = "pipeline_version"
    __table_args__ = (Index("uq_pipeline_version_name", "pipeline_id", "name", unique=True),)

    id: Mapped[str] = mapped_column(String(22), primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(
        ForeignKey("pipeline.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(100))
    hash: Mapped[str] = mapped_column(String(128))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    launch: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    creator_user_name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Run(Base):
    """One launch of a pipeline: its head job in AWS Batch and what the tracker saw of it."""

    __tablename__ = "run"
    __table_args__ = (
        Index("ix_run_active", "active", "lease_until"),
        Index("ix_run_ws_submit", "workspace_id", "submit", "id"),
    )

    id: Mapped[str] = mapped_column(String(22), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id", ondelete="CASCADE"))
    pipeline_id: Mapped[int | None] = mapped_column(
        ForeignKey("pipeline.id", ondelete="SET NULL"), index=True
    )
    # NULL for a run launched elsewhere that reports through /trace (``origin="trace"``).
    compute_env_id: Mapped[str | None] = mapped_column(ForeignKey("compute_env.id"), index=True)
    credentials_id: Mapped[str | None] = mapped_column(String(22))
    region: Mapped[str] = mapped_column(String(32))
    run_name: Mapped[str] = mapped_column(String(80))
    repository: Mapped[str] = mapped_column(String(1024))
    revision: Mapped[str | None] = mapped_column(String(255))
    work_dir: Mapped[str] = mapped_column(String(1024))
    session_id: Mapped[str] = mapped_column(String(36))
    resume: Mapped[bool] = mapped_column(Boolean, default=False)
    user_name: Mapped[str | None] = mapped_column(String(100))
    # The launch request as accepted (WorkflowLaunchRequest) and the generated command line.
    launch: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    command_line: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    # True while the tracker has something to do (submission pending or job not finished).
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    submit_state: Mapped[str] = mapped_column(String(16), default="intent")
    job_name: Mapped[str] = mapped_column(String(128), unique=True)
    job_queue: Mapped[str] = mapped_column(String(1024))
    job_id: Mapped[str | None] = mapped_column(String(64), index=True)
    job_definition: Mapped[str | None] = mapped_column(String(1024))
    log_group: Mapped[str] = mapped_column(String(512), default="/aws/batch/job")
    log_stream: Mapped[str | None] = mapped_column(String(1024))
    batch_state: Mapped[str | None] = mapped_column(String(512))
    error_message: Mapped[str | None] = mapped_column(Text)
    exit_status: Mapped[int | None] = mapped_column(Integer)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Per-run Secrets Manager copies of pipeline secrets (see services/run_secrets.py):
    # ``secret_names`` are recorded before the first CreateSecret; ``secrets_state`` is
    # "planned" until every one of them is deleted ("deleted").  NULL: the run has none.
    secret_names: Mapped[list[str] | None] = mapped_column(JSON)
    secrets_state: Mapped[str | None] = mapped_column(String(16), index=True)
    # The run's task jobs (tw-<id>-*, see batchforge/runs/tasks.py) once it ended: "pending"
    # until the tracker terminated those alive, "recheck" after a cancel (listed again once
    # the head job has surely stopped), "cleaning" while claimed, then "cleaned" or
    # "unlisted" (ListJobs refused).  NULL: still active, or ended before this was recorded.
    tasks_state: Mapped[str | None] = mapped_column(String(16), index=True)
    tasks_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    submit: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    start: Mapped[datetime | None] = mapped_column(UtcDateTime())
    complete: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # The trace (see batchforge/runs/trace_state.py): "launch" runs were submitted here;
    # "trace" runs were created by a /trace/create from a Nextflow run launched elsewhere
    # (no head job, no compute environment: their state comes from the trace alone).
    origin: Mapped[str] = mapped_column(String(16), default="launch", server_default="launch")
    # NULL (nothing reported yet), "created", "begun" or "completed".
    trace_state: Mapped[str | None] = mapped_column(String(16))
    # Last time the plugin reported anything (create, begin, progress, heartbeat, complete).
    trace_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The Workflow metadata of begin/complete (commitId, nextflow, configText, stats, ...).
    trace_workflow: Mapped[dict[str, Any] | None] = mapped_column(JSON)
