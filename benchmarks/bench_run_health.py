"""The tracker's run health step (stale runs, waiting tasks explained, cost estimates) at scale.

One traced run with N finished tasks (default 10,000) on four price keys (on-demand m5.large
and c5.large in us-east-1, r5.large in eu-west-1, Spot m5.large in us-east-1a) and W tasks
waiting in AWS Batch (default 300, held RUNNABLE by a botocore hook, as the tests' Batch
layer does).  Per run health step: wall time, AWS calls by name (targets: GetProducts once per
on-demand key, DescribeSpotPriceHistory once per Spot key, DescribeInstanceTypes once per
type, DescribeJobs ceil(W/100), one DescribeJobQueues and one DescribeComputeEnvironments),
and database writes.  The second step finds nothing new: no AWS call.

Usage: .venv/bin/python benchmarks/bench_run_health.py [N] [W]   (BATCHFORGE_BENCH_DATABASE_URL
for PostgreSQL; default a SQLite file)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event

from batchforge import local_aws
from batchforge.db import models
from batchforge.runtime import build_context
from batchforge.schemas.credentials import AwsKeysIn, CredentialsIn
from batchforge.services import credentials, run_health
from batchforge.services.accounts import bootstrap_admin
from batchforge.services.compute_envs import SessionCache
from batchforge.services.ids import new_id
from batchforge.settings import Settings

KEYS = [
    ("m5.large", "us-east-1a", "standard"),
    ("c5.large", "us-east-1b", "standard"),
    ("r5.large", "eu-west-1a", "standard"),
    ("m5.large", "us-east-1a", "spot"),
]


def show_runnable(parsed: dict[str, Any], model: Any, **_: Any) -> None:
    if model.name == "DescribeJobs":
        for job in parsed.get("jobs", []):
            job["status"] = "RUNNABLE"
            job.pop("stoppedAt", None)
            job.pop("startedAt", None)


class Writes:
    def __init__(self, engine: Any):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.count += 1


def waiting_jobs(emulator: local_aws.LocalAws, count: int) -> list[str]:
    batch, iam = emulator.boto_client("batch"), emulator.boto_client("iam")
    role = iam.create_role(RoleName="bench-health-service", AssumeRolePolicyDocument="{}")
    batch.create_compute_environment(
        computeEnvironmentName="bench-health-ce",
        type="UNMANAGED",
        serviceRole=role["Role"]["Arn"],
    )
    batch.create_job_queue(
        jobQueueName="bench-health-q",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": "bench-health-ce"}],
    )
    definition = batch.register_job_definition(
        jobDefinitionName="bench-health-task",
        type="container",
        containerProperties={"image": "busybox", "vcpus": 2, "memory": 2048},
    )["jobDefinitionArn"]
    return [
        batch.submit_job(jobName=f"tw-{i}", jobQueue="bench-health-q", jobDefinition=definition)[
            "jobId"
        ]
        for i in range(count)
    ]


def make_run(ctx: Any, workspace_id: int, credentials_id: str, n: int, jobs: list[str]) -> str:
    run_id = new_id()
    now = datetime.now(UTC)
    old = now - timedelta(minutes=30)
    with ctx.db.transaction() as session:
        session.add(
            models.Run(
                id=run_id,
                workspace_id=workspace_id,
                credentials_id=credentials_id,
                region="us-east-1",
                run_name="bench-health",
                repository="https://github.com/nextflow-io/hello",
                work_dir="s3://bench/work",
                session_id="00000000-0000-0000-0000-000000000000",
                status="RUNNING",
                submit_state="submitted",
                job_name=f"bf-{run_id}",
                job_queue="bench-health-q",
                trace_state="begun",
                trace_at=now,
            )
        )
    rows = []
    for task_id in range(1, n + 1):
        machine, zone, model = KEYS[task_id % len(KEYS)]
        data = {"machineType": machine, "cloudZone": zone, "priceModel": model}
        rows.append(
            _task(run_id, task_id, "COMPLETED", data, realtime=60_000 + task_id, submit=old)
        )
    for offset, job_id in enumerate(jobs):
        rows.append(_task(run_id, n + 1 + offset, "SUBMITTED", {}, native_id=job_id, submit=old))
    with ctx.db.transaction() as session:
        for start in range(0, len(rows), 1000):
            session.execute(models.RunTask.__table__.insert(), rows[start : start + 1000])
    return run_id


def _task(run_id: str, task_id: int, status: str, data: dict, **values: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    row = {
        "run_id": run_id,
        "task_id": task_id,
        "status": status,
        "instant": 0,
        "process": "P",
        "name": f"P ({task_id})",
        "tag": None,
        "hash": None,
        "native_id": None,
        "exit": 0,
        "attempt": 1,
        "cpus": 1,
        "memory": 1024**3,
        "duration": None,
        "realtime": None,
        "submit": None,
        "start": None,
        "complete": None,
        "data": data,
        "created_at": now,
        "updated_at": now,
    }
    row.update(values)
    return row


def step(ctx: Any, recorder: Any, writes: Writes, label: str) -> None:
    before_calls, before_writes = len(recorder.calls), writes.count
    started = time.perf_counter()
    stats = run_health.check(ctx, SessionCache(ctx).get)
    elapsed = time.perf_counter() - started
    calls = Counter(c.name for c in recorder.calls[before_calls:])
    print(
        f"{label}: {elapsed:.2f} s; priced {stats.costs.priced}, unpriced {stats.costs.unpriced}, "
        f"explained {stats.explained}; DB writes {writes.count - before_writes}; AWS calls "
        f"{sum(calls.values())} {dict(sorted(calls.items()))}",
        flush=True,
    )


def main(n: int, waiting: int) -> None:
    with local_aws.start() as emulator, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp), database_url=os.environ.get("BATCHFORGE_BENCH_DATABASE_URL")
        )
        ctx = build_context(
            settings,
            emulator_url=emulator.url,
            event_hooks=[("after-call.batch.DescribeJobs", show_runnable)],
        )
        bootstrap_admin(ctx)
        body = CredentialsIn(
            name="bench",
            provider="aws",
            keys=AwsKeysIn(accessKey="AKIABENCHHEALTH00000", secretKey="x" * 40),
        )
        credentials_id = credentials.create(ctx, 1, body, use_external_id=False)
        jobs = waiting_jobs(emulator, waiting)
        make_run(ctx, 1, credentials_id, n, jobs)
        writes = Writes(ctx.db.engine)
        print(f"{ctx.db.engine.dialect.name}: {n} finished tasks, {waiting} waiting", flush=True)
        step(ctx, ctx.recorder, writes, "first step ")
        step(ctx, ctx.recorder, writes, "second step")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*(args + [10_000, 300][len(args) :]))
