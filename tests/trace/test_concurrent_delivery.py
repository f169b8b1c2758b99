"""Overlapping deliveries over real HTTP (uvicorn on loopback): the plugin's retries can
overlap a slow first attempt (at-least-once, nf-tower TowerClient retry policy), and a
server replica may receive them at once.  Whatever the interleaving, the stored tasks and
the derived counts equal those of the deliveries applied once, in order."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.services import run_tokens
from tests.cli.conftest import serve
from tests.trace import payloads as p
from tests.trace.conftest import basic, bearer, make_run

STATUSES = ("NEW", "SUBMITTED", "RUNNING", "COMPLETED")


def test_overlapping_and_reordered_deliveries_converge(app_ctx, admin):
    from batchforge.server.app import create_app

    user_token, ws = admin
    run_id = make_run(app_ctx, ws)
    token = run_tokens.issue(app_ctx, run_id)
    # 4 statuses x 3 batches of 100 tasks, in the plugin's order (instants increasing).
    bodies = [
        p.progress([p.task(i, status, process=f"P{i % 4}") for i in range(k, k + 100)])
        for status in STATUSES
        for k in (1, 101, 201)
    ]
    deliveries = bodies * 3  # every request delivered three times…
    random.Random(7).shuffle(deliveries)  # …in any order, partly at once
    with serve(create_app(app_ctx)) as url:

        def send(body: dict) -> int:
            with httpx.Client(base_url=url, timeout=120) as client:
                return client.put(
                    f"/trace/{run_id}/progress", headers=basic(token), json=body
                ).status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(send, deliveries)) == {200}
        with httpx.Client(base_url=url, headers=bearer(user_token), timeout=60) as client:
            load = client.get(f"/workflow/{run_id}/progress").json()["progress"]
            tasks = client.get(f"/workflow/{run_id}/tasks?max=100").json()
    counts = load["workflowProgress"]
    assert counts["succeeded"] == 300 and tasks["total"] == 300
    assert sum(counts[c] for c in ("pending", "submitted", "running", "failed")) == 0
    assert sorted(proc["succeeded"] for proc in load["processesProgress"]) == [75, 75, 75, 75]
    with app_ctx.db.transaction() as session:
        statuses = set(session.scalars(select(models.RunTask.status)).all())
    assert statuses == {"COMPLETED"}


def test_an_expired_run_token_writes_nothing(app_ctx, admin):
    from batchforge.server.app import create_app

    _, ws = admin
    run_id = make_run(app_ctx, ws)
    token = run_tokens.issue(app_ctx, run_id)
    with app_ctx.db.transaction() as session:
        session.execute(
            update(models.Run)
            .where(models.Run.id == run_id)
            .values(active=False, status="FAILED", complete=utcnow() - timedelta(hours=1))
        )
    with serve(create_app(app_ctx)) as url:
        answer = httpx.put(f"{url}/trace/{run_id}/progress", headers=basic(token),
                           json=p.progress([p.task(1, "NEW")]), timeout=120)  # fmt: skip
    assert answer.status_code == 401 and "expired" in answer.json()["message"]
    with app_ctx.db.transaction() as session:
        assert session.scalars(select(models.RunTask)).first() is None
