"""Issue #16 item 5: a Forge step that keeps failing is retried with exponential, jittered,
capped back-off, and ends after a bounded number of attempts in a visible final state (the
error, what is left in AWS, how to retry); the retry action (API, CLI) and deleting again
re-arm it.  With the real background worker thread and a real HTTP server for the CLI."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from batchforge.cli.main import app as cli_app
from batchforge.client import ApiError, BatchforgeClient
from batchforge.forge.waits import Backoff
from batchforge.local_aws import LocalAws
from batchforge.services import forge_runner
from batchforge.services.context import AppContext
from batchforge.services.forge_runner import ForgeWorker
from tests.awsrules import AwsRules, aws_error
from tests.cli.conftest import LiveServer, live_server  # noqa: F401  (fixture)
from tests.compute.conftest import env_gone, env_row, forged_names, nothing_left, wait_for

BACKOFF = Backoff(base=0.4, cap=1.0, max_attempts=4)


class Failing:
    """Makes every call of ``operation`` fail with an error retrying will not fix (until
    :attr:`on` is cleared), recording when each was attempted; ``times`` limits how many."""

    def __init__(self, operation: str, times: int | None = None):
        self.operation = operation
        self.times = times
        self.on = True
        self.attempts: list[float] = []
        self._lock = threading.Lock()

    def hook(self, model: Any, **_: Any) -> Any:
        if model.name != self.operation:
            return None
        with self._lock:
            if not self.on or (self.times is not None and len(self.attempts) >= self.times):
                return None
            self.attempts.append(time.monotonic())
        return aws_error("UnexpectedError", f"{self.operation} keeps failing (injected)")


@pytest.fixture
def worker(app_ctx: AppContext, rules: AwsRules) -> Iterator[ForgeWorker]:
    app_ctx.pacing.backoff = BACKOFF
    started = ForgeWorker(app_ctx, interval=0.1)
    started.start()
    yield started
    started.stop()


def _env(api: BatchforgeClient, ce_id: str) -> dict[str, Any]:
    return api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]


def _available(api: BatchforgeClient, forge_body: Any, name: str = "forged") -> str:
    ce_id = api.request("POST", "/compute-envs", json=forge_body(name)).json()["computeEnvId"]
    wait_for(lambda: _env(api, ce_id)["status"] == "AVAILABLE", "the forge")
    return ce_id


def _assert_backed_off(attempts: list[float]) -> None:
    """Each wait is at least the jitter's lower bound of the exponential, capped delay."""
    for n, (earlier, later) in enumerate(itertools.pairwise(attempts), start=1):
        least = 0.5 * min(BACKOFF.cap, BACKOFF.base * 2 ** (n - 1))
        assert later - earlier >= least, (n, later - earlier, least)


def test_backoff_is_exponential_jittered_and_capped() -> None:
    backoff = Backoff(base=10, cap=600, max_attempts=8)
    for n in range(1, 15):
        raw = min(600, 10 * 2 ** (n - 1))
        delays = [backoff.delay(n) for _ in range(50)]
        assert all(raw * 0.5 <= d <= raw for d in delays), n
        assert len(set(delays)) > 1  # jitter
    assert max(backoff.delay(30) for _ in range(50)) <= 600


