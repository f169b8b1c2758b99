"""Cancel leaves nothing running: the head job and every live task job of the run.

Task jobs are made the way nf-amazon makes them: named ``tw-<TOWER_WORKFLOW_ID>-<task>``
(``TaskHandler.prependWorkflowPrefix`` and ``AwsBatchTaskHandler.normalizeJobName``, nextflow
v24.10.5) on the compute queue (``process.queue``), submitted through a boto3 client on the
emulator and held RUNNING by the Batch job layer (tests/batchjobs.py) until TerminateJob.
ListJobs is answered as AWS documents it (the layer's docstring cites the API reference).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from batchforge.cli.main import app
from batchforge.client import BatchforgeClient
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.local_aws import LocalAws
from batchforge.services import run_tasks, run_tracker
from batchforge.services.context import AppContext
from tests.batchjobs import BatchJobs
from tests.cli.conftest import LiveServer, live_server  # noqa: F401 - the fixture
from tests.runs.conftest import WORK_QUEUE, job_id_of, run_row


@pytest.fixture
def tasks(local_aws: LocalAws, jobs: BatchJobs) -> Callable[..., list[str]]:
    """``tasks(run_id, n, status="RUNNING")`` submits ``n`` task jobs of the run as Nextflow
    would and holds them in ``status``; their ids."""
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

    def submit(run_id: str, n: int, status: str = "RUNNING", name: str = "FOO") -> list[str]:
        ids = []
        for i in range(n):
            job = batch.submit_job(
                jobName=f"tw-{run_id}-NF_{name}_{i + 1}",  # "NF:FOO (1)" normalised
                jobQueue=WORK_QUEUE,
                jobDefinition=definition,
            )
            jobs.set(job["jobId"], status)
            ids.append(job["jobId"])
        return ids

    return submit


def _running(api: BatchforgeClient, jobs: BatchJobs, app_ctx: AppContext, run_id: str) -> str:
    head = job_id_of(app_ctx, run_id)
    assert head
    jobs.set(head, "RUNNING")
    run_tracker.run_cycle(app_ctx)
    assert api.describe_workflow(run_id).workflow.status == "RUNNING"
    return head


def _messages(api: BatchforgeClient, run_id: str) -> str:
    return " ".join(api.describe_workflow(run_id).messages)


def test_cancel_terminates_the_head_job_and_each_live_task_once(
    api: BatchforgeClient,
    app_ctx: AppContext,
    jobs: BatchJobs,
    launch: Callable[..., Any],
    tasks: Callable[..., list[str]],
) -> None:
    """Every live ``tw-<runId>-*`` job is terminated exactly once, with a reason naming
    batchforge and the run; finished tasks, another run's tasks, and a job of a run whose id
    differs only in case (ListJobs' JOB_NAME filter ignores case, ListJobs API reference
    https://docs.aws.amazon.com/batch/latest/APIReference/API_ListJobs.html) are left alone."""
    run_id, other = launch(), launch()
    head = _running(api, jobs, app_ctx, run_id)
    live = tasks(run_id, 3) + tasks(run_id, 2, status="RUNNABLE", name="BAR")
    done = tasks(run_id, 1, status="SUCCEEDED", name="DONE")
    others = tasks(other, 2)
    twin = tasks(run_id.swapcase(), 1, name="TWIN")
    jobs.terminated.clear()

    api.cancel_workflow(run_id)

    assert sorted(jobs.terminated) == sorted([head, *live])  # each once, nothing else
    assert not set(jobs.terminated) & set(done + others + twin)
    for job_id in live:
        assert "batchforge" in jobs.reasons[job_id] and run_id in jobs.reasons[job_id]
    run = api.describe_workflow(run_id)
    assert run.workflow.status == "CANCELLED"
    assert "5 task jobs terminated" in _messages(api, run_id)
    # the filter AWS is asked for, and no status: with a filter every status comes back
    listing = jobs.list_requests[-1]
    assert listing["filters"] == [{"name": "JOB_NAME", "values": [f"tw-{run_id}-*"]}]
    assert listing["jobQueue"] == WORK_QUEUE and "jobStatus" not in listing
    assert jobs.calls["ListJobs"] == 1

    api.cancel_workflow(run_id)  # idempotent: nothing more terminated
    assert sorted(jobs.terminated) == sorted([head, *live])
    assert api.describe_workflow(other).workflow.status in ("SUBMITTED", "RUNNING")


def test_cancel_pages_through_every_task_job(
    api: BatchforgeClient,
    app_ctx: AppContext,
    jobs: BatchJobs,
    launch: Callable[..., Any],
    tasks: Callable[..., list[str]],
) -> None:
    """With a filter ListJobs returns at most 100 jobs a page and the rest through
    ``nextToken`` (ListJobs API reference, ``maxResults``): 230 tasks take 3 pages."""
    run_id = launch()
    head = _running(api, jobs, app_ctx, run_id)
    live = tasks(run_id, 230)
    jobs.terminated.clear()
    api.cancel_workflow(run_id)
    assert jobs.calls["ListJobs"] == 3
    assert sorted(jobs.terminated) == sorted([head, *live])
    assert "230 task jobs terminated" in _messages(api, run_id)


def test_a_task_submitted_while_the_head_job_stopped_is_terminated_on_recheck(
    api: BatchforgeClient,
    app_ctx: AppContext,
    jobs: BatchJobs,
    launch: Callable[..., Any],
    tasks: Callable[..., list[str]],
) -> None:
    """The head job stops up to 30 s after TerminateJob (ECS's stop timeout): the tracker lists
    the run's tasks once more after RECHECK_SECONDS, then never again."""
    run_id = launch()
    _running(api, jobs, app_ctx, run_id)
    api.cancel_workflow(run_id)
    assert run_row(app_ctx, run_id).tasks_state == run_tasks.RECHECK
    late = tasks(run_id, 1, name="LATE")
    run_tracker.run_cycle(app_ctx)  # not due yet: no AWS call
    assert jobs.calls["ListJobs"] == 1 and late[0] not in jobs.terminated
    with app_ctx.db.transaction() as session:
        session.execute(
            update(models.Run)
            .where(models.Run.id == run_id)
            .values(tasks_at=utcnow() - timedelta(seconds=run_tasks.RECHECK_SECONDS + 1))
        )
    run_tracker.run_cycle(app_ctx)
    assert jobs.terminated.count(late[0]) == 1 and jobs.calls["ListJobs"] == 2
    assert run_row(app_ctx, run_id).tasks_state == run_tasks.CLEANED
    run_tracker.run_cycle(app_ctx)
    assert jobs.calls["ListJobs"] == 2


@pytest.mark.parametrize("ending", ["SUCCEEDED", "FAILED"])
def test_a_run_that_ends_with_live_tasks_gets_them_terminated(
    api: BatchforgeClient,
    app_ctx: AppContext,
    jobs: BatchJobs,
    launch: Callable[..., Any],
    tasks: Callable[..., list[str]],
    ending: str,
) -> None:
    """The tracker sees the head job final while 3 tasks still run: they are terminated in
    that cycle with one ListJobs; idle cycles afterwards make no ListJobs or TerminateJob."""
    run_id = launch()
    head = _running(api, jobs, app_ctx, run_id)
    live = tasks(run_id, 3)
    tasks(run_id, 2, status="FAILED", name="OLD")
    jobs.terminated.clear()
    lists = jobs.calls["ListJobs"]
    run_tracker.run_cycle(app_ctx)  # nothing ended: no ListJobs
    assert jobs.calls["ListJobs"] == lists

    jobs.set(head, ending, reason="Essential container in task exited", exit_code=0)
    stats = run_tracker.run_cycle(app_ctx)

    assert api.describe_workflow(run_id).workflow.status == ending
    assert sorted(jobs.terminated) == sorted(live) and stats.tasks_terminated == 3
    assert jobs.calls["ListJobs"] == lists + 1
    assert "3 task jobs terminated" in _messages(api, run_id)
    assert run_row(app_ctx, run_id).tasks_state == run_tasks.CLEANED
    calls = dict(jobs.calls)
    for _ in range(2):
        run_tracker.run_cycle(app_ctx)
    assert jobs.calls["ListJobs"] == calls["ListJobs"]
    assert jobs.calls["TerminateJob"] == calls["TerminateJob"]


def test_without_list_jobs_the_head_job_is_still_terminated_and_the_run_says_why(
    api: BatchforgeClient,
    app_ctx: AppContext,
    jobs: BatchJobs,
    launch: Callable[..., Any],
    tasks: Callable[..., list[str]],
) -> None:
    """batch:ListJobs is an optional extra (not in the seed policy, iam/extras.py): refused,
    the cancel still ends the head job, says so plainly, and is not retried."""
    run_id = launch()
    head = _running(api, jobs, app_ctx, run_id)
    live = tasks(run_id, 2)
    jobs.terminated.clear()
    jobs.deny("ListJobs")

    api.cancel_workflow(run_id)

    assert jobs.terminated == [head] and not set(live) & set(jobs.terminated)
    assert api.describe_workflow(run_id).workflow.status == "CANCELLED"
    message = _messages(api, run_id)
    assert "task jobs could not be listed: missing batch:ListJobs" in message
    assert f"tw-{run_id}-" in message and WORK_QUEUE in message
    assert run_row(app_ctx, run_id).tasks_state == run_tasks.UNLISTED
    lists = jobs.calls["ListJobs"]
    run_tracker.run_cycle(app_ctx)
    assert jobs.calls["ListJobs"] == lists


def test_a_run_that_ends_without_list_jobs_says_so(
    api: BatchforgeClient,
    app_ctx: AppContext,
    jobs: BatchJobs,
    launch: Callable[..., Any],
    tasks: Callable[..., list[str]],
) -> None:
    """The tracker's cleanup, refused ListJobs, records it once and moves on."""
    run_id = launch()
    head = _running(api, jobs, app_ctx, run_id)
    tasks(run_id, 1)
    jobs.deny("ListJobs")
    jobs.set(head, "FAILED", reason="Essential container in task exited", exit_code=1)
    run_tracker.run_cycle(app_ctx)
    run = api.describe_workflow(run_id)
    assert run.workflow.status == "FAILED"
    assert "missing batch:ListJobs" in _messages(api, run_id)
    assert run_row(app_ctx, run_id).tasks_state == run_tasks.UNLISTED


def test_cli_runs_cancel_reports_the_task_jobs_terminated(
    live_server: LiveServer,  # noqa: F811
    api: BatchforgeClient,
    app_ctx: AppContext,
    jobs: BatchJobs,
    launch: Callable[..., Any],
    tasks: Callable[..., list[str]],
) -> None:
    """``batchforge runs cancel`` prints the run's status and how many task jobs went."""
    run_id = launch()
    _running(api, jobs, app_ctx, run_id)
    tasks(run_id, 4)
    base = ["--url", live_server.url, "--token", live_server.token]
    result = CliRunner().invoke(app, [*base, "runs", "cancel", run_id], env={"BATCHFORGE_URL": ""})
    assert result.exit_code == 0, result.output
    assert f"Workflow {run_id}: CANCELLED" in result.output
    assert "4 task jobs terminated" in result.output
