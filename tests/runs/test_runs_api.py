"""Cancel, delete, list and logs of runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.services import run_tracker
from batchforge.services.context import AppContext
from tests.batchjobs import BatchJobs
from tests.runs.conftest import job_id_of


def test_cancel_terminates_the_job_once_and_is_idempotent(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    run_id = launch()
    api.cancel_workflow(run_id)
    api.cancel_workflow(run_id)
    assert jobs.terminated == [job_id_of(app_ctx, run_id)]
    run = api.describe_workflow(run_id).workflow
    assert run.status == "CANCELLED" and run.complete is not None
    run_tracker.run_cycle(app_ctx)  # the tracker leaves a cancelled run alone
    assert api.describe_workflow(run_id).workflow.status == "CANCELLED"


def test_cancelling_a_finished_run_changes_nothing(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    run_id = launch()
    jobs.set(job_id_of(app_ctx, run_id) or "", "SUCCEEDED", exit_code=0)
    run_tracker.run_cycle(app_ctx)
    api.cancel_workflow(run_id)
    assert api.describe_workflow(run_id).workflow.status == "SUCCEEDED"
    assert jobs.terminated == []


def test_cancel_refused_by_aws_is_an_error_unless_forced(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs
) -> None:
    run_id = launch()
    jobs.deny("TerminateJob")
    with pytest.raises(ApiError) as caught:
        api.cancel_workflow(run_id)
    assert caught.value.status == 403
    assert api.describe_workflow(run_id).workflow.status == "SUBMITTED"
    api.cancel_workflow(run_id, force=True)
    assert api.describe_workflow(run_id).workflow.status == "CANCELLED"


def test_delete_needs_the_run_finished_or_force(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs
) -> None:
    run_id = launch()
    with pytest.raises(ApiError) as caught:
        api.delete_workflow(run_id)
    assert caught.value.status == 409 and caught.value.field == "force"
    api.delete_workflow(run_id, force=True)
    assert len(jobs.terminated) == 1
    with pytest.raises(ApiError) as caught:
        api.describe_workflow(run_id)
    assert caught.value.status == 404


def test_list_filters_by_status_and_text_and_pages_by_key(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    ids = [launch(runName=f"alpha-{i}") for i in range(5)] + [launch(runName="beta-0")]
    jobs.set(job_id_of(app_ctx, ids[0]) or "", "RUNNING")
    run_tracker.run_cycle(app_ctx)
    assert [w.workflow.id for w in api.list_workflows(status="RUNNING").workflows] == [ids[0]]
    assert [w.workflow.runName for w in api.list_workflows(search="beta").workflows] == ["beta-0"]
    by_search = api.list_workflows(search="alpha status:RUNNING").workflows
    assert [w.workflow.id for w in by_search] == [ids[0]]
    seen: list[str] = []
    after = None
    while True:
        page = api.list_workflows(max_results=2, after=after)
        seen += [w.workflow.id for w in page.workflows]
        if not page.hasMore:
            break
        after = page.next
    assert seen == list(reversed(ids))  # newest first, each once
    with pytest.raises(ApiError) as caught:
        api.list_workflows(status="BOGUS")
    assert caught.value.status == 400 and caught.value.field == "status"


def _put_events(local_aws: Any, stream: str, lines: list[str]) -> None:
    logs = local_aws.boto_client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/batch/job")["logGroups"]
    if not any(g["logGroupName"] == "/aws/batch/job" for g in groups):
        logs.create_log_group(logGroupName="/aws/batch/job")
    streams = logs.describe_log_streams(logGroupName="/aws/batch/job", logStreamNamePrefix=stream)
    if not streams["logStreams"]:
        logs.create_log_stream(logGroupName="/aws/batch/job", logStreamName=stream)
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/aws/batch/job",
        logStreamName=stream,
        logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)],
    )


def test_logs_are_not_yet_then_paged_without_duplicates(
    api: BatchforgeClient,
    launch: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: Any,
) -> None:
    run_id = launch()
    job_id = job_id_of(app_ctx, run_id) or ""
    page = api.workflow_log(run_id)
    assert page.entries == [] and page.pending and "not started" in (page.message or "")
    stream = f"head/default/{job_id}"
    jobs.set(job_id, "RUNNING", log_stream=stream)
    page = api.workflow_log(run_id)  # stream named by DescribeJobs, not created yet
    assert page.entries == [] and page.pending and "does not exist yet" in (page.message or "")
    _put_events(local_aws, stream, ["N E X T F L O W", "launching"])
    page = api.workflow_log(run_id)
    assert page.entries == ["N E X T F L O W", "launching"]
    again = api.workflow_log(run_id, page.forwardToken)
    assert again.entries == [] and again.forwardToken == page.forwardToken
    _put_events(local_aws, stream, ["[ab/123456] process > sayHello [100%]", "done"])
    more = api.workflow_log(run_id, again.forwardToken)
    assert more.entries == ["[ab/123456] process > sayHello [100%]", "done"]
    jobs.set(job_id, "SUCCEEDED", exit_code=0)
    run_tracker.run_cycle(app_ctx)
    final = api.workflow_log(run_id, more.forwardToken)
    assert final.entries == [] and final.pending is False
