"""Pipeline secrets at launch and after, on the local emulator.

1. 200 launches, each handing 3 pipeline secrets to its run: AWS calls per launch by operation
   (target: 3 CreateSecret, 1 RegisterJobDefinition, 1 SubmitJob) and launches per second.
2. Every run ends (the emulator finishes jobs at once): the tracker cycle that sees them end
   deletes their copies — DeleteSecret calls (target 3 per run), copies left (target 0), time.
3. A cycle with nothing to clean: AWS calls and database writes for secrets (target 0).
4. The sweep: ListSecrets calls for the (credentials, region) runs used, time.

Usage: .venv/bin/python benchmarks/bench_secrets.py [RUNS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from batchforge import local_aws
from batchforge.db import models
from batchforge.launch import secrets as run_copies
from batchforge.schemas.secrets import CreatePipelineSecretRequest
from batchforge.schemas.workflows import WorkflowLaunchRequest
from batchforge.services import launches, pipeline_secrets, run_secrets, run_tracker
from batchforge.services.pipeline_secrets import Owner
from bench_tracker import Writes, setup

SECRETS = ("API_TOKEN", "DB_PASSWORD", "LICENSE_KEY")
EXECUTION_ROLE = "arn:aws:iam::123456789012:role/bench-execution"


def calls_by_operation(ctx: Any, mark: int) -> Counter[str]:
    return Counter(call.name for call in ctx.recorder.since(mark))


def copies_left(emulator: local_aws.LocalAws) -> int:
    pages = emulator.boto_client("secretsmanager").get_paginator("list_secrets")
    filters = [{"Key": "name", "Values": [run_copies.PREFIX]}]
    return sum(len(page["SecretList"]) for page in pages.paginate(Filters=filters))


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp, local_aws.start() as emulator:
        ctx, workspace_id, ce_id = setup(emulator, Path(tmp) / "data")
        ctx.aws.event_hooks.clear()  # let jobs end: no RUNNING rewrite
        with ctx.db.transaction() as session:
            env = session.get(models.ComputeEnv, ce_id)
            env.config = {**env.config, "executionRole": EXECUTION_ROLE}
        for name in SECRETS:
            pipeline_secrets.create(
                ctx,
                Owner(workspace_id=workspace_id),
                CreatePipelineSecretRequest(name=name, value=f"value-of-{name}"),
            )
        body = WorkflowLaunchRequest(
            computeEnvId=ce_id, pipeline="nextflow-io/hello", workspaceSecrets=list(SECRETS)
        )
        mark = ctx.recorder.count()
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: launches.launch(ctx, workspace_id, body), range(runs)))
        elapsed = time.perf_counter() - started
        per_launch = {op: n / runs for op, n in sorted(calls_by_operation(ctx, mark).items())}
        print(
            f"launches with {len(SECRETS)} secrets each:  {runs} in {elapsed:.1f} s "
            f"({runs / elapsed:.1f}/s)"
        )
        print(f"AWS calls per launch:               {per_launch}")

        writes = Writes(ctx.db.engine)
        mark, started = ctx.recorder.count(), time.perf_counter()
        stats = run_tracker.run_cycle(ctx)
        elapsed = time.perf_counter() - started
        calls = calls_by_operation(ctx, mark)
        print(
            f"cycle that sees the runs end:       {stats.changed} ended, "
            f"{stats.secrets_cleaned} cleaned, DeleteSecret {calls['secretsmanager:DeleteSecret']} "
            f"(target {runs * len(SECRETS)}), DeregisterJobDefinition "
            f"{calls['batch:DeregisterJobDefinition']}, {elapsed:.2f} s"
        )
        print(f"copies left in Secrets Manager:     {copies_left(emulator)} (target 0)")

        mark, before = ctx.recorder.count(), writes.count
        started = time.perf_counter()
        cleaned = run_secrets.clean_finished(ctx)
        elapsed = time.perf_counter() - started
        print(
            f"secrets step with nothing to do:    {cleaned} cleaned, AWS calls "
            f"{ctx.recorder.count() - mark}, DB writes {writes.count - before}, "
            f"{elapsed * 1000:.1f} ms"
        )

        mark, started = ctx.recorder.count(), time.perf_counter()
        swept = run_secrets.sweep(ctx)
        elapsed = time.perf_counter() - started
        print(
            f"sweep:                              ListSecrets "
            f"{calls_by_operation(ctx, mark)['secretsmanager:ListSecrets']}, listed "
            f"{swept.listed}, deleted {swept.deleted}, {elapsed:.2f} s"
        )
        ctx.db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
