"""Cancel terminates the task jobs the trace reported by their nativeId (their AWS Batch job
ids), without needing ListJobs; ListJobs still finds the tasks the trace had not reported.

Task jobs are submitted as nf-amazon names them (``tw-<runId>-<task>``, nextflow v24.10.5
``TaskHandler.prependWorkflowPrefix``) and held by the Batch job layer (tests/batchjobs.py),
which answers ListJobs and TerminateJob as AWS documents them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient

from batchforge.client import BatchforgeClient
from batchforge.local_aws import LocalAws
from batchforge.services import run_tokens, run_tracker
from batchforge.services.context import AppContext
from tests.batchjobs import BatchJobs
from tests.runs.conftest import WORK_QUEUE, job_id_of
from tests.trace import payloads as p
from tests.trace.conftest import basic


def _task_jobs(local_aws: LocalAws, jobs: BatchJobs, run_id: str, n: int) -> list[str]:
    batch = jobs.install(local_aws.boto_client("batch"))
    definition = batch.register_job_definition(
        jobDefinitionName=f"nf-task-{uuid.uuid4().hex[:8]}",
        type="container",
        containerProperties={
            "image": "quay.io/nextflow/bash",
            "resourceRequirements": [
                {"type": "VCPU", "value": "1"},
                {"type": "MEMORY", "value": "1024"},
            ],
        },
    )["jobDefinitionArn"]
    ids = []
    for i in range(n):
        job = batch.submit_job(
            jobName=f"tw-{run_id}-SAY_HELLO_{i + 1}", jobQueue=WORK_QUEUE, jobDefinition=definition
        )
        jobs.set(job["jobId"], "RUNNING")
        ids.append(job["jobId"])
    return ids


def _reported_run(
    api: BatchforgeClient,
    app_ctx: AppContext,
    http: TestClient,
    jobs: BatchJobs,
    local_aws: LocalAws,
    launch: Callable[..., str],
) -> tuple[str, str, list[str]]:
    """A running run with 3 live task jobs, 2 of them reported by the trace (one with its
    nativeId as a number-like string, one in a completed snapshot that came later)."""
    run_id = launch()
    head = job_id_of(app_ctx, run_id)
    assert head
    jobs.set(head, "RUNNING")
    run_tracker.run_cycle(app_ctx)
    ids = _task_jobs(local_aws, jobs, run_id, 4)
    token = run_tokens.issue(app_ctx, run_id)
    tasks = [
        p.task(1, "RUNNING", nativeId=ids[0]),
        p.task(2, "SUBMITTED", nativeId=ids[1]),
        p.task(3, "COMPLETED", nativeId=ids[3]),  # done by the trace: not terminated again
    ]
    answer = http.put(f"/trace/{run_id}/progress", headers=basic(token), json=p.progress(tasks))
    assert answer.status_code == 200, answer.text
    jobs.set(ids[3], "SUCCEEDED")
    jobs.terminated.clear()
    return run_id, head, ids


def test_cancel_terminates_reported_tasks_by_native_id_and_lists_for_the_rest(
    api: BatchforgeClient,
    app_ctx: AppContext,
    http: TestClient,
    jobs: BatchJobs,
    local_aws: LocalAws,
    launch: Callable[..., str],
):
    run_id, head, ids = _reported_run(api, app_ctx, http, jobs, local_aws, launch)
    api.cancel_workflow(run_id)
    assert sorted(jobs.terminated) == sorted([head, ids[0], ids[1], ids[2]])  # each once
    assert jobs.terminated.index(ids[0]) < jobs.terminated.index(ids[2])  # trace first
    assert "3 task jobs terminated" in " ".join(api.describe_workflow(run_id).messages)


def test_without_list_jobs_the_reported_tasks_are_still_terminated(
    api: BatchforgeClient,
    app_ctx: AppContext,
    http: TestClient,
    jobs: BatchJobs,
    local_aws: LocalAws,
    launch: Callable[..., str],
):
    """batch:ListJobs is an optional extra (iam/extras.py): refused, the tasks the trace
    reported are terminated anyway, and the run says what could not be listed."""
    run_id, head, ids = _reported_run(api, app_ctx, http, jobs, local_aws, launch)
    jobs.deny("ListJobs")
    api.cancel_workflow(run_id)
    assert sorted(jobs.terminated) == sorted([head, ids[0], ids[1]])
    message = " ".join(api.describe_workflow(run_id).messages)
    assert "2 task jobs terminated (reported by the trace)" in message
    assert "missing batch:ListJobs" in message
