"""Two trackers (server replicas) sharing one database never poll the same run."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from batchforge.db import models
from batchforge.runtime import build_context
from batchforge.services import run_tracker
from batchforge.services.context import AppContext
from batchforge.services.ids import new_id
from tests.batchjobs import BatchJobs


def add_runs(
    app_ctx: AppContext, jobs: BatchJobs, count: int, launch: Callable[..., str]
) -> list[str]:
    """One launched run, then ``count`` copies of it with jobs submitted straight to the
    emulator (launching hundreds through the API would only slow the test down)."""
    template_id = launch()
    with app_ctx.db.transaction() as session:
        template = session.get(models.Run, template_id)
        assert template is not None
        columns = {c.key: getattr(template, c.key) for c in models.Run.__table__.columns}
    auth = _auth(app_ctx, template.credentials_id, template.workspace_id)
    batch = app_ctx.aws.session(auth, template.region).client("batch")
    ids = []
    with app_ctx.db.transaction() as session:
        for _ in range(count):
            run_id = new_id()
            name = f"copy-{run_id}"
            job = batch.submit_job(
                jobName=name, jobQueue=columns["job_queue"], jobDefinition=columns["job_definition"]
            )
            session.add(
                models.Run(**{**columns, "id": run_id, "job_name": name, "job_id": job["jobId"]})
            )
            ids.append(run_id)
    return [template_id, *ids]


def _auth(app_ctx: AppContext, credentials_id: str | None, workspace_id: int) -> Any:
    from batchforge.services import credentials

    return credentials.stored_keys(app_ctx, workspace_id, credentials_id or "").auth()


def test_two_trackers_split_the_runs_and_never_poll_one_twice(
    app_ctx: AppContext, launch: Callable[..., str], jobs: BatchJobs, local_aws: Any
) -> None:
    run_ids = add_runs(app_ctx, jobs, 150, launch)
    other = build_context(app_ctx.settings, emulator_url=local_aws.url, run_migrations=False)
    other.aws.event_hooks.extend(jobs.hooks())
    polled: Counter[str] = Counter()
    lock = threading.Lock()
    original = run_tracker.apply

    def counting_apply(ctx: AppContext, owner: str, changes: list[Any]) -> int:
        with lock:
            polled.update(run_id for run_id, _ in changes)
        return original(ctx, owner, changes)

    run_tracker.apply = counting_apply  # type: ignore[assignment]
    barrier = threading.Barrier(2)
    claimed: Counter[str] = Counter()

    def work(ctx: AppContext, owner: str) -> None:
        for _ in range(2):
            barrier.wait()
            claimed[owner] += run_tracker.run_cycle(ctx, owner, claim_limit=80).claimed

    try:
        threads = [
            threading.Thread(target=work, args=(app_ctx, "replica-a")),
            threading.Thread(target=work, args=(other, "replica-b")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        run_tracker.apply = original  # type: ignore[assignment]
        other.db.dispose()
    assert claimed["replica-a"] + claimed["replica-b"] == len(run_ids)
    if app_ctx.db.is_postgres:  # SKIP LOCKED: claiming at the same time splits the runs
        assert claimed["replica-a"] > 0 and claimed["replica-b"] > 0
    # every run's first observation was applied once, by one replica
    assert set(polled) == set(run_ids) and set(polled.values()) == {1}
    with app_ctx.db.transaction() as session:
        owners = Counter(session.scalars(select(models.Run.lease_owner)).all())
    assert set(owners) <= {"replica-a", "replica-b", None}
