"""The emulator's own failure switch (MOTO_SIMPLE_BATCH_FAIL_AFTER=0: every job FAILS): with no
test layer in between, the tracker records the run FAILED from what AWS Batch answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from batchforge import local_aws
from batchforge.runtime import build_context
from batchforge.schemas.workflows import WorkflowLaunchRequest
from batchforge.services import compute_envs, launches, run_tracker, runs
from batchforge.services.accounts import bootstrap_admin
from batchforge.settings import Settings
from tests.factories import keys_credentials
from tests.runs.conftest import HEAD_QUEUE, WORK_QUEUE, make_queues


@pytest.fixture
def failing_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[local_aws.LocalAws]:
    monkeypatch.setenv("MOTO_SIMPLE_BATCH_FAIL_AFTER", "0")
    emulator = local_aws.start()
    monkeypatch.delenv("MOTO_SIMPLE_BATCH_FAIL_AFTER")
    yield emulator
    emulator.stop()


def test_a_job_failed_by_aws_batch_fails_the_run(
    settings: Settings, failing_aws: local_aws.LocalAws
) -> None:
    from batchforge.schemas.compute_envs import ComputeEnvIn
    from batchforge.services import credentials

    ctx = build_context(settings, emulator_url=failing_aws.url)
    try:
        bootstrap_admin(ctx)
        make_queues(failing_aws)
        creds = credentials.create(ctx, 1, keys_credentials("aws"), False)
        env = ComputeEnvIn.model_validate(
            {
                "name": "manual",
                "platform": "aws-batch",
                "credentialsId": creds,
                "config": {
                    "region": "us-east-1",
                    "workDir": "s3://batchforge-local-work/work",
                    "headQueue": HEAD_QUEUE,
                    "computeQueue": WORK_QUEUE,
                },
            }
        )
        ce_id = compute_envs.create(ctx, 1, env, [])
        run_id = launches.launch(
            ctx,
            1,
            WorkflowLaunchRequest(computeEnvId=ce_id, pipeline="https://github.com/x/y"),
        )
        run_tracker.run_cycle(ctx)
        run = runs.describe(ctx, 1, run_id).workflow
        assert run.status == "FAILED"
        assert run.errorMessage and run.errorMessage.startswith("The head job failed")
        assert run.complete is not None
    finally:
        ctx.db.dispose()
