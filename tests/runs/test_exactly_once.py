"""A head job is submitted exactly once, whatever fails or crashes around SubmitJob."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.db import models
from batchforge.services import run_tracker
from batchforge.services.context import AppContext
from tests.awsrules import SimulatedCrash
from tests.batchjobs import BatchJobs
from tests.runs.conftest import expire_leases, run_row


def _only_run(app_ctx: AppContext) -> models.Run:
    with app_ctx.db.transaction() as session:
        rows = session.query(models.Run).all()
    assert len(rows) == 1
    return rows[0]


def test_a_crash_after_submit_job_is_reconciled_by_name_without_resubmitting(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    jobs.crash_after("SubmitJob")
    with pytest.raises(SimulatedCrash):
        launch()
    row = _only_run(app_ctx)
    assert row.submit_state == "intent" and row.job_id is None
    run_tracker.run_cycle(app_ctx)  # the launching process may still be alive: lease holds
    assert run_row(app_ctx, row.id).submit_state == "intent"
    expire_leases(app_ctx)  # "restart" once the lease has expired
    stats = run_tracker.run_cycle(app_ctx)
    assert stats.reconciled == 1
    reconciled = run_row(app_ctx, row.id)
    assert reconciled.submit_state == "submitted"
    assert reconciled.job_id == jobs.job_ids[row.job_name]
    assert jobs.submitted_names[row.job_name] == 1 and jobs.calls["ListJobs"] == 1
    jobs.set(reconciled.job_id or "", "RUNNING")
    run_tracker.run_cycle(app_ctx)
    assert api.describe_workflow(row.id).workflow.status == "RUNNING"
    assert jobs.submitted_names[row.job_name] == 1


def test_without_list_jobs_permission_an_interrupted_launch_is_unknown(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    jobs.crash_after("SubmitJob")
    with pytest.raises(SimulatedCrash):
        launch()
    jobs.deny("ListJobs")
    expire_leases(app_ctx)
    run_tracker.run_cycle(app_ctx)
    row = _only_run(app_ctx)
    run = api.describe_workflow(row.id).workflow
    assert run.status == "UNKNOWN"
    assert "batch:ListJobs" in (run.errorMessage or "")
    assert "not submitted again" in (run.errorMessage or "")
    run_tracker.run_cycle(app_ctx)
    assert jobs.submitted_names[row.job_name] == 1 and jobs.calls["SubmitJob"] == 1


def test_a_crash_before_submit_job_left_fails_the_run_and_submits_nothing(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    jobs.crash_before("SubmitJob")
    with pytest.raises(SimulatedCrash):
        launch()
    expire_leases(app_ctx)
    run_tracker.run_cycle(app_ctx)
    row = _only_run(app_ctx)
    run = api.describe_workflow(row.id).workflow
    assert run.status == "FAILED" and "was not submitted" in (run.errorMessage or "")
    assert jobs.submitted_names[row.job_name] == 0


def test_an_ambiguous_submit_failure_is_reconciled_not_retried(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    """A 5xx after retries: the job may exist.  The run stays SUBMITTED (not silently:
    its message says the outcome is being reconciled) until the lookup settles it."""
    jobs.fail_next("SubmitJob", "InternalError", "internal error", 500)
    with pytest.raises(ApiError) as caught:
        launch()
    run_id = caught.value.body["workflowId"]
    run = api.describe_workflow(run_id).workflow
    assert run.status == "SUBMITTED" and "reconciling" in (run.errorMessage or "")
    expire_leases(app_ctx)
    run_tracker.run_cycle(app_ctx)
    run = api.describe_workflow(run_id).workflow
    assert run.status == "FAILED"  # the lookup found no job: it never reached Batch
    assert jobs.calls["SubmitJob"] == 1


def test_two_replicas_reconcile_an_intent_once(
    launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    jobs.crash_after("SubmitJob")
    with pytest.raises(SimulatedCrash):
        launch()
    expire_leases(app_ctx)
    first = run_tracker.run_cycle(app_ctx, owner="replica-a")
    second = run_tracker.run_cycle(app_ctx, owner="replica-b")
    assert first.reconciled == 1 and second.reconciled == 0
    assert jobs.calls["ListJobs"] == 1


def test_a_run_cancelled_during_an_interrupted_launch_has_its_job_terminated(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    jobs.crash_after("SubmitJob")
    with pytest.raises(SimulatedCrash):
        launch()
    row = _only_run(app_ctx)
    api.cancel_workflow(row.id)
    assert api.describe_workflow(row.id).workflow.status == "CANCELLED"
    assert jobs.terminated == []  # no job id known yet
    expire_leases(app_ctx)
    run_tracker.run_cycle(app_ctx)
    assert jobs.terminated == [jobs.job_ids[row.job_name]]
    assert api.describe_workflow(row.id).workflow.status == "CANCELLED"
    assert jobs.calls["SubmitJob"] == 1
