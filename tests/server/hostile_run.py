"""Running the hostile sweep against a real ``batchforge server`` process over loopback HTTP.

- :func:`server_process`: the real server (uvicorn, its own process) on a database URL, using
  an already running emulator as its AWS endpoint (``aws`` mode), with its log in a file;
- :func:`build_world`: resources the sweep aims at (targets) and resources it never names
  (witnesses), on an emulator with queues;
- :func:`sweep`: every generated case over HTTP; the 5xx answers and the count;
- :func:`check_consistent`: the witnesses read back as before, every list still answers.

Used by ``tests/server/test_hostile_sweep.py`` and ``benchmarks/bench_hostile.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from batchforge.client import BatchforgeClient
from batchforge.local_aws import WORK_BUCKET, LocalAws, free_port
from tests.factories import keys_credentials
from tests.runs.conftest import make_queues, manual_env
from tests.server.hostile import Case, Generator

CLI = str(Path(sys.executable).parent / "batchforge")
HELLO = "https://github.com/nextflow-io/hello"


@dataclass
class Server:
    url: str
    token: str
    log: Path
    process: subprocess.Popen[bytes]

    def client(self) -> BatchforgeClient:
        return BatchforgeClient(
            self.url, self.token, http=httpx.Client(base_url=self.url, timeout=120)
        )

    def alive(self) -> bool:
        return self.process.poll() is None


@contextmanager
def server_process(database_url: str, emulator: LocalAws, data_dir: Path) -> Iterator[Server]:
    """``batchforge server`` on a free loopback port; stopped with SIGINT afterwards."""
    port = free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "server.log"
    env = dict(
        os.environ,
        BATCHFORGE_DATA_DIR=str(data_dir),
        BATCHFORGE_DATABASE_URL=database_url,
        BATCHFORGE_HOST="127.0.0.1",
        BATCHFORGE_PORT=str(port),
        BATCHFORGE_AWS_MODE="aws",
        BATCHFORGE_AWS_ENDPOINT_URL=emulator.url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    with log.open("wb") as out:
        process = subprocess.Popen([CLI, "server"], env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{url}/service-info", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("server did not start:\n" + log.read_text()) from None
                time.sleep(0.1)
        token = (data_dir / "admin-token").read_text().strip()
        yield Server(url, token, log, process)
    finally:
        if process.poll() is None:
            process.send_signal(2)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)


@dataclass
class World:
    """Ids the sweep aims at (``known``) and witnesses it never names."""

    known: dict[str, str]
    witnesses: dict[str, str] = field(default_factory=dict)


def _resources(api: BatchforgeClient, emulator: LocalAws, tag: str) -> dict[str, str]:
    credentials = api.create_credentials(keys_credentials(f"cred-{tag}"))
    env = manual_env(api, emulator, credentials)
    pipeline = api.create_pipeline(
        f"pipe-{tag}", {"computeEnvId": env, "pipeline": HELLO}
    ).pipelineId
    label = api.request(
        "POST", "/labels", json={"name": f"label-{tag}", "value": "v", "resource": True}
    ).json()
    secret = api.request(
        "POST", "/pipeline-secrets", json={"name": f"SECRET_{tag.upper()}", "value": "s"}
    ).json()
    link = api.request(
        "POST",
        "/data-links",
        json={
            "name": f"link-{tag}",
            "type": "bucket",
            "provider": "aws",
            "resourceRef": f"s3://{WORK_BUCKET}",
            "credentialsId": credentials,
        },
    ).json()
    run = api.launch_workflow({"computeEnvId": env, "pipeline": HELLO, "runName": f"run-{tag}"})
    return {
        "credentialsId": credentials,
        "computeEnvId": env,
        "pipelineId": str(pipeline),
        "labelId": str(label["id"]),
        "secretId": str(secret["secretId"]),
        "dataLinkId": str(link["id"]),
        "workflowId": run,
    }


def build_world(api: BatchforgeClient, emulator: LocalAws) -> World:
    make_queues(emulator)
    workspace = api.user_info().defaultWorkspaceId
    targets = _resources(api, emulator, "target")
    witnesses = _resources(api, emulator, "witness")
    known = {
        **targets,
        "workspaceId": str(workspace),
        "platformId": "aws-batch",
        "regionId": "us-east-1",
        "pipeline": HELLO,
        "path": "data",
        "filePath": "data/file.txt",
        "dirPath": "data",
    }
    return World(known, witnesses)


WITNESS_READS = {
    "credentialsId": "/credentials/{}",
    "computeEnvId": "/compute-envs/{}",
    "pipelineId": "/pipelines/{}",
    "secretId": "/pipeline-secrets/{}",
    "dataLinkId": "/data-links/{}",
    "workflowId": "/workflow/{}/launch",
}
LISTS = {
    "credentialsId": ("/credentials", "credentials", "id"),
    "computeEnvId": ("/compute-envs", "computeEnvs", "id"),
    "pipelineId": ("/pipelines", "pipelines", "pipelineId"),
    "labelId": ("/labels", "labels", "id"),
    "secretId": ("/pipeline-secrets", "pipelineSecrets", "id"),
    "workflowId": ("/workflow", "workflows", "id"),
}


def snapshot(http: httpx.Client, world: World, token: str) -> dict[str, Any]:
    """What the witnesses read back as (answers of the stable reads)."""
    headers = {"Authorization": f"Bearer {token}"}
    found: dict[str, Any] = {}
    for key, template in WITNESS_READS.items():
        response = http.get(template.format(world.witnesses[key]), headers=headers)
        found[key] = (response.status_code, _stable(response.json()))
    return found


_VOLATILE = {"lastUsed", "lastUpdated", "dateCreated", "status", "message", "lastAccess"}


def _stable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


def check_consistent(http: httpx.Client, world: World, token: str, before: dict[str, Any]) -> None:
    """The witnesses read back as before; every list answers 200 and still shows them."""
    after = snapshot(http, world, token)
    assert after == before
    headers = {"Authorization": f"Bearer {token}"}
    for key, (path, items, id_field) in LISTS.items():
        response = http.get(path, params={"max": 100}, headers=headers)
        assert response.status_code == 200, (path, response.text[:300])
        ids = {str(item.get(id_field)) for item in _items(response.json(), items)}
        assert world.witnesses[key] in ids, (path, world.witnesses[key])


def _items(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    items = body.get(name, [])
    return [item.get("workflow", item) if name == "workflows" else item for item in items]


@dataclass
class SweepResult:
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # connection closed by the HTTP layer
    statuses: dict[int, int] = field(default_factory=dict)


def sweep(http: httpx.Client, spec: dict[str, Any], world: World, token: str) -> SweepResult:
    """Every case of the generator (seeded), with the admin token; the 5xx answers."""
    result = SweepResult()
    cases = list(Generator(spec, world.known).cases())
    for case in order(cases):
        headers = {"Authorization": f"Bearer {token}", **case.headers}
        result.requests += 1
        try:
            response = http.request(case.method, case.url, headers=headers, content=case.content)
        except httpx.TransportError as error:  # the HTTP server refused it (e.g. URL size)
            result.refused.append(f"{case.label}: {type(error).__name__}")
            continue
        result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
        if response.status_code >= 500 or leaks_internals(response.text):
            result.server_errors.append(f"{response.status_code} {case.label}: {response.text}")
    return result


def leaks_internals(body: str) -> bool:
    """Whether an answer shows a stack trace or source locations (never allowed)."""
    return "Traceback (most recent call last)" in body or '.py", line ' in body


def order(cases: list[Case]) -> list[Case]:
    """Reads first, writes next, state changes that end a target (disable, delete) last."""

    def rank(case: Case) -> int:
        if case.method == "DELETE":
            return 3
        if "/disable" in case.url or "/cancel" in case.url:
            return 2
        return 0 if case.method == "GET" else 1

    return sorted(cases, key=rank)
