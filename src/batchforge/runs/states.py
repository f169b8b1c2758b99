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


# --- the trace and the head job together -----------------------------------------------------
#
# A launched run has two witnesses: its head job in AWS Batch (the tracker's DescribeJobs) and
# Nextflow's own report through /trace (see batchforge/services/trace.py).  The one rule:
#
# =====================================  ==================================================
# event                                  run status
# =====================================  ==================================================
# trace create                           unchanged (SUBMITTED) — a run may stop right here
# trace begin / progress / heartbeat     RUNNING, unless the run is already final
# trace complete                         SUCCEEDED or FAILED from ``workflow.success``
#                                        (exitStatus, errorMessage, complete from the
#                                        trace), unless the run was CANCELLED
# Batch poll, trace not completed        the Batch mapping above; while the trace has begun
#                                        a waiting head job still shows RUNNING
# Batch poll after trace complete        the status, exit status, error and end time stay
#                                        the trace's; Batch only ends the run's activity
#                                        (cleanup of task jobs and secrets follows)
# cancel                                 CANCELLED, final: a later complete changes nothing
# =====================================  ==================================================
#
# A launched run stays ``active`` after a trace complete until its head job has ended in
# Batch (so its secrets and task jobs are cleaned up after Nextflow's post-run work); a run
# launched elsewhere (``origin="trace"``, no head job) ends with its trace complete.

TRACE_RUNNING = "begun"
TRACE_COMPLETED = "completed"


def trace_final_status(success: Any, exit_status: int | None) -> str:
    """The run status a trace ``complete`` reports: ``success`` when given, else the exit."""
    if isinstance(success, bool):
        return "SUCCEEDED" if success else "FAILED"
    return "SUCCEEDED" if exit_status == 0 else "FAILED"


def status_after_trace(current: str, event: str, final: str | None = None) -> str:
    """The run status after a trace ``event`` (``begin``, ``progress``, ``heartbeat``,
    ``complete`` with ``final``) given the ``current`` one."""
    if current == "CANCELLED":
        return current
    if event == "complete" and final:
        return final
    if current in TERMINAL:
        return current
    return "RUNNING"


def status_after_batch(observed: str, trace_state: str | None, current: str) -> str:
    """The run status when the tracker observes ``observed`` from AWS Batch."""
    if trace_state == TRACE_COMPLETED:
        return current
    if trace_state == TRACE_RUNNING and observed == "SUBMITTED":
        return "RUNNING"
    return observed
