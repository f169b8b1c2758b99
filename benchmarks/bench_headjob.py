"""Size of the head job's SubmitJob container overrides, per launch shape.

ECS refuses container overrides over 8,192 characters ("Container Overrides length must be at
most 8192"); batchforge allows 8,192 - 512 (AWS Batch adds its own variables).  The launch
files (config, params, pre/post-run scripts) travel through S3, so they do not count; what
counts is the fixed command, the environment (BATCHFORGE_BOOT, the bootstrap script in
base64, and the environment's head variables) and the resources.

Cases: minimal; the review's "big config" (4 KiB config + 2 KiB params + pre/post-run scripts
+ 3 secrets; 9,538 characters before launch files moved to S3); long names; 20 head
variables of 100 characters; the trace token as a plain variable (the ``environment``
fallback; as a secret it is not in the overrides at all).  Also the time to build one
SubmitJob request.

With ``--aws-calls`` (starts the emulator): the AWS calls of one launch, and of the cleanup
when the run ends, per way the trace token goes (BATCHFORGE_TRACE_TOKEN_DELIVERY): none
(``off``, or no execution role: the shared job definition), as a secret (the run's own
definition), as a plain variable.

Usage: .venv/bin/python benchmarks/bench_headjob.py [--aws-calls]
"""

from __future__ import annotations

import sys
import time
import uuid
from typing import Any

from batchforge.launch import headjob

BUDGET = headjob.OVERRIDES_LIMIT - headjob.OVERRIDES_RESERVE


def job(**fields: Any) -> headjob.HeadJob:
    base: dict[str, Any] = {
        "run_id": "4fHk2LmQ9xZr7T",
        "run_name": "run-4fhk2lmq",
        "workspace_id": 187965913163811,
        "pipeline": "https://github.com/nf-core/rnaseq",
        "revision": "3.14.0",
        "work_dir": "s3://my-work-bucket/work",
        "region": "eu-west-1",
        "head_queue": "TowerForge-5GfL1p2gqJzS9c-head",
        "compute_queue": "TowerForge-5GfL1p2gqJzS9c-work",
        "cli_path": "/home/ec2-user/miniconda/bin/aws",
        "session_id": str(uuid.uuid4()),
        "api_endpoint": "https://batchforge.example.org",
        "execution_role": "arn:aws:iam::123456789012:role/TowerForge-5GfL1p2gqJzS9c-ExecutionRole",
    }
    base.update(fields)
    return headjob.HeadJob(**base)


CASES: dict[str, headjob.HeadJob] = {
    "minimal": job(),
    "big config (4 KiB config, 2 KiB params, pre/post, 3 secrets)": job(
        launch_config="// " + "c" * 4096,
        params={"p": "v" * 2048},
        pre_run="echo pre-run\n" * 10,
        post_run="echo post-run\n" * 10,
        secret_names=("API_TOKEN", "DB_PASSWORD", "LICENSE_KEY"),
        profiles=("docker", "test"),
    ),
    "long pipeline URL, run name and work dir": job(
        pipeline="https://github.com/" + "a" * 100 + "/" + "b" * 100,
        run_name="r" * 80,
        work_dir="s3://" + "w" * 63 + "/" + "p" * 200,
        secret_names=("API_TOKEN", "DB_PASSWORD", "LICENSE_KEY"),
    ),
    "20 head variables of 100 characters": job(
        environment=tuple((f"VAR_{i}", "x" * 100) for i in range(20)),
    ),
    "trace token as a plain variable (environment fallback)": job(trace_token="bfr_" + "x" * 43),
}


def _tally(names: list[str]) -> str:
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{count} {name}" for name, count in counts.items()) or "none"


def aws_calls() -> None:
    """AWS calls per launch and per end-of-run cleanup, on the emulator."""
    import tempfile
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from sqlalchemy import update

    from batchforge import local_aws
    from batchforge.db import models
    from batchforge.schemas.compute_envs import ComputeEnvIn
    from batchforge.schemas.workflows import WorkflowLaunchRequest
    from batchforge.services import compute_envs, launches, run_secrets
    from bench_tracker import setup

    emulator = local_aws.start()
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            ctx, workspace_id, no_role = setup(emulator, Path(data_dir))
            described = compute_envs.describe(ctx, workspace_id, no_role)
            config = described.config.model_dump(mode="json", exclude_none=True)
            config = {k: config[k] for k in ("region", "workDir", "headQueue", "computeQueue")}
            config["executionRole"] = "arn:aws:iam::123456789012:role/bench-execution"
            with_role = compute_envs.create(
                ctx,
                workspace_id,
                ComputeEnvIn.model_validate(
                    {
                        "name": "bench-role",
                        "platform": "aws-batch",
                        "credentialsId": described.credentialsId,
                        "config": config,
                    }
                ),
                [],
            )
            cases = (
                ("no token (off)", with_role, "off"),
                ("no execution role (secret: no trace)", no_role, "secret"),
                ("token as a secret", with_role, "secret"),
                ("token as a plain variable (environment)", no_role, "environment"),
            )
            for name, ce_id, delivery in cases:
                ctx.settings.trace_token_delivery = delivery
                body = WorkflowLaunchRequest(
                    computeEnvId=ce_id, pipeline="https://github.com/nextflow-io/hello"
                )
                launches.launch(ctx, workspace_id, body)  # the first finds the definition
                mark = ctx.recorder.count()
                run_id = launches.launch(ctx, workspace_id, body)
                calls = [c.name for c in ctx.recorder.since(mark)]
                with ctx.db.transaction() as session:
                    session.execute(
                        update(models.Run).where(models.Run.id == run_id).values(active=False)
                    )
                mark = ctx.recorder.count()
                run_secrets.clean_run(ctx, run_id)
                cleanup = [c.name for c in ctx.recorder.since(mark)]
                print(f"{name}: launch {len(calls)} AWS calls ({_tally(calls)})")
                print(f"  run end cleanup {len(cleanup)} ({_tally(cleanup)})")
            ctx.db.dispose()
    finally:
        emulator.stop()


def main() -> int:
    print(f"limit {headjob.OVERRIDES_LIMIT:,}, batchforge budget {BUDGET:,} characters")
    over = 0
    for name, case in CASES.items():
        overrides = headjob.container_overrides(case)
        size = headjob.overrides_size(overrides)
        parts = headjob.overrides_breakdown(case)
        files = sum(len(text) for text in headjob.launch_files(case).values())
        verdict = "ok" if size <= BUDGET else "REFUSED at launch (400)"
        over += size > BUDGET
        detail = ", ".join(f"{k} {v:,}" for k, v in parts.items())
        print(f"{name}: overrides {size:,} chars ({detail}); launch files {files:,} chars in S3")
        print(f"  -> {verdict}")
    big = CASES["big config (4 KiB config, 2 KiB params, pre/post, 3 secrets)"]
    rounds = 2000
    started = time.perf_counter()
    for _ in range(rounds):
        headjob.submit_request(big, "arn:aws:batch:eu-west-1:1:job-definition/x:1")
    per = (time.perf_counter() - started) / rounds * 1e6
    print(f"building one SubmitJob request (big config): {per:.0f} µs")
    return 0 if over == 0 else 1


if __name__ == "__main__":
    if "--aws-calls" in sys.argv[1:]:
        aws_calls()
        sys.exit(0)
    sys.exit(main())
