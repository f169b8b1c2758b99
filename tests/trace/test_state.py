"""A launched run's state joins its trace with its head job in AWS Batch (runs/states.py).

The head job is held in a state by the Batch job layer (tests/batchjobs.py); the trace is
sent through HTTP with the run's own token, as the head job's nf-tower plugin sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from batchforge.client import BatchforgeClient
from batchforge.services import run_tasks, run_tokens, run_tracker
from batchforge.services.context import AppContext
from tests.batchjobs import BatchJobs
from tests.runs.conftest import job_id_of, run_row
from tests.trace import payloads as p
from tests.trace.conftest import basic, bearer


def _report(http: TestClient, token: str, run_id: str, what: str, body: dict[str, Any]) -> None:
    if what == "create":
        answer = http.post("/trace/create", headers=basic(token), json=body)
    else:
        answer = http.put(f"/trace/{run_id}/{what}", headers=basic(token), json=body)
    assert answer.status_code == 200, answer.text


def test_trace_complete_is_not_contradicted_by_a_later_batch_poll(
    api: BatchforgeClient,
    app_ctx: AppContext,
    http: TestClient,
    jobs: BatchJobs,
    launch: Callable[..., str],
):
    run_id = launch()
    head = job_id_of(app_ctx, run_id)
    assert head
    token = run_tokens.issue(app_ctx, run_id)
    jobs.set(head, "STARTING")
    run_tracker.run_cycle(app_ctx)
    assert api.describe_workflow(run_id).workflow.status == "SUBMITTED"
    _report(http, token, run_id, "create", p.create(run_id))
    _report(http, token, run_id, "begin", p.begin(run_id))
    assert api.describe_workflow(run_id).workflow.status == "RUNNING"
    jobs.set(head, "RUNNABLE")  # a waiting head job, once the trace began: still RUNNING
    run_tracker.run_cycle(app_ctx)
    assert api.describe_workflow(run_id).workflow.status == "RUNNING"

    _report(http, token, run_id, "complete", p.complete(run_id, success=True))
    run = api.describe_workflow(run_id).workflow
    assert run.status == "SUCCEEDED" and run.exitStatus == 0
    assert run_row(app_ctx, run_id).active  # the head job has yet to end (post-run work)
    # The post-run script fails: Batch says FAILED, the run stays as Nextflow reported it.
    jobs.set(head, "FAILED", reason="Essential container in task exited", exit_code=3)
    run_tracker.run_cycle(app_ctx)
    row = run_row(app_ctx, run_id)
    assert (row.status, row.exit_status, row.active) == ("SUCCEEDED", 0, False)
    assert row.tasks_state in (run_tasks.CLEANED, run_tasks.PENDING)
    # Its token expires with the run (grace for a late complete, then refused).
    assert run_tokens.authenticate(app_ctx, token).run_id == run_id


def test_a_run_that_sends_only_create_ends_with_its_head_job(
    api: BatchforgeClient,
    app_ctx: AppContext,
    http: TestClient,
    jobs: BatchJobs,
    launch: Callable[..., str],
):
    """Nextflow fails at parse time: only create was sent (the latest plugin skips complete
    when begin was never sent); the head job's end decides."""
    run_id = launch()
    head = job_id_of(app_ctx, run_id)
    token = run_tokens.issue(app_ctx, run_id)
    _report(http, token, run_id, "create", p.create(run_id))
    jobs.set(head, "FAILED", reason="Essential container in task exited", exit_code=1)
    run_tracker.run_cycle(app_ctx)
    run = api.describe_workflow(run_id).workflow
    assert run.status == "FAILED" and run.exitStatus == 1


def test_a_cancelled_run_stays_cancelled_after_a_late_complete(
    api: BatchforgeClient,
    app_ctx: AppContext,
    http: TestClient,
    jobs: BatchJobs,
    launch: Callable[..., str],
):
    run_id = launch()
    head = job_id_of(app_ctx, run_id)
    jobs.set(head, "RUNNING")
    token = run_tokens.issue(app_ctx, run_id)
    _report(http, token, run_id, "begin", p.begin(run_id))
    api.cancel_workflow(run_id)
    _report(http, token, run_id, "complete", p.complete(run_id, success=False))
    run = api.describe_workflow(run_id)
    assert run.workflow.status == "CANCELLED"
    assert run.workflow.commitId == "7588c46ffefb4e3c06d4ab32c745c4d5e56cdad8"  # stored


def test_a_run_launched_elsewhere_lives_from_its_trace_alone(
    api: BatchforgeClient,
    app_ctx: AppContext,
    http: TestClient,
    admin_token: str,
    jobs: BatchJobs,
):
    """``nextflow run … -with-tower URL`` with a user's own token: create has no
    workflowId; the run is made in the user's workspace, listed like any other, never
    polled in Batch."""
    create = p.create(None, session_id="11111111-2222-3333-4444-555555555555")
    answer = http.post("/trace/create", headers=basic(admin_token), json=create)
    assert answer.status_code == 200, answer.text
    run_id = answer.json()["workflowId"]
    assert len(run_id) <= 16
    assert answer.json()["metadata"]["workspaceId"] == api.user_info().defaultWorkspaceId
    again = http.post("/trace/create", headers=basic(admin_token), json=create)
    assert again.json()["workflowId"] == run_id  # a retried create: the same run
    assert http.put(f"/trace/{run_id}/begin", headers=basic(admin_token),
                    json=p.begin(run_id)).status_code == 200  # fmt: skip
    listed = [w.workflow.id for w in api.list_workflows().workflows]
    assert run_id in listed
    run = api.describe_workflow(run_id).workflow
    assert run.status == "RUNNING" and run.workDir == "s3://bf-work/work"
    assert run.sessionId == "6f1b1c52-8c1e-4a44-9d8f-0c1f2f3e4a5b"
    described = http.get(f"/workflow/{run_id}", headers=bearer(admin_token)).json()
    assert described["platform"] is None and described["jobInfo"]["operationId"] is None
    calls = dict(jobs.calls)
    stats = run_tracker.run_cycle(app_ctx)
    assert stats.polled == 0 and jobs.calls.get("DescribeJobs") == calls.get("DescribeJobs")
    assert http.put(f"/trace/{run_id}/complete", headers=basic(admin_token),
                    json=p.complete(run_id, success=False)).status_code == 200  # fmt: skip
    row = run_row(app_ctx, run_id)
    assert (row.status, row.active, row.compute_env_id, row.origin) == (
        "FAILED", False, None, "trace")  # fmt: skip
    assert "terminated with an error" in (row.error_message or "")
    # Task logs and files: not here (no AWS access for a run launched elsewhere).
    assert http.put(f"/trace/{run_id}/progress", headers=basic(admin_token),
                    json=p.progress([p.task(1, "COMPLETED")])).status_code == 200  # fmt: skip
    answer = http.get(f"/workflow/{run_id}/log/1", headers=bearer(admin_token))
    assert answer.status_code == 404 and "launched outside batchforge" in answer.json()["message"]
