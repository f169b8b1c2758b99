"""``kill -9`` of the real ``batchforge server`` process, then a restart (issue #16).

One server process on one data dir and database, in ``aws`` mode on a separately started
emulator (``batchforge local-aws``, so the emulator outlives every kill), through a proxy
that holds back one AWS answer (``tests/server/holdproxy.py``).  Each kill comes at the
dangerous moment, chosen by watching the AWS traffic, never by sleeping: AWS has acted, the
server has not learnt it.  Points:

- a forge: after ``CreateFileSystem`` (wave 0; roles being made beside it), then, restarted,
  after ``CreateComputeEnvironment`` (mid-wave 2: roles, instance profile, launch template,
  EFS and mount targets exist);
- a launch: after the run row and its recorded secret names exist, at ``CreateSecret``; and
  another after ``SubmitJob``;
- a dispose: after ``DeleteComputeEnvironment`` (queues gone, the rest still there).

After each restart on the same data dir and database: the environment converges (AVAILABLE,
or gone when deleted), each run reaches its end; counted in the emulator, 0 orphans and 0
duplicates (compute environments, queues, roles, instance profiles, launch templates, file
systems, head jobs with the run's job name, Secrets Manager copies).  Why these are the
dangerous points: an AWS create whose answer is lost must be found again by name, not made
twice (AWS honours ``ClientRequestToken`` only for a while and the emulator not at all).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from batchforge.client import BatchforgeClient
from batchforge.client.api import ApiError
from batchforge.db import models
from batchforge.local_aws import WORK_BUCKET, LocalAws, free_port
from tests.compute.conftest import forged_names
from tests.conftest import POSTGRES_URL
from tests.factories import keys_credentials
from tests.server.holdproxy import HoldingProxy
from tests.server.processes import ServerProcess, emulator_process, wait_for

HELLO = "https://github.com/nextflow-io/hello"
FINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


class Stage:
    """The emulator, the proxy, and the server process restarted on one port/data dir/db."""

    def __init__(self, tmp_path: Path, database_url: str, emulator: LocalAws, proxy: HoldingProxy):
        self.tmp_path, self.database_url = tmp_path, database_url
        self.emulator, self.proxy = emulator, proxy
        self.port = free_port()
        self.server: ServerProcess | None = None
        self.restarts = 0
        self.answered: list[str] = []  # answers of requests sent in the background

    def start(self) -> BatchforgeClient:
        self.server = ServerProcess(
            self.tmp_path / "data", self.database_url, self.proxy.url, port=self.port
        ).wait_ready()
        return self.server.client()

    def kill_when_held(self, operation: str) -> None:
        """Wait until ``operation`` reached AWS with its answer held, kill -9 the server,
        drop the answer.  Fails at once when a request launched in the background was
        answered instead (it never reached ``operation``)."""
        assert self.server is not None

        def failed() -> str | None:
            if self.answered:
                return f"{operation}: the request was answered {self.answered[-1]}"
            return None

        self.proxy.wait_held(failed=failed)
        self.server.kill9()
        self.proxy.release()
        self.restarts += 1

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@pytest.fixture
def stage(tmp_path: Path, database_url: str) -> Iterator[Stage]:
    with (
        emulator_process(tmp_path / "emulator.log") as emulator,
        HoldingProxy(emulator.url) as proxy,
    ):
        built = Stage(tmp_path, database_url, emulator, proxy)
        try:
            yield built
        finally:
            built.stop()


def _forge_body(emulator: LocalAws, credentials_id: str) -> dict[str, Any]:
    ec2 = emulator.boto_client("ec2")
    vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
    subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc)
    return {
        "name": "killed",
        "platform": "aws-batch",
        "credentialsId": credentials_id,
        "config": {
            "region": "us-east-1",
            "workDir": f"s3://{WORK_BUCKET}/work",
            "forge": {
                "type": "SPOT",
                "minCpus": 0,
                "maxCpus": 16,
                "vpcId": vpc,
                "subnets": subnets[:2],
                "efsCreate": True,
                "efsMount": "/mnt/efs",
            },
        },
    }


def _status(api: BatchforgeClient, ce_id: str) -> str | None:
    """The environment's status; GONE once deleted (read by id it answers DELETED for a
    while, then 404)."""
    try:
        status = api.describe_compute_env(ce_id).status
    except Exception as error:
        return "GONE" if getattr(error, "status", None) == 404 else None
    return "GONE" if status == "DELETED" else status


def _no_duplicates(emulator: LocalAws, ce_id: str) -> dict[str, list[str]]:
    found = forged_names(emulator, ce_id)
    for kind, names in found.items():
        assert len(names) == len(set(names)), (kind, names)
    return found


def _secret_copies(emulator: LocalAws, run_id: str) -> list[str]:
    listed = emulator.boto_client("secretsmanager").list_secrets(
        Filters=[{"Key": "name", "Values": [f"tower-batchforge-{run_id}"]}]
    )
    return [item["Name"] for item in listed["SecretList"]]


def _run(database_url: str, run_id: str) -> models.Run:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            row = connection.execute(select(models.Run).where(models.Run.id == run_id)).first()
            assert row is not None
            return row  # type: ignore[return-value]
    finally:
        engine.dispose()


def _run_ids(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(select(models.Run.id)).scalars())
    finally:
        engine.dispose()


def _launch_in_background(stage: Stage, api: BatchforgeClient, body: dict[str, Any]) -> None:
    """POST the launch without waiting for its answer (the server dies while handling it);
    an answer, if one comes, is kept in ``stage.answered``."""
    stage.answered.clear()

    def post() -> None:
        try:
            response = api.request("POST", "/workflow/launch", json={"launch": body})
            stage.answered.append(f"{response.status_code} {response.text[:300]}")
        except ApiError as error:
            if error.status:  # an HTTP answer, not the killed server's closed connection
                stage.answered.append(f"{error.status} {error.message}")

    threading.Thread(target=post, daemon=True).start()


def _wait_new_run(database_url: str, before: set[str]) -> str:
    (run_id,) = wait_for("the run row", lambda: (_run_ids(database_url) - before) or None)
    return run_id


def _wait_end(stage: Stage, api: BatchforgeClient, run_id: str) -> str:
    def ended() -> str | None:
        try:
            status = api.describe_workflow(run_id).workflow.status
        except Exception:
            return None
        return status if status in FINAL else None

    return wait_for(f"run {run_id} to end", ended, 240)


def _head_jobs(emulator: LocalAws, queue: str, name: str) -> int:
    batch = emulator.boto_client("batch")
    found = batch.list_jobs(jobQueue=queue, filters=[{"name": "JOB_NAME", "values": [name]}])
    return sum(1 for job in found["jobSummaryList"] if job["jobName"] == name)


def _launch_killed_at(
    stage: Stage, api: BatchforgeClient, launch: dict[str, Any], operation: str
) -> tuple[BatchforgeClient, str, str]:
    """Launch, kill -9 the server when ``operation`` reached AWS, restart; the new client,
    the run id and the run's final status."""
    before = _run_ids(stage.database_url)
    stage.proxy.hold(operation)
    name = "killed-at-" + operation.rsplit(":", 1)[1].lower()
    _launch_in_background(stage, api, {**launch, "runName": name})
    stage.kill_when_held(operation)
    run_id = _wait_new_run(stage.database_url, before)
    api = stage.start()
    return api, run_id, _wait_end(stage, api, run_id)


