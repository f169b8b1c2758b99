"""What Nextflow's nf-tower plugin reports about a run (the ``/trace/*`` API), and run tokens.

- :class:`RunToken`: the per-run token handed to the head job (``TOWER_ACCESS_TOKEN``), stored
  as a SHA-256 only; valid for ``/trace/{run_id}/*`` until ``expires_at`` (set when the run
  ends, a short grace later; NULL while the run is live).
- :class:`RunTask`: one task of a run, keyed ``(run_id, task_id)``, the last snapshot applied
  (``instant`` = the client's epoch millis of that snapshot; a task's status never goes back).
  ``data`` holds the whole snapshot as received (the Seqera ``Task`` fields); the columns
  copy what the read API sorts, filters or aggregates on.
- :class:`RunProcess`: per process, the task counts by status *derived from the tasks
  received* (maintained incrementally on every accepted transition), so reading a run's
  progress never counts task rows.
- :class:`RunTrace`: per run, the client's latest progress snapshot (by ``instant``), the
  process names of ``begin``, and the metrics of ``complete``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from batchforge.db.models.base import Base, UtcDateTime, utcnow


class RunToken(Base):
    """A run-scoped API token (plaintext shown once, to the head job)."""

    __tablename__ = "run_token"

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RunTask(Base):
    """A task of a run as last reported (full snapshot, monotone status)."""

    __tablename__ = "run_task"

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    task_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(10))
    instant: Mapped[int] = mapped_column(BigInteger, default=0)
    process: Mapped[str] = mapped_column(String(255), default="")
    name: Mapped[str] = mapped_column(String(255), default="")
    tag: Mapped[str | None] = mapped_column(String(255))
    hash: Mapped[str | None] = mapped_column(String(34))
    native_id: Mapped[str | None] = mapped_column(String(100))
    exit: Mapped[int | None] = mapped_column(Integer)
    attempt: Mapped[int | None] = mapped_column(Integer)
    cpus: Mapped[int | None] = mapped_column(Integer)
    memory: Mapped[int | None] = mapped_column(BigInteger)
    duration: Mapped[int | None] = mapped_column(BigInteger)
    realtime: Mapped[int | None] = mapped_column(BigInteger)
    submit: Mapped[datetime | None] = mapped_column(UtcDateTime())
    start: Mapped[datetime | None] = mapped_column(UtcDateTime())
    complete: Mapped[datetime | None] = mapped_column(UtcDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class RunProcess(Base):
    """Task counts of one process of a run, by status, derived from the tasks received."""

    __tablename__ = "run_process"

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    submitted: Mapped[int] = mapped_column(Integer, default=0)
    running: Mapped[int] = mapped_column(Integer, default=0)
    succeeded: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    cached: Mapped[int] = mapped_column(Integer, default=0)
    aborted: Mapped[int] = mapped_column(Integer, default=0)


class RunTrace(Base):
    """The run-level trace state: latest client progress snapshot, process names, metrics."""

    __tablename__ = "run_trace"

    run_id: Mapped[str] = mapped_column(ForeignKey("run.id", ondelete="CASCADE"), primary_key=True)
    # The client's latest TraceProgressData (by ``progress_instant``), without tasks.
    progress: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    progress_instant: Mapped[int] = mapped_column(BigInteger, default=0)
    process_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    metrics: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
