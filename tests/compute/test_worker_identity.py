"""Issue #16 item 7: a server's worker identity survives a restart (even kill -9), is never held
by two live processes at once, and a restarted server takes back its own Forge work at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from batchforge.client import BatchforgeClient
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import InvalidInput
from batchforge.services import forge_runner, worker_identity
from batchforge.services.context import AppContext
from tests.awsrules import AwsRules

HOLDER = """
import sys, time
from pathlib import Path
from batchforge.services.worker_identity import acquire
print(acquire(Path(sys.argv[1]), sys.argv[2] or None).identity, flush=True)
time.sleep(600)
"""


def _start_holder(data_dir: Path, configured: str = "") -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir), configured],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line:
        process.wait(timeout=60)
        assert process.stderr is not None
        return process, "ERROR: " + process.stderr.read()
    return process, line


def _kill(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)


def test_identity_is_kept_across_kill_9_and_never_shared(tmp_path: Path) -> None:
    first, identity_a = _start_holder(tmp_path)
    second, identity_b = _start_holder(tmp_path)
    try:
        assert identity_a != identity_b  # two live processes on one data dir
        assert identity_a.startswith("w") and identity_b.startswith("w")
        _kill(first)
        restarted, identity_c = _start_holder(tmp_path)
        try:
            assert identity_c == identity_a  # the restarted process gets its identity back
        finally:
            _kill(restarted)
    finally:
        _kill(second)


def test_a_configured_worker_id_is_refused_while_another_process_holds_it(
    tmp_path: Path,
) -> None:
    holder, identity = _start_holder(tmp_path, "replica-a")
    try:
        assert identity == "replica-a"
        clash, error = _start_holder(tmp_path, "replica-a")
        assert error.startswith("ERROR") and "in use by another running process" in error
        assert clash.returncode != 0
    finally:
        _kill(holder)
    with pytest.raises(InvalidInput, match="BATCHFORGE_WORKER_ID"):
        worker_identity.acquire(tmp_path, "bad id/with slash")


def _lease(app_ctx: AppContext, ce_id: str, owner: str) -> None:
    with app_ctx.db.transaction() as session:
        session.execute(
            update(models.ComputeEnv)
            .where(models.ComputeEnv.id == ce_id)
            .values(lease_owner=owner, lease_until=utcnow() + timedelta(seconds=90))
        )


def test_a_restarted_server_resumes_its_own_forge_at_once(
    api: BatchforgeClient, app_ctx: AppContext, rules: AwsRules, forge_body
) -> None:
    """A forge leased by this server's identity before a restart (lease still valid for 90 s)
    is resumed by the next incarnation in its first cycle; another server's lease is not."""
    ce_id = api.request("POST", "/compute-envs", json=forge_body()).json()["computeEnvId"]
    identity = app_ctx.worker_id.rpartition("/")[0]
    _lease(app_ctx, ce_id, "wffffffffff-3/1234abcd")  # another live replica
    assert forge_runner.run_pending(app_ctx) == 0
    _lease(app_ctx, ce_id, f"{identity}/deadbeef")  # this server, before a restart
    assert forge_runner.run_pending(app_ctx) == 1
    env = api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]
    assert env["status"] == "AVAILABLE", env
