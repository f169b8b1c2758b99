"""A run launched elsewhere (``-with-tower``, no compute environment, no head job): every
run endpoint answers it without a 5xx, saying what batchforge cannot do for it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.trace import payloads as p
from tests.trace.conftest import basic, bearer


def test_every_run_endpoint_answers_a_run_launched_elsewhere(
    http: TestClient, admin: tuple[str, int]
):
    token, _ = admin
    answer = http.post("/trace/create", headers=basic(token), json=p.create(None))
    run_id = answer.json()["workflowId"]
    http.put(f"/trace/{run_id}/begin", headers=basic(token), json=p.begin(run_id))
    auth = bearer(token)
    for method, path, status in (
        ("GET", f"/workflow/{run_id}", 200),
        ("GET", f"/workflow/{run_id}/launch", 200),
        ("GET", f"/workflow/{run_id}/log", 404),
        ("GET", f"/workflow/{run_id}/download", 404),
        ("GET", f"/workflow/{run_id}/files", 404),
        ("GET", f"/workflow/{run_id}/progress", 200),
        ("GET", f"/workflow/{run_id}/tasks", 200),
        ("GET", f"/workflow/{run_id}/metrics", 200),
        ("POST", f"/workflow/{run_id}/cancel", 409),
        ("DELETE", f"/workflow/{run_id}?force=true", 204),
    ):
        answer = http.request(method, path, headers=auth)
        assert answer.status_code == status, (method, path, answer.text)
        if status in (404, 409):
            assert "launched outside batchforge" in answer.json()["message"]
    assert http.get(f"/workflow/{run_id}", headers=auth).status_code == 404  # deleted
