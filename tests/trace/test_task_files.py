"""A task's log (CloudWatch, through DescribeJobs on its nativeId) and its files (its work
dir in S3), on the emulator over HTTP.

AWS facts: DescribeJobs' ``container.logStreamName`` is the latest attempt's stream in the
``/aws/batch/job`` group (AWS Batch User Guide, "Using the awslogs log driver"); Nextflow
writes ``.command.out``, ``.command.err`` and ``.command.log`` in the task's work dir
(nextflow ``BashWrapperBuilder``).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from batchforge.local_aws import WORK_BUCKET, LocalAws
from batchforge.services import run_tokens
from batchforge.services.context import AppContext
from tests.batchjobs import BatchJobs
from tests.runs.conftest import WORK_QUEUE, run_row
from tests.trace import payloads as p
from tests.trace.conftest import basic, bearer


@pytest.fixture
def reported_task(
    app_ctx: AppContext,
    http: TestClient,
    jobs: BatchJobs,
    local_aws: LocalAws,
    launch: Callable[..., str],
) -> tuple[str, str]:
    """A launched run whose task 1 ran as a Batch job with a log stream and wrote its
    files: (run id, task work dir)."""
    run_id = launch()
    work_dir = run_row(app_ctx, run_id).work_dir.rstrip("/")
    task_dir = f"{work_dir}/ab/{uuid.uuid4().hex}"
    batch = jobs.install(local_aws.boto_client("batch"))
    definition = batch.register_job_definition(
        jobDefinitionName=f"nf-task-{uuid.uuid4().hex[:8]}",
        type="container",
        containerProperties={"image": "quay.io/nextflow/bash", "vcpus": 1, "memory": 512},
    )["jobDefinitionArn"]
    job_id = batch.submit_job(
        jobName=f"tw-{run_id}-SAY_HELLO_1", jobQueue=WORK_QUEUE, jobDefinition=definition
    )["jobId"]
    stream = f"nf-task/default/{uuid.uuid4().hex}"
    jobs.set(job_id, "SUCCEEDED", exit_code=0, log_stream=stream)
    logs = local_aws.boto_client("logs")
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName="/aws/batch/job")
    logs.create_log_stream(logGroupName="/aws/batch/job", logStreamName=stream)
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName="/aws/batch/job",
        logStreamName=stream,
        logEvents=[{"timestamp": now + i, "message": f"hello {i}"} for i in range(3)],
    )
    s3 = local_aws.boto_client("s3")
    bucket, _, prefix = task_dir.removeprefix("s3://").partition("/")
    for name, body in ((".command.out", b"Bonjour world!\n"), (".command.err", b"warn\n")):
        s3.put_object(Bucket=bucket, Key=f"{prefix}/{name}", Body=body)
    token = run_tokens.issue(app_ctx, run_id)
    tasks = [p.task(1, "COMPLETED", nativeId=job_id, workdir=task_dir)]
    tasks.append(p.task(2, "COMPLETED", workdir=f"s3://{WORK_BUCKET}-other/x/y"))
    answer = http.put(f"/trace/{run_id}/progress", headers=basic(token), json=p.progress(tasks))
    assert answer.status_code == 200, answer.text
    return run_id, task_dir


def test_task_log_and_files(http: TestClient, admin_token: str, reported_task):
    run_id, _ = reported_task
    auth = bearer(admin_token)
    log = http.get(f"/workflow/{run_id}/log/1", headers=auth)
    assert log.status_code == 200, log.text
    assert log.json()["log"]["entries"] == ["hello 0", "hello 1", "hello 2"]
    assert log.json()["log"]["pending"] is False
    out = http.get(f"/workflow/{run_id}/download/1", headers=auth)
    assert out.status_code == 200 and out.content == b"Bonjour world!\n"
    err = http.get(f"/workflow/{run_id}/download/1?fileName=.command.err", headers=auth)
    assert err.content == b"warn\n"
    part = http.get(f"/workflow/{run_id}/download/1", headers={**auth, "Range": "bytes=0-6"})
    assert part.status_code == 206 and part.content == b"Bonjour"
    missing = http.get(f"/workflow/{run_id}/download/1?fileName=.command.log", headers=auth)
    assert missing.status_code == 404 and ".command.log" in missing.json()["message"]


def test_task_files_are_read_only_inside_the_run_work_dir(
    http: TestClient, admin_token: str, reported_task
):
    """What a run reports never makes batchforge read elsewhere with its credentials."""
    run_id, _ = reported_task
    auth = bearer(admin_token)
    answer = http.get(f"/workflow/{run_id}/download/2", headers=auth)
    assert answer.status_code == 404 and "not inside the run's" in answer.json()["message"]
    answer = http.get(f"/workflow/{run_id}/download/1?fileName=.command.sh", headers=auth)
    assert answer.status_code == 400 and answer.json()["field"] == "fileName"
    answer = http.get(f"/workflow/{run_id}/download/1?fileName=../../x", headers=auth)
    assert answer.status_code == 400
    assert http.get(f"/workflow/{run_id}/log/99", headers=auth).status_code == 404
    assert http.get(f"/workflow/{run_id}/log/2", headers=auth).json()["log"]["message"]
