"""Restart to resume: how long after a killed server restarts does its own work move again?

A real ``batchforge server`` (SQLite, ``aws`` mode on a separately started emulator, through
the proxy of ``tests/server/holdproxy.py``) is killed with SIGKILL while it owns work:

- **forge**: a forge killed with the answer of ``CreateComputeEnvironment`` (then of
  ``CreateJobQueue``) held back;
- **run**: a RUNNING run the tracker holds (the Nextflow stand-in keeps its task busy),
  killed once its trace reports the task running (before that, nf-tower would abort the run).

Each restart prints: seconds until the server answers, and until its work resumes (the
forge's next AWS call; the tracker's DescribeJobs), against the lease it would otherwise wait
out (Forge 90 s, runs 120 s).  Goal: seconds, not the lease length.

Usage: .venv/bin/python benchmarks/bench_restart.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.factories import keys_credentials  # noqa: E402
from tests.server.holdproxy import HoldingProxy  # noqa: E402
from tests.server.processes import ServerProcess, emulator_process, wait_for  # noqa: E402
from tests.server.test_kill_restart import _forge_body, _status  # noqa: E402

from batchforge.client import BatchforgeClient  # noqa: E402
from batchforge.local_aws import free_port  # noqa: E402
from batchforge.services.forge_journal import LEASE_SECONDS as FORGE_LEASE  # noqa: E402
from batchforge.services.run_tracker import LEASE_SECONDS as RUN_LEASE  # noqa: E402

FORGE_CALLS = ("iam:", "ec2:", "ssm:", "batch:", "elasticfilesystem:")  # no run exists yet
HELLO = "https://github.com/nextflow-io/hello"


class Bench:
    def __init__(self, tmp: Path, proxy: HoldingProxy):
        self.tmp, self.proxy, self.port = tmp, proxy, free_port()
        self.url = f"sqlite:///{tmp / 'batchforge.db'}"
        self.server: ServerProcess | None = None

    def start(self) -> ServerProcess:
        self.server = ServerProcess(self.tmp / "data", self.url, self.proxy.url, port=self.port)
        return self.server

    def kill_and_restart(self, resumed_by: tuple[str, ...], what: str, lease: int) -> None:
        assert self.server is not None
        self.server.kill9()
        self.proxy.release()
        started = time.monotonic()
        server = self.start().wait_ready()
        answering = time.monotonic() - started
        at = wait_for(what, lambda: self.proxy.first_after(started, resumed_by), 300)
        print(
            f"{what:<44} answers after {answering:5.1f} s, work resumes after "
            f"{at - started:5.1f} s (lease {lease} s)",
            flush=True,
        )
        assert server.answers()


def _task_running(api: BatchforgeClient, run_id: str) -> bool:
    """The run is RUNNING and its trace reports a running task (create and begin are done)."""
    if api.describe_workflow(run_id).workflow.status != "RUNNING":
        return False
    counts = api.workflow_progress(run_id).get("workflowProgress") or {}
    return int(counts.get("running") or 0) >= 1


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-restart-") as name:
        tmp = Path(name)
        with (
            emulator_process(tmp / "emulator.log") as emulator,
            HoldingProxy(emulator.url) as proxy,
        ):
            bench = Bench(tmp, proxy)
            api = bench.start().wait_ready().client()
            credentials = api.create_credentials(keys_credentials("aws"))
            proxy.hold("batch:CreateComputeEnvironment")
            ce_id = api.create_compute_env(_forge_body(emulator, credentials))
            proxy.wait_held()
            proxy.hold("batch:CreateJobQueue")  # armed for the resumed forge
            bench.kill_and_restart(
                FORGE_CALLS, "forge killed at CreateComputeEnvironment", FORGE_LEASE
            )
            proxy.wait_held()
            bench.kill_and_restart(FORGE_CALLS, "forge killed at CreateJobQueue", FORGE_LEASE)
            assert bench.server is not None
            api = bench.server.client()
            wait_for("the forge", lambda: _status(api, ce_id) == "AVAILABLE", 300)

            run_id = api.launch_workflow(
                {
                    "computeEnvId": ce_id,
                    "pipeline": HELLO,
                    "paramsText": '{"standin_tasks": 1, "standin_task_seconds": 600}',
                }
            )
            for attempt in (1, 2):
                # Killed before Nextflow's trace has begun, the run would fail as it should:
                # nf-tower aborts a run whose /trace/create or /begin finds no server.
                wait_for(
                    "the run's task RUNNING",
                    lambda client=api: _task_running(client, run_id),
                    300,
                )
                bench.kill_and_restart(
                    ("batch:describejobs",), f"run tracked, kill {attempt}", RUN_LEASE
                )
                api = bench.server.client()
            api.request("POST", f"/workflow/{run_id}/cancel", json={})
            bench.server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
