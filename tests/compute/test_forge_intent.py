"""Issue #16 item 1: a delete asked while a Forge create is running is never lost.

Through the API, with the real background worker thread: the create is held inside an AWS call
(a botocore hook, as if AWS were slow), ``DELETE ?force=true`` answers 204 and shows DELETING,
then the create is let go.  Whether the create would have gone on to another wave, finished,
or failed, the environment ends DELETED with nothing left in the emulator.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from batchforge.client import BatchforgeClient
from batchforge.local_aws import LocalAws
from batchforge.services.context import AppContext
from batchforge.services.forge_runner import ForgeWorker
from tests.awsrules import AwsRules, aws_error
from tests.compute.conftest import WAIT, env_gone, env_row, forged_names, nothing_left, wait_for


class Gate:
    """Holds the first call of ``operation`` until :attr:`release` is set; then lets it through
    (or fails it with an AWS error when ``fail``)."""

    def __init__(self, operation: str, fail: bool = False):
        self.operation = operation
        self.fail = fail
        self.reached = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._used = False

    def hook(self, model: Any, **_: Any) -> Any:
        with self._lock:
            if model.name != self.operation or self._used:
                return None
            self._used = True
        self.reached.set()
        self.release.wait(WAIT)
        if self.fail:
            return aws_error("InternalFailure", f"{self.operation} failed (injected)")
        return None


@pytest.fixture
def worker(app_ctx: AppContext, rules: AwsRules) -> Iterator[ForgeWorker]:
    started = ForgeWorker(app_ctx, interval=0.2)
    started.start()
    yield started
    started.stop()


@pytest.mark.parametrize(
    ("operation", "fail"),
    [
        # wave 2 of 4: the create stops before its next wave
        ("CreateComputeEnvironment", False),
        # the last wave: the create finishes, and its AVAILABLE must not overwrite DELETING
        ("CreateJobQueue", False),
        # the last wave fails: no rollback-as-ERRORED either; the deletion wins
        ("CreateJobQueue", True),
    ],
)
def test_a_delete_during_a_forge_ends_deleted_with_nothing_left(
    api: BatchforgeClient,
    app_ctx: AppContext,
    aws: LocalAws,
    rules: AwsRules,
    forge_body,
    worker: ForgeWorker,
    operation: str,
    fail: bool,
) -> None:
    gate = Gate(operation, fail)
    app_ctx.aws.event_hooks.append(("before-call.batch.*", gate.hook))
    try:
        ce_id = api.request("POST", "/compute-envs", json=forge_body()).json()["computeEnvId"]
        assert gate.reached.wait(WAIT), "the forge never reached " + operation
        deleted = api.request("DELETE", f"/compute-envs/{ce_id}", params={"force": "true"})
        assert deleted.status_code == 204
        env = api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]
        assert env["status"] == "DELETING"
    finally:
        gate.release.set()
    wait_for(lambda: env_gone(api, ce_id), "the environment to be deleted")
    row = env_row(app_ctx, ce_id)
    assert (row.status, row.deleted, row.operation) == ("DELETED", True, None)
    assert row.lease_owner is None
    assert nothing_left(aws, ce_id), forged_names(aws, ce_id)
