"""Reading tasks: paging, sorting, searching as Seqera's task table asks, and bad queries."""

from __future__ import annotations

from fastapi.testclient import TestClient

from batchforge.services import run_tokens
from batchforge.services.context import AppContext
from tests.trace import payloads as p
from tests.trace.conftest import basic, bearer, make_run
from tests.trace.spec import validate


def test_paging_sorting_and_search(app_ctx: AppContext, http: TestClient, admin):
    user_token, ws = admin
    run_id = make_run(app_ctx, ws)
    token = run_tokens.issue(app_ctx, run_id)
    tasks = [p.task(i, "COMPLETED", realtime=1000 * (i % 7), process=f"P{i % 3}") for i in
             range(1, 121)]  # fmt: skip
    for start in (0, 100):
        body = p.progress(tasks[start : start + 100])
        assert http.put(f"/trace/{run_id}/progress", headers=basic(token), json=body).is_success
    auth = bearer(user_token)

    def ids(query: str) -> tuple[list[int], int]:
        answer = http.get(f"/workflow/{run_id}/tasks?{query}", headers=auth)
        assert answer.status_code == 200, answer.text
        validate("ListTasksResponse", answer.json())
        body = answer.json()
        return [t["task"]["taskId"] for t in body["tasks"]], body["total"]

    assert ids("max=10") == (list(range(1, 11)), 120)
    assert ids("max=10&offset=115") == (list(range(116, 121)), 120)
    assert len(ids("max=1000")[0]) == 100  # capped
    page, _ = ids("max=5&sortBy=realtime&sortDir=desc")
    assert page == [6, 13, 20, 27, 34]  # realtime 6000, ties by taskId
    assert ids("max=3&sortBy=taskId&sortDir=desc")[0] == [120, 119, 118]
    assert ids("search=sample42")[0] == [42]  # tag
    assert ids("search=P1&max=100")[1] == 40  # process, counted
    assert ids("search=completed")[1] == 120  # status
    for query, field in (("sortBy=bogus", "sortBy"), ("sortDir=up", "sortDir"), ("max=0", "max")):
        answer = http.get(f"/workflow/{run_id}/tasks?{query}", headers=auth)
        assert answer.status_code == 400 and answer.json()["field"] == field, query
    assert http.get(f"/workflow/{run_id}/task/9999", headers=auth).status_code == 404
    assert http.get("/workflow/nope/progress", headers=auth).status_code == 404