def test_a_disposal_that_keeps_failing_ends_errored_and_the_cli_retry_finishes_it(
    live_server: LiveServer,  # noqa: F811
    api: BatchforgeClient,
    app_ctx: AppContext,
    aws: LocalAws,
    forge_body,
    worker: ForgeWorker,
) -> None:
    ce_id = _available(api, forge_body)
    with pytest.raises(ApiError) as nothing:  # nothing failed: nothing to retry
        api.request("POST", f"/compute-envs/{ce_id}/retry")
    assert nothing.value.status == 409
    failing = Failing("DeleteLaunchTemplate")
    app_ctx.aws.event_hooks.append(("before-call.ec2.*", failing.hook))
    api.request("DELETE", f"/compute-envs/{ce_id}")
    wait_for(lambda: _env(api, ce_id)["status"] == "ERRORED", "the disposal to give up")
    env = _env(api, ce_id)
    assert len(failing.attempts) == BACKOFF.max_attempts
    _assert_backed_off(failing.attempts)
    message = env["message"]
    assert f"Deletion failed after {BACKOFF.max_attempts} attempts" in message, message
    assert "DeleteLaunchTemplate keeps failing" in message
    left = [name for names in forged_names(aws, ce_id).values() for name in names]
    assert left and all(name in message for name in left), (left, message)
    assert f"batchforge compute-envs retry {ce_id}" in message
    row = env_row(app_ctx, ce_id)
    assert (row.operation, row.forge_failed, row.forge_attempts) == (None, "delete", 4)
    assert row.forge_next_at is None and row.lease_owner is None
    time.sleep(3 * BACKOFF.cap)  # gave up: no further attempt however long we wait
    assert len(failing.attempts) == BACKOFF.max_attempts

    failing.on = False  # the cause is fixed; the user retries
    login = ["--url", live_server.url, "--token", live_server.token]
    result = CliRunner().invoke(cli_app, [*login, "compute-envs", "retry", ce_id, "--wait"])
    assert result.exit_code == 0, result.output
    assert "DELETED" in result.output
    assert env_gone(api, ce_id)
    assert nothing_left(aws, ce_id), forged_names(aws, ce_id)


def test_a_rollback_that_keeps_failing_ends_errored_and_deleting_again_finishes_it(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, forge_body, worker: ForgeWorker
) -> None:
    create_fails = Failing("CreateJobQueue", times=1)
    dispose_fails = Failing("DeleteLaunchTemplate")
    app_ctx.aws.event_hooks.append(("before-call.batch.*", create_fails.hook))
    app_ctx.aws.event_hooks.append(("before-call.ec2.*", dispose_fails.hook))
    ce_id = api.request("POST", "/compute-envs", json=forge_body()).json()["computeEnvId"]
    wait_for(lambda: env_row(app_ctx, ce_id).forge_failed is not None, "the rollback to give up")
    env = _env(api, ce_id)
    assert env["status"] == "ERRORED"
    message = env["message"]
    assert "CreateJobQueue keeps failing" in message  # why the create failed
    assert f"Rollback of the failed creation failed after {BACKOFF.max_attempts}" in message
    assert "DeleteLaunchTemplate keeps failing" in message
    assert len(dispose_fails.attempts) == BACKOFF.max_attempts
    _assert_backed_off(dispose_fails.attempts)
    assert not nothing_left(aws, ce_id)

    dispose_fails.on = False
    api.request("DELETE", f"/compute-envs/{ce_id}")  # deleting again re-arms the disposal
    wait_for(lambda: env_gone(api, ce_id), "the deletion")
    assert nothing_left(aws, ce_id), forged_names(aws, ce_id)
    row = env_row(app_ctx, ce_id)
    assert (row.status, row.forge_attempts, row.forge_failed) == ("DELETED", 0, None)


def test_work_waiting_out_its_back_off_is_not_claimed_until_due(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws, rules: AwsRules, forge_body
) -> None:
    """Without the worker thread: a failed attempt sets the next attempt time, and neither
    pending() nor a direct claim takes the work before then; the retry action makes it due."""
    app_ctx.pacing.backoff = Backoff(base=300, cap=600, max_attempts=3)
    ce_id = api.request("POST", "/compute-envs", json=forge_body()).json()["computeEnvId"]
    forge_runner.run_pending(app_ctx)
    failing = Failing("DeleteLaunchTemplate")
    app_ctx.aws.event_hooks.append(("before-call.ec2.*", failing.hook))
    api.request("DELETE", f"/compute-envs/{ce_id}")
    assert forge_runner.run_pending(app_ctx) == 1
    row = env_row(app_ctx, ce_id)
    assert row.forge_attempts == 1 and row.operation == "delete"
    wait = (row.forge_next_at - row.updated_at).total_seconds()
    assert 150 - 1 <= wait <= 300 + 1, wait
    env = _env(api, ce_id)
    assert env["status"] == "DELETING" and "attempt 1 of 3" in env["message"]
    assert forge_runner.run_pending(app_ctx) == 0
    assert forge_runner.run_one(app_ctx, ce_id) is False
    assert len(failing.attempts) == 1
    failing.on = False
    api.request("POST", f"/compute-envs/{ce_id}/retry")
    assert forge_runner.run_pending(app_ctx) == 1
    assert env_gone(api, ce_id) and nothing_left(aws, ce_id)
