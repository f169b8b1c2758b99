"""Size of the head job's SubmitJob container overrides, per launch shape.

ECS refuses container overrides over 8,192 characters ("Container Overrides length must be at
most 8192"); batchforge allows 8,192 - 512 (AWS Batch adds its own variables).  The launch
files (config, params, pre/post-run scripts) travel through S3, so they do not count; what
counts is the fixed command, the environment (BATCHFORGE_BOOT, the bootstrap script in
base64, and the environment's head variables) and the resources.

Cases: minimal; the review's "big config" (4 KiB config + 2 KiB params + pre/post-run scripts
+ 3 secrets; 9,538 characters before launch files moved to S3); long names; 20 head
variables of 100 characters.  Also the time to build one SubmitJob request.

Usage: .venv/bin/python benchmarks/bench_headjob.py
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
}


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
    sys.exit(main())
