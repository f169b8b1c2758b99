"""The run tracker and launches at scale, on the local emulator.

1. 1,000 launches of one configuration through the launch service: RegisterJobDefinition
   calls (target 1) and launches per second (SubmitJob is paced to the 50/s account limit).
2. N active runs (default 10,000: the 1,000 launched plus jobs submitted straight to the
   emulator): per tracker cycle, DescribeJobs calls (must be ceil(N/100)), wall time, database
   writes when nothing changed (target 0; a cycle that finds leases half expired renews them
   all in one UPDATE) and peak Python memory.

The emulator finishes a job the moment it is submitted; a botocore hook (the same mechanism as
the tests' AWS layer) shows every job RUNNING, as on AWS while a pipeline runs.

Usage: .venv/bin/python benchmarks/bench_tracker.py [N]   (BATCHFORGE_BENCH_DATABASE_URL for
PostgreSQL; default a SQLite file)
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import event

from batchforge import local_aws
from batchforge.db import models
from batchforge.local_aws import WORK_BUCKET
from batchforge.runtime import build_context
from batchforge.schemas.compute_envs import ComputeEnvIn
from batchforge.schemas.credentials import AwsKeysIn, CredentialsIn
from batchforge.schemas.workflows import WorkflowLaunchRequest
from batchforge.services import compute_envs, credentials, launches, run_tracker
from batchforge.services.accounts import bootstrap_admin
from batchforge.services.ids import new_id
from batchforge.settings import Settings

LAUNCHES = 1_000
CYCLES = 3


def show_running(parsed: dict[str, Any], model: Any, **_: Any) -> None:
    if model.name == "DescribeJobs":
        for job in parsed.get("jobs", []):
            job["status"] = "RUNNING"
            job.pop("stoppedAt", None)


class Writes:
    def __init__(self, engine: Any):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.count += 1


def setup(emulator: local_aws.LocalAws, data_dir: Path) -> tuple[Any, int, str]:
    url = os.environ.get("BATCHFORGE_BENCH_DATABASE_URL")
    settings = Settings(data_dir=data_dir, database_url=url)
    ctx = build_context(
        settings,
        emulator_url=emulator.url,
        event_hooks=[("after-call.batch.DescribeJobs", show_running)],
    )
    bootstrap_admin(ctx)
    workspace_id = 1
    batch, iam = emulator.boto_client("batch"), emulator.boto_client("iam")
    role = iam.create_role(RoleName="bench-batch-service", AssumeRolePolicyDocument="{}")
    ce = batch.create_compute_environment(
        computeEnvironmentName="bench-ce", type="UNMANAGED", serviceRole=role["Role"]["Arn"]
    )
    for name in ("bench-head", "bench-work"):
        batch.create_job_queue(
            jobQueueName=name,
            priority=1,
            state="ENABLED",
            computeEnvironmentOrder=[
                {"order": 1, "computeEnvironment": ce["computeEnvironmentArn"]}
            ],
        )
    creds = credentials.create(
        ctx,
        workspace_id,
        CredentialsIn(
            name="bench",
            provider="aws",
            keys=AwsKeysIn(accessKey="AKIABENCHBENCHBENCH1", secretKey="x" * 40),
        ),
        False,
    )
    env = ComputeEnvIn.model_validate(
        {
            "name": "bench",
            "platform": "aws-batch",
            "credentialsId": creds,
            "config": {
                "region": "us-east-1",
                "workDir": f"s3://{WORK_BUCKET}/work",
                "headQueue": "bench-head",
                "computeQueue": "bench-work",
            },
        }
    )
    return ctx, workspace_id, compute_envs.create(ctx, workspace_id, env, [])


def bench_launches(ctx: Any, workspace_id: int, ce_id: str) -> list[str]:
    body = WorkflowLaunchRequest(
        computeEnvId=ce_id, pipeline="https://github.com/nextflow-io/hello", paramsText="a: 1"
    )
    mark = ctx.recorder.count()
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: launches.launch(ctx, workspace_id, body), range(LAUNCHES)))
    elapsed = time.perf_counter() - started
    calls = [c.name for c in ctx.recorder.since(mark)]
    print(
        f"launches:                           {LAUNCHES} in {elapsed:.1f} s "
        f"({LAUNCHES / elapsed:.1f}/s; SubmitJob paced to "
        f"{ctx.settings.submit_jobs_per_second:.0f}/s)"
    )
    print(
        f"RegisterJobDefinition calls:        {calls.count('batch:RegisterJobDefinition')} "
        "(target 1)"
    )
    print(f"DescribeJobDefinitions calls:       {calls.count('batch:DescribeJobDefinitions')}")
    print(f"SubmitJob calls:                    {calls.count('batch:SubmitJob')}")
    return ids


def add_runs(ctx: Any, template_id: str, count: int, emulator: local_aws.LocalAws) -> None:
    """``count`` more active runs: copies of a launched one with jobs submitted directly."""
    with ctx.db.transaction() as session:
        template = session.get(models.Run, template_id)
        columns = {c.key: getattr(template, c.key) for c in models.Run.__table__.columns}
    batch = emulator.boto_client("batch")

    def submit(_: int) -> tuple[str, str, str]:
        run_id = new_id()
        name = f"bench-{run_id}"
        job = batch.submit_job(
            jobName=name, jobQueue="bench-head", jobDefinition=columns["job_definition"]
        )
        return run_id, name, job["jobId"]

    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(submit, range(count)))
    with ctx.db.transaction() as session:
        for run_id, name, job_id in made:
            session.add(models.Run(**{**columns, "id": run_id, "job_name": name, "job_id": job_id}))


def bench_cycles(ctx: Any, total: int) -> None:
    writes = Writes(ctx.db.engine)
    for cycle in range(2 + CYCLES):
        traced = cycle == 1 + CYCLES  # the last cycle measures memory (tracemalloc slows it)
        mark, before = ctx.recorder.count(), writes.count
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        stats = run_tracker.run_cycle(ctx)
        elapsed = time.perf_counter() - started
        calls = [c for c in ctx.recorder.since(mark) if c.name == "batch:DescribeJobs"]
        aws_s = sum(c.duration_s for c in calls)
        if traced:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"peak Python memory of a cycle:      {peak / 1e6:.1f} MB (tracemalloc)")
            continue
        label = "first cycle (claims, records)" if cycle == 0 else f"cycle {cycle}, no change"
        print(
            f"{label:34s}  runs {stats.polled}, DescribeJobs {len(calls)} "
            f"(ceil(N/100) = {math.ceil(total / 100)}), {elapsed:.2f} s "
            f"(of which waiting on DescribeJobs {aws_s:.2f} s), "
            f"DB writes {writes.count - before}"
        )


def main() -> int:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp, local_aws.start() as emulator:
        ctx, workspace_id, ce_id = setup(emulator, Path(tmp) / "data")
        ids = bench_launches(ctx, workspace_id, ce_id)
        add_runs(ctx, ids[0], total - len(ids), emulator)
        bench_cycles(ctx, total)
        ctx.db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
