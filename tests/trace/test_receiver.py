"""The /trace receiver through HTTP, as nf-tower sends it, round-tripped through the read API.

Protocol facts (reference/nextflow-trace-protocol.md, from nf-tower's TowerClient/
TowerObserver): at-least-once delivery (retries resend), a task entry is a full snapshot and
statuses can be skipped, ≤ 100 tasks per progress, any non-2xx on progress aborts the run
(latest plugin), Basic '@token:' auth for non-JWT tokens.  Every read answer is validated
against the Seqera spec's schema.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from batchforge.db import models
from batchforge.services import run_tokens
from batchforge.services.context import AppContext
from tests.trace import payloads as p
from tests.trace.conftest import basic, bearer, make_run
from tests.trace.spec import validate


@pytest.fixture
def reporting(app_ctx: AppContext, admin: tuple[str, int]) -> tuple[str, str, int]:
    """A launched run and its run token: (run_id, token, workspace_id)."""
    _, workspace_id = admin
    run_id = make_run(app_ctx, workspace_id)
    return run_id, run_tokens.issue(app_ctx, run_id), workspace_id


def _put(http: TestClient, run_id: str, what: str, token: str, body: Any, ws: int | None = None):
    query = f"?workspaceId={ws}" if ws is not None else ""
    return http.put(f"/trace/{run_id}/{what}{query}", headers=basic(token), json=body)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _get(http: TestClient, token: str, path: str, schema: str) -> dict[str, Any]:
    """GET ``path`` and validate the answer against ``schema``.  ``GET /workflow/{id}``
    predates the trace and writes absent fields as null: those are left out first."""
    answer = http.get(path, headers=bearer(token))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    validate(schema, _without_nulls(body) if schema == "DescribeWorkflowResponse" else body)
    return body


def _rows(ctx: AppContext, run_id: str) -> dict[int, tuple[str, int]]:
    with ctx.db.transaction() as session:
        return {
            task_id: (status, instant)
            for task_id, status, instant in session.execute(
                select(models.RunTask.task_id, models.RunTask.status, models.RunTask.instant).where(
                    models.RunTask.run_id == run_id
                )
            )
        }


def test_a_launched_run_reports_and_reads_back_in_seqera_shapes(
    app_ctx: AppContext, http: TestClient, admin: tuple[str, int], reporting
):
    user_token, _ = admin
    run_id, token, ws = reporting
    answer = http.post(f"/trace/create?workspaceId={ws}", headers=basic(token),
                       json=p.create(run_id))  # fmt: skip
    assert answer.status_code == 200, answer.text
    validate("TraceCreateResponse", answer.json())
    assert answer.json()["workflowId"] == run_id
    answer = _put(http, run_id, "begin", token, p.begin(run_id), ws)
    assert answer.status_code == 200, answer.text
    validate("TraceBeginResponse", answer.json())
    assert answer.json()["watchUrl"].endswith(f"/ui/runs/{run_id}")

    first = [p.task(1, "NEW"), p.task(2, "SUBMITTED"), p.task(3, "CACHED", "SUB:UPPER")]
    answer = _put(http, run_id, "progress", token, p.progress(first, p.quick_progress()), ws)
    assert answer.status_code == 200, answer.text
    validate("TraceProgressResponse", answer.json())
    # Task 1 skips SUBMITTED and RUNNING; task 2 goes on running; task 4 is new and done.
    second = [p.task(1, "COMPLETED"), p.task(2, "RUNNING"), p.task(4, "FAILED")]
    assert _put(http, run_id, "progress", token, p.progress(second), ws).status_code == 200
    answer = _put(http, run_id, "heartbeat", token, {"progress": p.quick_progress(),
                                                      "instant": p.instant()}, ws)  # fmt: skip
    assert answer.status_code == 200
    validate("TraceHeartbeatResponse", answer.json())

    progress = _get(http, user_token, f"/workflow/{run_id}/progress", "GetProgressResponse")
    load = progress["progress"]["workflowProgress"]
    assert (load["pending"], load["running"], load["succeeded"], load["failed"]) == (0, 1, 1, 1)
    assert (load["cached"], load["peakTasks"], load["peakCpus"]) == (1, 3, 3)
    names = [proc["process"] for proc in progress["progress"]["processesProgress"]]
    assert names == ["SAY_HELLO", "SUB:UPPER"]  # begin's processNames order
    assert progress["progress"]["totalProcesses"] == 2

    tasks = _get(http, user_token, f"/workflow/{run_id}/tasks", "ListTasksResponse")
    assert tasks["total"] == 4
    assert [t["task"]["taskId"] for t in tasks["tasks"]] == [1, 2, 3, 4]
    assert [t["task"]["status"] for t in tasks["tasks"]] == [
        "COMPLETED", "RUNNING", "CACHED", "FAILED"]  # fmt: skip
    one = _get(http, user_token, f"/workflow/{run_id}/task/1", "DescribeTaskResponse")["task"]
    assert one["nativeId"].startswith("job-0001")
    assert one["start"] == "2026-12-05T08:01:00.000Z"  # sent without seconds
    assert one["complete"] == "2026-12-05T08:02:30.500Z"
    assert one["pcpu"] == 87.5 and one["peakRss"] == 62914560 and one["exit"] == 0

    answer = _put(http, run_id, "complete", token, p.complete(run_id), ws)
    assert answer.status_code == 200
    validate("TraceCompleteResponse", answer.json())
    metrics = _get(http, user_token, f"/workflow/{run_id}/metrics", "GetWorkflowMetricsResponse")
    assert metrics["metrics"][0]["process"] == "SAY_HELLO"
    assert metrics["metrics"][0]["cpu"]["max"] == 95.5
    described = _get(http, user_token, f"/workflow/{run_id}", "DescribeWorkflowResponse")
    flow = described["workflow"]
    assert flow["status"] == "SUCCEEDED" and flow["exitStatus"] == 0
    assert flow["commitId"] == "7588c46ffefb4e3c06d4ab32c745c4d5e56cdad8"
    assert flow["nextflow"]["version"] == "24.10.5"
    assert flow["sessionId"] == "6f1b1c52-8c1e-4a44-9d8f-0c1f2f3e4a5b"  # the real one
    assert flow["configText"].startswith("process {")
    assert flow["duration"] == 600000 and flow["stats"]["succeedCount"] == 2
    assert described["progress"]["workflowProgress"]["succeeded"] == 1


def test_replays_and_stale_snapshots_change_nothing(
    app_ctx: AppContext, http: TestClient, admin: tuple[str, int], reporting
):
    user_token, _ = admin
    run_id, token, _ = reporting
    newer = p.progress([p.task(1, "COMPLETED"), p.task(2, "RUNNING")])
    older = p.progress([p.task(1, "RUNNING"), p.task(2, "SUBMITTED")], at=newer["instant"] - 5)
    assert _put(http, run_id, "progress", token, newer).status_code == 200
    before = _rows(app_ctx, run_id)
    progress_before = http.get(f"/workflow/{run_id}/progress", headers=bearer(user_token)).json()
    for body in (newer, older, newer):  # a retry, a reordered delivery, a retry again
        assert _put(http, run_id, "progress", token, body).status_code == 200
    assert _rows(app_ctx, run_id) == before
    progress_after = http.get(f"/workflow/{run_id}/progress", headers=bearer(user_token)).json()
    assert progress_after["progress"]["workflowProgress"]["succeeded"] == 1
    assert progress_after["progress"]["workflowProgress"]["running"] == 1
    strip = lambda d: {k: v for k, v in d.items() if k != "lastUpdated"}  # noqa: E731
    assert strip(progress_after["progress"]["workflowProgress"]) == strip(
        progress_before["progress"]["workflowProgress"]
    )
    # A final status is final; a later same-status snapshot updates the details.
    late = p.progress([p.task(1, "FAILED"), p.task(2, "RUNNING", pcpu=50.0)])
    assert _put(http, run_id, "progress", token, late).status_code == 200
    rows = _rows(app_ctx, run_id)
    assert rows[1] == before[1] and rows[2][0] == "RUNNING" and rows[2][1] > before[2][1]
    task = http.get(f"/workflow/{run_id}/task/2", headers=bearer(user_token)).json()["task"]
    assert task["pcpu"] == 50.0


def test_a_stale_client_snapshot_does_not_roll_progress_back(
    app_ctx: AppContext, http: TestClient, admin: tuple[str, int], reporting
):
    user_token, _ = admin
    run_id, token, _ = reporting
    new = p.progress([], p.quick_progress(peakRunning=9, retries=4))
    old = p.progress([], p.quick_progress(peakRunning=2, retries=1), at=new["instant"] - 10)
    for body in (new, old):
        assert _put(http, run_id, "progress", token, body).status_code == 200
    load = http.get(f"/workflow/{run_id}/progress", headers=bearer(user_token)).json()
    assert load["progress"]["workflowProgress"]["peakTasks"] == 9
    assert load["progress"]["workflowProgress"]["retries"] == 4


def test_native_id_number_or_string_unknown_fields_and_no_client_progress(
    app_ctx: AppContext, http: TestClient, admin: tuple[str, int], reporting
):
    """Older plugins send no ``progress``: counts come from the tasks alone."""
    user_token, _ = admin
    run_id, token, _ = reporting
    tasks = [
        p.task(7, "RUNNING", nativeId=123456789, futureField={"a": [1, "b"]}),
        p.task(8, "SUBMITTED", nativeId="abc-def", submit="2026-12-05T08:00+01:00"),
        p.task(9, "NEW", tag={"not": "a string"}),  # the plugin drops such a tag
    ]
    assert _put(http, run_id, "progress", token, {"tasks": tasks}).status_code == 200
    seven = http.get(f"/workflow/{run_id}/task/7", headers=bearer(user_token)).json()["task"]
    validate("Task", seven)
    assert seven["nativeId"] == "123456789" and seven["futureField"] == {"a": [1, "b"]}
    eight = http.get(f"/workflow/{run_id}/task/8", headers=bearer(user_token)).json()["task"]
    assert eight["submit"] == "2026-12-05T07:00:00.000Z"
    nine = http.get(f"/workflow/{run_id}/task/9", headers=bearer(user_token)).json()["task"]
    assert "tag" not in nine
    load = http.get(f"/workflow/{run_id}/progress", headers=bearer(user_token)).json()
    counts = load["progress"]["workflowProgress"]
    assert (counts["pending"], counts["submitted"], counts["running"]) == (1, 1, 1)


def test_bad_input_is_refused_with_the_reason_and_nothing_well_formed_is_lost(
    app_ctx: AppContext, http: TestClient, reporting
):
    run_id, token, _ = reporting
    too_many = p.progress([p.task(i, "NEW") for i in range(101)])
    answer = _put(http, run_id, "progress", token, too_many)
    assert answer.status_code == 400 and "at most 100" in answer.json()["message"]
    assert _rows(app_ctx, run_id) == {}
    answer = http.put(f"/trace/{run_id}/progress", headers={**basic(token),
                      "Content-Type": "application/json"}, content=b'{"tasks": [')  # fmt: skip
    assert answer.status_code == 400 and "JSON" in answer.json()["message"]
    mixed = [p.task(1, "NEW"), p.task(2, "NEW", name="x" * 256), {"status": "NEW"},
             p.task(3, "WEIRD"), p.task(4, "RUNNING")]  # fmt: skip
    answer = _put(http, run_id, "progress", token, p.progress(mixed))
    assert answer.status_code == 400
    body = answer.json()
    assert body["field"] == "tasks" and "3 task(s) malformed" in body["message"]
    assert "tasks[1].name: longer than 255" in body["message"]
    assert "taskId" in body["message"] and "status" in body["message"]
    assert set(_rows(app_ctx, run_id)) == {1, 4}


def test_nul_and_lone_surrogates_never_half_write_a_progress(
    app_ctx: AppContext, http: TestClient, admin: tuple[str, int], reporting
):
    """Neither database stores a NUL or a lone surrogate, and the delivery is not refused:
    the current nf-tower plugin aborts the run on any non-2xx progress
    (TowerObserver/TowerClient, plugins/nf-tower 1.29), so the trace parser replaces them by
    U+FFFD (the input guard leaves /trace/ bodies' text to it)."""
    user_token, _ = admin
    run_id, token, _ = reporting
    body = p.progress([p.task(1, "NEW"), p.task(2, "NEW", tag="a\u0000b", script="x\ud800y")])
    raw = json.dumps(body).encode()
    answer = http.put(f"/trace/{run_id}/progress", headers={**basic(token),
                      "Content-Type": "application/json"}, content=raw)  # fmt: skip
    assert answer.status_code == 200, answer.text
    task = http.get(f"/workflow/{run_id}/task/2", headers=bearer(user_token)).json()["task"]
    assert task["tag"] == "a\ufffdb" and task["script"] == "x\ufffdy"


def test_who_may_report(app_ctx: AppContext, http: TestClient, admin: tuple[str, int]):
    user_token, ws = admin
    run_a, run_b = make_run(app_ctx, ws), make_run(app_ctx, ws)
    token_a = run_tokens.issue(app_ctx, run_a)
    body = p.progress([p.task(1, "NEW")])
    assert _put(http, run_b, "progress", token_a, body).status_code == 403  # A's token on B
    assert _put(http, run_a, "progress", token_a + "x", body).status_code == 401
    assert _put(http, run_a, "progress", token_a, body, ws=ws + 1000).status_code == 403
    from batchforge.services import accounts

    _, stranger = accounts.create_user(app_ctx, "stranger")
    other_ws = accounts.create_workspace(app_ctx, "other", "elsewhere", None)
    answer = _put(http, run_a, "progress", stranger, body)
    assert answer.status_code == 403  # a member of no workspace
    foreign = make_run(app_ctx, other_ws)
    assert _put(http, foreign, "progress", user_token, body).status_code == 404
    assert _rows(app_ctx, run_b) == {} and _rows(app_ctx, run_a) == {}
    assert _rows(app_ctx, foreign) == {}
    # The user's own token may report runs of its workspace.
    assert _put(http, run_a, "progress", user_token, body).status_code == 200
    with app_ctx.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(models.RunTask)) == 1
