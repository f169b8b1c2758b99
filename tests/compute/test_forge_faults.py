"""No orphans, ever: a failure at every AWS call of a forge and of a disposal, and a crash
between steps, end with everything (completed) or nothing — counted by listing the emulator."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from batchforge.client import BatchforgeClient
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.local_aws import LocalAws
from batchforge.services import forge_runner
from batchforge.services.context import AppContext
from tests.awsrules import AwsRules, SimulatedCrash
from tests.compute.conftest import forged_names, nothing_left


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """These tests exercise Forge, not the store: SQLite only (the store is covered on both)."""
    return f"sqlite:///{tmp_path / 'batchforge.db'}"


def _create(api: BatchforgeClient, body: dict) -> str:
    return api.request("POST", "/compute-envs", json=body).json()["computeEnvId"]


def _env(api: BatchforgeClient, ce_id: str) -> dict:
    return api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]


def _forge_call_count(api, app_ctx, rules, forge_body) -> int:
    ce_id = _create(api, forge_body("probe"))
    rules.fail_nth_call(10**9)  # counts calls without failing
    forge_runner.run_pending(app_ctx)
    count = rules.calls
    rules.disarm()
    api.request("DELETE", f"/compute-envs/{ce_id}")
    forge_runner.run_pending(app_ctx)
    return count


def _expire_leases(app_ctx: AppContext) -> None:
    """Time passes: leases expire and the back-off of failed attempts is over."""
    with app_ctx.db.transaction() as session:
        session.execute(
            update(models.ComputeEnv).values(
                lease_until=utcnow() - timedelta(seconds=1), forge_next_at=None
            )
        )


def test_failure_at_every_forge_call_rolls_back_everything(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, rules: AwsRules, forge_body
) -> None:
    total = _forge_call_count(api, app_ctx, rules, forge_body)
    assert total > 15
    for n in range(1, total + 1):
        ce_id = _create(api, forge_body(f"fail-{n}"))
        rules.fail_nth_call(n)
        forge_runner.run_pending(app_ctx)
        rules.disarm()
        env = _env(api, ce_id)
        assert env["status"] == "ERRORED", (n, env)
        assert "InjectedFailure" in env["message"] and rules.failed_call in env["message"]
        assert "deleted" in env["message"]
        assert nothing_left(aws, ce_id), (n, rules.failed_call, forged_names(aws, ce_id))
        api.request("DELETE", f"/compute-envs/{ce_id}")


def test_failure_at_every_disposal_call_is_resumed_until_nothing_is_left(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, rules: AwsRules, forge_body
) -> None:
    n, total = 1, None
    while total is None or n <= total:
        ce_id = _create(api, forge_body(f"dispose-{n}"))
        forge_runner.run_pending(app_ctx)
        api.request("DELETE", f"/compute-envs/{ce_id}")
        rules.fail_nth_call(n)
        forge_runner.run_pending(app_ctx)
        if rules.failed_call is None:  # n is past the last call: done
            rules.disarm()
            assert nothing_left(aws, ce_id)
            break
        rules.disarm()
        rules.failed_call = None
        listed = {e["id"]: e for e in api.request("GET", "/compute-envs").json()["computeEnvs"]}
        if ce_id in listed:  # the failure stopped the disposal: the next cycle resumes it
            env = listed[ce_id]
            assert env["status"] == "DELETING" and "will retry" in env["message"], (n, env)
            _expire_leases(app_ctx)
            forge_runner.run_pending(app_ctx)
        # else: the failure was absorbed (e.g. a failed disable is retried after a describe)
        assert ce_id not in {
            e["id"] for e in api.request("GET", "/compute-envs").json()["computeEnvs"]
        }
        assert nothing_left(aws, ce_id), (n, forged_names(aws, ce_id))
        n += 1
    assert n > 15  # every call of a disposal was made to fail once


def test_crash_between_steps_then_restart_converges_without_duplicates(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, rules: AwsRules, forge_body
) -> None:
    total = _forge_call_count(api, app_ctx, rules, forge_body)
    for n in range(1, total + 1, 3):
        ce_id = _create(api, forge_body(f"crash-{n}"))
        rules.fail_nth_call(n, crash=True)
        with contextlib.suppress(SimulatedCrash):
            forge_runner.run_pending(app_ctx, owner="process-1")
        rules.disarm()
        assert _env(api, ce_id)["status"] == "CREATING"
        # "Restart": another process, once the dead one's lease has expired.
        assert forge_runner.run_pending(app_ctx, owner="process-2") == 0  # lease still held
        _expire_leases(app_ctx)
        forge_runner.run_pending(app_ctx, owner="process-2")
        env = _env(api, ce_id)
        assert env["status"] == "AVAILABLE", (n, env)
        names = forged_names(aws, ce_id)
        assert len(names["compute_environments"]) == 2 and len(names["job_queues"]) == 2
        assert len(names["roles"]) == 5 and len(names["launch_templates"]) == 1
        api.request("DELETE", f"/compute-envs/{ce_id}")
        forge_runner.run_pending(app_ctx)
        assert nothing_left(aws, ce_id)


def test_real_aws_rules_are_enforced_by_the_layer(
    app_ctx: AppContext, aws: LocalAws, rules: AwsRules
) -> None:
    """The layer itself: deleting an ENABLED queue fails as on AWS."""
    from batchforge.aws.session import AwsAuth
    from batchforge.errors import AwsError

    batch = app_ctx.aws.session(AwsAuth()).client("batch")
    iam = aws.boto_client("iam")
    role = iam.create_role(RoleName="svc", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    ce = batch.create_compute_environment(
        computeEnvironmentName="ce-x", type="UNMANAGED", serviceRole=role
    )
    batch.create_job_queue(
        jobQueueName="queue-q",
        priority=1,
        state="ENABLED",
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": ce["computeEnvironmentArn"]}],
    )
    assert batch.describe_job_queues(jobQueues=["queue-q"])["jobQueues"][0]["status"] == "CREATING"
    with pytest.raises(AwsError, match="DISABLED"):
        batch.delete_job_queue(jobQueue="queue-q")
    batch.update_compute_environment(computeEnvironment="ce-x", state="DISABLED")
    for _ in range(3):
        batch.describe_compute_environments(computeEnvironments=["ce-x"])
    batch.describe_job_queues(jobQueues=["queue-q"])
    with pytest.raises(AwsError, match="JobQueue relationship"):
        batch.delete_compute_environment(computeEnvironment="ce-x")
