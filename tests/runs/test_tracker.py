"""The tracker: every Batch state maps to the right run status; one DescribeJobs per 100 runs;
nothing written when nothing changed; throttling stops the cycle."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from batchforge.client import BatchforgeClient
from batchforge.services import run_tracker
from batchforge.services.context import AppContext
from tests.batchjobs import BatchJobs
from tests.runs.conftest import WriteCounter, job_id_of, run_row


def _cycle(app_ctx: AppContext) -> run_tracker.CycleStats:
    return run_tracker.run_cycle(app_ctx)


def test_a_run_goes_from_submitted_to_running_to_succeeded(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    run_id = launch()
    job_id = job_id_of(app_ctx, run_id)
    assert job_id
    for batch_status in ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING"):
        jobs.set(job_id, batch_status)
        _cycle(app_ctx)
        assert api.describe_workflow(run_id).workflow.status == "SUBMITTED"
    jobs.set(job_id, "RUNNING", log_stream="head/default/abc")
    _cycle(app_ctx)
    running = api.describe_workflow(run_id).workflow
    assert running.status == "RUNNING" and running.start is not None
    assert run_row(app_ctx, run_id).log_stream == "head/default/abc"
    jobs.set(job_id, "SUCCEEDED", exit_code=0)
    _cycle(app_ctx)
    done = api.describe_workflow(run_id)
    assert done.workflow.status == "SUCCEEDED" and done.workflow.success is True
    assert done.workflow.exitStatus == 0
    assert done.workflow.complete is not None and done.workflow.duration == 1500
    assert done.jobInfo is not None and done.jobInfo.status == "SUCCEEDED"
    row = run_row(app_ctx, run_id)
    assert row.active is False and row.lease_owner is None
    calls = jobs.calls["DescribeJobs"]
    _cycle(app_ctx)  # a finished run is not polled again
    assert jobs.calls["DescribeJobs"] == calls


@pytest.mark.parametrize(
    ("status", "reason", "exit_code", "expected", "words"),
    [
        ("FAILED", "Essential container in task exited", 1, "FAILED", "exit code 1"),
        ("FAILED", "Host EC2 (instance i-1) terminated.", None, "FAILED", "Host EC2"),
        ("FAILED", "Cancelled by the user in the console", None, "CANCELLED", "Cancelled"),
        ("FAILED", "Terminated by batchforge", None, "CANCELLED", "Terminated"),
    ],
)
def test_a_failed_job_records_reason_and_exit_code(
    api: BatchforgeClient,
    launch: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    status: str,
    reason: str,
    exit_code: int | None,
    expected: str,
    words: str,
) -> None:
    run_id = launch()
    jobs.set(job_id_of(app_ctx, run_id) or "", status, reason=reason, exit_code=exit_code)
    _cycle(app_ctx)
    run = api.describe_workflow(run_id).workflow
    assert run.status == expected
    assert words in (run.errorMessage or "")
    assert run.exitStatus == exit_code


def test_a_vanished_job_is_unknown(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    run_id = launch()
    jobs.vanish(job_id_of(app_ctx, run_id) or "")
    _cycle(app_ctx)
    run = api.describe_workflow(run_id).workflow
    assert run.status == "UNKNOWN" and "no longer knows" in (run.errorMessage or "")


def test_a_misconfigured_head_job_fails_and_is_terminated(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    run_id = launch()
    job_id = job_id_of(app_ctx, run_id) or ""
    reason = "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement is not met"
    jobs.set(job_id, "RUNNABLE", reason=reason)
    _cycle(app_ctx)
    run = api.describe_workflow(run_id).workflow
    assert run.status == "FAILED" and reason in (run.errorMessage or "")
    assert jobs.terminated == [job_id]


def test_no_database_write_when_nothing_changed(
    launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    run_ids = [launch() for _ in range(3)]
    _cycle(app_ctx)  # claims and records the first observation
    writes = WriteCounter(app_ctx.db.engine)
    try:
        for _ in range(3):
            stats = _cycle(app_ctx)
            assert stats.polled == 3 and stats.changed == 0
        assert writes.count == 0
        jobs.set(job_id_of(app_ctx, run_ids[0]) or "", "RUNNING")
        stats = _cycle(app_ctx)
        assert stats.changed == 1 and writes.count == 1
    finally:
        writes.close()


def test_describe_jobs_takes_at_most_100_ids(
    launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    from tests.runs.test_two_trackers import add_runs

    add_runs(app_ctx, jobs, 230, launch)
    stats = _cycle(app_ctx)
    assert stats.polled == 231 and stats.describe_calls == 3
    assert sorted(jobs.describe_sizes) == [31, 100, 100]


def test_throttling_stops_the_cycle_without_writing_and_the_next_one_catches_up(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    run_id = launch()
    jobs.set(job_id_of(app_ctx, run_id) or "", "RUNNING")
    jobs.throttle("DescribeJobs")
    stats = _cycle(app_ctx)
    assert stats.throttled and stats.changed == 0
    assert api.describe_workflow(run_id).workflow.status == "SUBMITTED"
    stats = _cycle(app_ctx)
    assert not stats.throttled and stats.changed == 1
    assert api.describe_workflow(run_id).workflow.status == "RUNNING"


def test_the_tracker_thread_backs_off_while_throttled(
    launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    import time

    launch()
    jobs.throttle("DescribeJobs", times=1000)
    tracker = run_tracker.RunTracker(app_ctx, interval=0.01)
    tracker.start()
    try:
        deadline = time.monotonic() + 120
        while tracker.backoff < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        tracker.stop()
    assert tracker.backoff >= 4


def test_a_restarted_server_takes_back_its_own_runs_at_once(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    """Issue #16 item 7: the runs this server's identity leased before a restart are polled by
    its next incarnation in its first cycle, not after the lease (120 s) expires; another
    server's unexpired lease is still respected."""
    run_id = launch()
    job_id = job_id_of(app_ctx, run_id)
    jobs.set(job_id, "RUNNING", log_stream="head/default/abc")
    _cycle(app_ctx)
    before = app_ctx.worker_id
    assert run_row(app_ctx, run_id).lease_owner == before
    identity = before.rpartition("/")[0]
    jobs.set(job_id, "SUCCEEDED", exit_code=0)
    app_ctx.worker_id = "wffffffffff-9/another"  # another replica: the lease is not free
    _cycle(app_ctx)
    assert api.describe_workflow(run_id).workflow.status == "RUNNING"
    assert run_row(app_ctx, run_id).lease_owner == before
    app_ctx.worker_id = f"{identity}/restarted"  # the same server after a restart
    _cycle(app_ctx)
    assert api.describe_workflow(run_id).workflow.status == "SUCCEEDED"
