"""Forge and dispose on the local emulator: AWS calls per forge and per dispose (by operation)
and wall time.  Independent resources of one wave are created concurrently.

Figures printed: calls and seconds for a plain SPOT environment and for one with EFS + FSx,
each the median of RUNS runs; the preflight's calls are counted separately.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from batchforge import local_aws
from batchforge.aws.recorder import summarize
from batchforge.local_aws import WORK_BUCKET
from batchforge.runtime import build_context
from batchforge.schemas.compute_envs import ComputeEnvIn
from batchforge.schemas.credentials import AwsKeysIn, CredentialsIn
from batchforge.services import compute_envs, credentials, forge_runner
from batchforge.services.accounts import bootstrap_admin
from batchforge.settings import Settings

RUNS = 5


def body(name: str, credentials_id: str, **forge: object) -> ComputeEnvIn:
    config = {"type": "SPOT", "minCpus": 0, "maxCpus": 64, **forge}
    return ComputeEnvIn.model_validate(
        {
            "name": name,
            "platform": "aws-batch",
            "credentialsId": credentials_id,
            "config": {
                "region": "us-east-1",
                "workDir": f"s3://{WORK_BUCKET}/work",
                "forge": config,
            },
        }
    )


def measure(ctx, workspace_id: int, credentials_id: str, label: str, **forge: object) -> None:
    preflight_calls, forge_calls, dispose_calls = [], [], []
    forge_times, dispose_times = [], []
    by_op_forge: dict[str, int] = {}
    by_op_dispose: dict[str, int] = {}
    for run in range(RUNS):
        mark = ctx.recorder.count()
        ce_id = compute_envs.create(
            ctx, workspace_id, body(f"{label}-{run}", credentials_id, **forge), []
        )
        preflight_calls.append(ctx.recorder.count() - mark)
        mark = ctx.recorder.count()
        started = time.perf_counter()
        forge_runner.run_pending(ctx)
        forge_times.append(time.perf_counter() - started)
        forge_calls.append(ctx.recorder.count() - mark)
        by_op_forge = summarize(ctx.recorder.since(mark))
        assert compute_envs.describe(ctx, workspace_id, ce_id).status == "AVAILABLE"
        mark = ctx.recorder.count()
        compute_envs.delete(ctx, workspace_id, ce_id)
        started = time.perf_counter()
        forge_runner.run_pending(ctx)
        dispose_times.append(time.perf_counter() - started)
        dispose_calls.append(ctx.recorder.count() - mark)
        by_op_dispose = summarize(ctx.recorder.since(mark))
    print(f"[{label}] preflight_calls {statistics.median(preflight_calls):.0f}")
    print(
        f"[{label}] forge_calls {statistics.median(forge_calls):.0f}  "
        f"forge_seconds median={statistics.median(forge_times):.3f}"
    )
    print(
        f"[{label}] dispose_calls {statistics.median(dispose_calls):.0f}  "
        f"dispose_seconds median={statistics.median(dispose_times):.3f}"
    )
    print(f"[{label}] forge by operation: {by_op_forge}")
    print(f"[{label}] dispose by operation: {by_op_dispose}")


def main() -> None:
    emulator = local_aws.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            ctx = build_context(Settings(data_dir=Path(tmp)), emulator_url=emulator.url)
            workspace_id = bootstrap_admin(ctx).workspace_id
            credentials_id = credentials.create(
                ctx,
                workspace_id,
                CredentialsIn(
                    name="bench",
                    provider="aws",
                    keys=AwsKeysIn(accessKey="AKIABENCHBENCHBENCH1", secretKey="x" * 40),
                ),
                False,
            )
            measure(ctx, workspace_id, credentials_id, "spot")
            measure(
                ctx,
                workspace_id,
                credentials_id,
                "spot-efs-fsx",
                efsCreate=True,
                efsMount="/mnt/efs",
                fsxSize=1200,
                fsxMount="/fsx",
            )
            ctx.db.dispose()
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
