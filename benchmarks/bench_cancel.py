"""Launching a run, and cancelling it with N live task jobs, on the local emulator
(N = 0, 10, 1,000).

Per launch: the AWS calls of the launch itself (the first one also finds or registers the job
definition).  Per cancel: TerminateJob, ListJobs and DescribeJobs calls and wall time.  Task
jobs are named as nf-amazon names them (``tw-<runId>-<task>``) on the compute queue and held
RUNNING by the tests' Batch job layer (tests/batchjobs.py), which also pages ListJobs as AWS
does (at most 100 jobs a page with a filter): expected ListJobs = max(1, ceil(N/100)),
TerminateJob = N + 1 (the head job), DescribeJobs = 0.  The tracker's later recheck (one more
ListJobs per cancelled run, RECHECK_SECONDS after) is not part of the cancel and is shown apart.

Usage: .venv/bin/python benchmarks/bench_cancel.py [N ...]
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import update
from tests.batchjobs import BatchJobs

from batchforge import local_aws
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.schemas.workflows import WorkflowLaunchRequest
from batchforge.services import launches, run_tasks, run_tracker, runs
from bench_tracker import setup

SIZES = (0, 10, 1_000)


def _tasks(layer: BatchJobs, emulator: local_aws.LocalAws, run_id: str, count: int) -> None:
    batch = layer.install(emulator.boto_client("batch"))
    definition = batch.register_job_definition(
        jobDefinitionName="bench-nf-task",
        type="container",
        containerProperties={"image": "quay.io/nextflow/bash", "vcpus": 1, "memory": 1024},
    )["jobDefinitionArn"]
    for i in range(count):
        job = batch.submit_job(
            jobName=f"tw-{run_id}-NF_TASK_{i + 1}", jobQueue="bench-work", jobDefinition=definition
        )
        layer.hold_running(job["jobId"])


def _tally(names: list[str]) -> str:
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{count} {name}" for name, count in counts.items())


def bench(ctx: Any, workspace_id: int, ce_id: str, emulator: Any, layer: BatchJobs, n: int) -> None:
    body = WorkflowLaunchRequest(
        computeEnvId=ce_id, pipeline="https://github.com/nextflow-io/hello"
    )
    mark = ctx.recorder.count()
    run_id = launches.launch(ctx, workspace_id, body)
    launch_calls = [c.name for c in ctx.recorder.since(mark)]
    print(f"launch: {len(launch_calls)} AWS calls ({_tally(launch_calls)})")
    _tasks(layer, emulator, run_id, n)
    mark = ctx.recorder.count()
    started = time.perf_counter()
    runs.cancel(ctx, workspace_id, run_id)
    elapsed = time.perf_counter() - started
    calls = [c.name for c in ctx.recorder.since(mark)]
    terminate, listing = calls.count("batch:TerminateJob"), calls.count("batch:ListJobs")
    describe = calls.count("batch:DescribeJobs")
    print(
        f"N={n:>5}: TerminateJob {terminate:>5} (expect {n + 1}), ListJobs {listing:>3} "
        f"(expect {max(1, math.ceil(n / 100))}), DescribeJobs {describe} (expect 0), "
        f"{elapsed:.2f} s"
    )
    with ctx.db.transaction() as session:  # make the recheck due now
        session.execute(
            update(models.Run)
            .where(models.Run.id == run_id)
            .values(tasks_at=utcnow() - timedelta(seconds=run_tasks.RECHECK_SECONDS + 1))
        )
    mark = ctx.recorder.count()
    run_tracker.run_cycle(ctx)
    later = [c.name for c in ctx.recorder.since(mark)]
    print(
        f"         tracker recheck later: ListJobs {later.count('batch:ListJobs')}, "
        f"TerminateJob {later.count('batch:TerminateJob')} (all already terminated)"
    )


def main(sizes: tuple[int, ...]) -> None:
    emulator = local_aws.start()
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            ctx, workspace_id, ce_id = setup(emulator, Path(data_dir))
            layer = BatchJobs()
            ctx.aws.event_hooks.extend(layer.hooks())
            for n in sizes:
                bench(ctx, workspace_id, ce_id, emulator, layer, n)
            ctx.db.dispose()
    finally:
        emulator.stop()


if __name__ == "__main__":
    main(tuple(int(a) for a in sys.argv[1:]) or SIZES)
