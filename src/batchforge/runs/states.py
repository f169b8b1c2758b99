"""Mapping what DescribeJobs says about a head job to a run's status (pure functions).

=============================================  =========
AWS Batch job                                  run
=============================================  =========
SUBMITTED, PENDING, RUNNABLE, STARTING          SUBMITTED
RUNNABLE with ``MISCONFIGURATION:`` reason      FAILED (and the job is terminated)
RUNNING                                         RUNNING
SUCCEEDED                                       SUCCEEDED
FAILED, reason says cancelled / terminated      CANCELLED
FAILED otherwise                                FAILED (reason and exit code)
absent from the answer (vanished)               UNKNOWN
=============================================  =========
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

WAITING = {"SUBMITTED", "PENDING", "RUNNABLE", "STARTING"}
MISCONFIGURATION = "MISCONFIGURATION:"
CANCELLED_REASON = re.compile(r"cancel|terminated by", re.IGNORECASE)
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELLED", "UNKNOWN"}


@dataclass(frozen=True)
class Observation:
    """The run as one DescribeJobs answer shows it.  ``fingerprint`` changes iff anything the
    run records changes: the tracker writes only when it differs from the stored one."""

    status: str
    fingerprint: str
    start: datetime | None = None
    complete: datetime | None = None
    exit_status: int | None = None
    error: str | None = None
    log_stream: str | None = None
    terminate: bool = False  # the job must be terminated (stuck, misconfigured)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


def _time(millis: Any) -> datetime | None:
    if not millis:
        return None
    return datetime.fromtimestamp(int(millis) / 1000, UTC)


def vanished(job_id: str) -> Observation:
    return Observation(
        status="UNKNOWN",
        fingerprint="VANISHED",
        error=f"AWS Batch no longer knows the head job {job_id} (DescribeJobs did not return "
        "it); its outcome is unknown.",
    )


def observe(job: dict[str, Any]) -> Observation:
    """The run's state according to one job of a DescribeJobs answer."""
    batch_status = job.get("status", "")
    reason = job.get("statusReason") or ""
    container = job.get("container") or {}
    exit_code = container.get("exitCode")
    stream = container.get("logStreamName")
    start, stop = _time(job.get("startedAt")), _time(job.get("stoppedAt"))
    fingerprint = (
        "|".join(
            str(v)
            for v in (batch_status, reason, job.get("startedAt"), job.get("stoppedAt"), exit_code)
        )
        + f"|{stream or ''}|{len(job.get('attempts') or [])}"
    )
    common = {"fingerprint": fingerprint, "start": start, "log_stream": stream}
    if batch_status in WAITING:
        if reason.startswith(MISCONFIGURATION):
            return Observation(
                "FAILED",
                error=f"The head job cannot run: {reason}",
                complete=datetime.now(UTC),
                terminate=True,
                **common,
            )
        return Observation("SUBMITTED", **common)
    if batch_status == "RUNNING":
        return Observation("RUNNING", **common)
    if batch_status == "SUCCEEDED":
        code = 0 if exit_code is None else int(exit_code)
        return Observation("SUCCEEDED", complete=stop, exit_status=code, **common)
    if batch_status == "FAILED":
        code = None if exit_code is None else int(exit_code)
        if CANCELLED_REASON.search(reason) and exit_code is None:
            return Observation("CANCELLED", complete=stop, error=reason or "Cancelled.", **common)
        detail = reason or "no reason given"
        if code is not None:
            detail += f" (exit code {code})"
        return Observation(
            "FAILED",
            complete=stop,
            exit_status=code,
            error=f"The head job failed: {detail}",
            **common,
        )
    return Observation("UNKNOWN", error=f"Unexpected AWS Batch status {batch_status!r}.", **common)
