"""Run fixtures: a manual compute environment on queues made in the emulator, the Batch job
layer (tests/batchjobs.py) installed at the AWS boundary, and helpers to drive the tracker."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, update

from batchforge.client import BatchforgeClient
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.local_aws import WORK_BUCKET, LocalAws
from batchforge.services.context import AppContext
from tests.batchjobs import BatchJobs
from tests.factories import keys_credentials

_TAG = uuid.uuid4().hex[:6]
HEAD_QUEUE, WORK_QUEUE = f"bf-test-head-{_TAG}", f"bf-test-work-{_TAG}"
_names = itertools.count()


@pytest.fixture
def jobs(app_ctx: AppContext) -> BatchJobs:
    layer = BatchJobs()
    app_ctx.aws.event_hooks.extend(layer.hooks())
    app_ctx.aws.max_attempts = 1  # injected throttling is seen at once, not retried away
    return layer


def make_queues(aws: LocalAws, head: str = HEAD_QUEUE, work: str = WORK_QUEUE) -> None:
    """Two ENABLED queues on an unmanaged compute environment, unless they exist (tests do
    not reset the emulator: that costs seconds; another test's reset removes them and they
    are made again)."""
    batch = aws.boto_client("batch")
    if len(batch.describe_job_queues(jobQueues=[head, work])["jobQueues"]) == 2:
        return
    role = aws.boto_client("iam").create_role(
        RoleName=f"bf-test-batch-service-{uuid.uuid4().hex[:6]}", AssumeRolePolicyDocument="{}"
    )
    ce = batch.create_compute_environment(
        computeEnvironmentName=f"bf-test-ce-{uuid.uuid4().hex[:6]}",
        type="UNMANAGED",
        serviceRole=role["Role"]["Arn"],
    )
    for name in (head, work):
        batch.create_job_queue(
            jobQueueName=name,
            priority=1,
            state="ENABLED",
            computeEnvironmentOrder=[
                {"order": 1, "computeEnvironment": ce["computeEnvironmentArn"]}
            ],
        )


def manual_env(
    api: BatchforgeClient, local_aws: LocalAws, credentials_id: str, **config: Any
) -> str:
    """A manual AVAILABLE environment on the two test queues, with ``config`` on top."""
    make_queues(local_aws)
    return api.create_compute_env(
        {
            "name": f"manual-{next(_names)}",
            "platform": "aws-batch",
            "credentialsId": credentials_id,
            "config": {
                "region": "us-east-1",
                "workDir": f"s3://{WORK_BUCKET}/work",
                "headQueue": HEAD_QUEUE,
                "computeQueue": WORK_QUEUE,
                **config,
            },
        }
    )


@pytest.fixture
def env_id(api: BatchforgeClient, local_aws: LocalAws, jobs: BatchJobs) -> str:
    """A manual AVAILABLE environment on two queues of the emulator."""
    credentials_id = api.create_credentials(keys_credentials("aws"))
    return manual_env(
        api,
        local_aws,
        credentials_id,
        nextflowConfig="process.cpus = 2",
        headJobRole="arn:aws:iam::123456789012:role/head-role",
    )


def launcher(api: BatchforgeClient, env_id: str) -> Callable[..., str]:
    """Launch nextflow-io/hello on ``env_id`` with ``fields`` on top; the run id."""

    def run(**fields: Any) -> str:
        body = {"computeEnvId": env_id, "pipeline": "https://github.com/nextflow-io/hello"}
        body.update(fields)
        return api.launch_workflow(body)

    return run


@pytest.fixture
def launch(api: BatchforgeClient, env_id: str) -> Callable[..., str]:
    return launcher(api, env_id)


def job_id_of(app_ctx: AppContext, run_id: str) -> str | None:
    with app_ctx.db.transaction() as session:
        row = session.get(models.Run, run_id)
        assert row is not None
        return row.job_id


def run_row(app_ctx: AppContext, run_id: str) -> models.Run:
    with app_ctx.db.transaction() as session:
        row = session.get(models.Run, run_id)
        assert row is not None
        return row


def expire_leases(app_ctx: AppContext) -> None:
    """What a restart after LEASE_SECONDS looks like: every lease has expired."""
    with app_ctx.db.transaction() as session:
        session.execute(update(models.Run).values(lease_until=utcnow() - timedelta(seconds=1)))


class WriteCounter:
    """Counts INSERT/UPDATE/DELETE statements sent to the database."""

    def __init__(self, engine: Any):
        self.count = 0
        self.engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            self.count += 1

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def wait_run_end(api: BatchforgeClient, ctx: AppContext, run_id: str, timeout: float = 180) -> str:
    """Drive tracker cycles until the run is final; its status.  Waits on the condition with
    a generous limit (a busy 2-core machine runs executing head jobs slowly)."""
    import time

    from batchforge.services import run_tracker

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run_tracker.run_cycle(ctx)
        status = api.describe_workflow(run_id).workflow.status
        if status in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return status
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} did not end in {timeout} s")