# PostgreSQL when configured (what replicas share), else SQLite: one database per run keeps
# this file under 4 minutes on a busy machine (its cost is six server starts; both databases
# run the same lease SQL in tests/runs and tests/compute).
@pytest.mark.parametrize("database_url", ["postgres" if POSTGRES_URL else "sqlite"], indirect=True)
def test_kill_9_at_forge_launch_and_dispose_points_converges_without_orphans(
    stage: Stage,
) -> None:
    emulator, proxy = stage.emulator, stage.proxy
    api = stage.start()
    credentials_id = api.create_credentials(keys_credentials("aws"))
    api.request(
        "POST", "/pipeline-secrets", json={"name": "KILL_TOKEN", "value": "v-kill-9"}
    ).raise_for_status()

    # --- a forge, killed twice ---------------------------------------------------------
    proxy.hold("elasticfilesystem:CreateFileSystem")
    ce_id = api.create_compute_env(_forge_body(emulator, credentials_id))
    stage.kill_when_held("CreateFileSystem")
    assert len(forged_names(emulator, ce_id)["efs"]) == 1  # made, its answer lost
    proxy.hold("batch:CreateComputeEnvironment")
    api = stage.start()
    stage.kill_when_held("CreateComputeEnvironment")
    api = stage.start()
    wait_for("the forge to finish", lambda: _status(api, ce_id) == "AVAILABLE", 240)
    made = _no_duplicates(emulator, ce_id)
    assert len(made["efs"]) == 1
    assert len(made["compute_environments"]) == 2 and len(made["job_queues"]) == 2
    assert made["roles"] and made["instance_profiles"] and made["launch_templates"]

    launch = {"computeEnvId": ce_id, "pipeline": HELLO, "userSecrets": ["KILL_TOKEN"]}

    # --- a launch killed after its run row and secret names, at CreateSecret -------------
    api, first, status = _launch_killed_at(stage, api, launch, "secretsmanager:CreateSecret")
    assert status == "FAILED"  # it never reached AWS Batch
    row = _run(stage.database_url, first)
    assert _head_jobs(emulator, row.job_queue, row.job_name) == 0
    wait_for("its secret copies deleted", lambda: not _secret_copies(emulator, first), 120)

    # --- a launch killed after SubmitJob --------------------------------------------------
    api, second, status = _launch_killed_at(stage, api, launch, "batch:SubmitJob")
    row = _run(stage.database_url, second)
    assert row.job_id is not None, status  # found by its name, tracked
    assert _head_jobs(emulator, row.job_queue, row.job_name) == 1  # never submitted twice
    wait_for("its secret copies deleted", lambda: not _secret_copies(emulator, second), 120)

    # --- a dispose killed after DeleteComputeEnvironment ---------------------------------
    proxy.hold("batch:DeleteComputeEnvironment")
    api.delete_compute_env(ce_id)
    stage.kill_when_held("DeleteComputeEnvironment")
    api = stage.start()
    wait_for("the disposal to finish", lambda: _status(api, ce_id) == "GONE", 240)
    assert forged_names(emulator, ce_id) == {kind: [] for kind in made}
    assert stage.restarts == 5
