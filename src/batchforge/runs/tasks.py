"""A run's task jobs: find the ones Nextflow started for it and terminate those still alive.

With ``TOWER_WORKFLOW_ID=<runId>`` in the head job's environment, nf-amazon names every task
job ``tw-<runId>-<task name>`` (``TaskHandler.prependWorkflowPrefix``), then keeps only
``[a-zA-Z0-9_-]`` (spaces become ``_``) and cuts it to 128 characters
(``AwsBatchTaskHandler.normalizeJobName``, nextflow v24.10.5).  Run ids are base62, so the
prefix survives that unchanged.  Tasks are submitted to ``process.queue``: the environment's
compute queue.

They are found with ``batch:ListJobs`` on that queue with the filter ``JOB_NAME`` =
``tw-<runId>-*``.  AWS documents (ListJobs API reference, ``filters`` and ``maxResults``,
https://docs.aws.amazon.com/batch/latest/APIReference/API_ListJobs.html): with a filter,
``jobStatus`` is ignored and jobs of every status come back; a value ending in ``*`` matches
names beginning with the rest, **case-insensitively**; with a filter a page holds at most 100
jobs, more pages follow through ``nextToken``.  Because the match ignores case, every name is
checked again here, case-sensitively, against the exact prefix: another run's id differing
only in case is never touched.  ``batch:ListJobs`` is not in the seed policy (an extra, see
:mod:`batchforge.iam.extras`); without it the head job is still terminated and the run says
plainly that its task jobs could not be listed.

When the run reports through the trace, its tasks' ``nativeId`` *are* their Batch job ids:
those still live by the trace are terminated directly (``known``), which needs no ListJobs;
ListJobs then still runs for tasks the trace had not reported yet (submitted within the
plugin's last flush, or while the head job was stopping), skipping the ids already done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from batchforge.errors import AwsAccessDenied, AwsError

log = logging.getLogger("batchforge.runs")

FINAL = frozenset({"SUCCEEDED", "FAILED"})
PAGE_SIZE = 100  # ListJobs' maximum page when a filter is used
MAX_PAGES = 200  # 20,000 task jobs: a bound, so that a cleanup always ends
NOT_LISTED = "task jobs could not be listed: missing batch:ListJobs"


def task_prefix(run_id: str) -> str:
    """The name prefix nf-amazon gives every task job of the run ``run_id``."""
    return f"tw-{run_id}-"


@dataclass
class TaskCleanup:
    """What one cleanup of a run's task jobs did."""

    listed: bool = True  # False: ListJobs was refused or failed
    found: int = 0  # task jobs of the run, any status
    terminated: int = 0  # TerminateJob answered OK
    failed: int = 0  # TerminateJob refused or failed
    list_calls: int = 0
    error: str | None = None  # why the tasks could not be listed (or some not terminated)
    job_ids: list[str] = field(default_factory=list)  # those terminated
    known: int = 0  # of ``terminated``: by their nativeId from the trace

    @property
    def denied(self) -> bool:
        return self.error == NOT_LISTED

    def summary(self) -> str:
        """One sentence for the run's messages."""
        if not self.listed:
            if self.terminated:
                return (
                    f"{self.terminated} task job{'s' if self.terminated != 1 else ''} "
                    f"terminated (reported by the trace); {self.error}."
                )
            return f"{self.error}."
        text = f"{self.terminated} task job{'s' if self.terminated != 1 else ''} terminated"
        if self.failed:
            text += f", {self.failed} could not be terminated ({self.error})"
        return text + "."


def list_tasks(batch: Any, queue: str, run_id: str, cleanup: TaskCleanup) -> list[dict[str, Any]]:
    """Every task job of ``run_id`` on ``queue`` (summaries, any status), paging ListJobs.
    Raises :class:`AwsError` when ListJobs fails."""
    prefix = task_prefix(run_id)
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    token: str | None = None
    for _ in range(MAX_PAGES):
        request: dict[str, Any] = {
            "jobQueue": queue,
            "filters": [{"name": "JOB_NAME", "values": [prefix + "*"]}],
            "maxResults": PAGE_SIZE,
        }
        if token:
            request["nextToken"] = token
        cleanup.list_calls += 1
        answer = batch.list_jobs(**request)
        for job in answer.get("jobSummaryList", []):
            if job.get("jobName", "").startswith(prefix) and job["jobId"] not in seen:
                seen.add(job["jobId"])
                found.append(job)
        next_token = answer.get("nextToken")
        if not next_token or next_token == token:
            return found
        token = next_token
    log.warning("run %s: more than %d pages of task jobs; stopped listing", run_id, MAX_PAGES)
    return found


def _terminate(batch: Any, job_id: str, reason: str, cleanup: TaskCleanup) -> bool:
    try:
        batch.terminate_job(jobId=job_id, reason=reason[:250])
    except AwsError as error:
        cleanup.failed += 1
        cleanup.error = str(error)[:300]
        log.warning("could not terminate task job %s: %s", job_id, error)
        return False
    cleanup.terminated += 1
    cleanup.job_ids.append(job_id)
    return True


def terminate_tasks(
    batch: Any, queue: str, run_id: str, reason: str, known: tuple[str, ...] = ()
) -> TaskCleanup:
    """Terminate every task job of ``run_id`` on ``queue`` that is not final: first the
    ``known`` job ids (live tasks' ``nativeId`` from the trace), then those ListJobs finds.
    Never raises on AWS errors: they are in the result (``listed``, ``failed``, ``error``)."""
    cleanup = TaskCleanup()
    for job_id in dict.fromkeys(known):
        cleanup.known += _terminate(batch, job_id, reason, cleanup)
    done = set(known)
    try:
        tasks = list_tasks(batch, queue, run_id, cleanup)
    except AwsAccessDenied:
        cleanup.listed, cleanup.error = False, NOT_LISTED
        return cleanup
    except AwsError as error:
        cleanup.listed, cleanup.error = False, f"task jobs could not be listed: {error}"
        return cleanup
    cleanup.found = len(tasks)
    for job in tasks:
        if job.get("status") in FINAL or job["jobId"] in done:
            continue
        _terminate(batch, job["jobId"], reason, cleanup)
    return cleanup


def task_reason(run_id: str, why: str) -> str:
    """TerminateJob's reason for a task job: names batchforge and the run."""
    return f"batchforge: run {run_id} {why}"
