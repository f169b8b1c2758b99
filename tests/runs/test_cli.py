"""`batchforge launch / pipelines / runs` against a live server with its tracker running."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from batchforge.cli.main import app
from batchforge.client import BatchforgeClient
from batchforge.local_aws import WORK_BUCKET, LocalAws
from batchforge.services.run_tracker import RunTracker
from tests.cli.conftest import LiveServer, live_server  # noqa: F401 - the fixture
from tests.factories import keys_credentials
from tests.runs.conftest import HEAD_QUEUE, WORK_QUEUE, make_queues


def invoke(server: LiveServer, *args: str):
    base = ["--url", server.url, "--token", server.token]
    return CliRunner().invoke(app, [*base, *args], env={"BATCHFORGE_URL": ""})


@pytest.fixture
def tracked(live_server: LiveServer) -> Iterator[LiveServer]:  # noqa: F811
    tracker = RunTracker(live_server.ctx, interval=0.1)
    tracker.start()
    yield live_server
    tracker.stop()


@pytest.fixture
def cli_env(api: BatchforgeClient, local_aws: LocalAws) -> str:
    make_queues(local_aws)
    creds = api.create_credentials(keys_credentials("aws"))
    api.create_compute_env(
        {
            "name": "cli-env",
            "platform": "aws-batch",
            "credentialsId": creds,
            "config": {
                "region": "us-east-1",
                "workDir": f"s3://{WORK_BUCKET}/work",
                "headQueue": HEAD_QUEUE,
                "computeQueue": WORK_QUEUE,
            },
        }
    )
    return "cli-env"


def test_launch_wait_view_logs_and_delete(tracked: LiveServer, cli_env: str, tmp_path) -> None:
    params = tmp_path / "params.yaml"
    params.write_text("greeting: hi\n")
    added = invoke(
        tracked,
        "pipelines",
        "add",
        "https://github.com/nextflow-io/hello",
        "-n",
        "hello",
        "-c",
        cli_env,
        "--params-file",
        str(params),
    )
    assert added.exit_code == 0, added.output
    listed = invoke(tracked, "pipelines", "list")
    assert "hello" in listed.output and cli_env in listed.output
    done = invoke(
        tracked, "launch", "hello", "--name", "cli-run", "--wait", "SUCCEEDED", "--timeout", "20"
    )
    assert done.exit_code == 0, done.output
    run_id = done.output.split("Workflow ", 1)[1].split(" ", 1)[0]
    assert "SUCCEEDED" in done.output
    # the emulator finishes jobs at once: RUNNING is never seen, so waiting for it fails
    missed = invoke(
        tracked,
        "launch",
        "https://github.com/x/y",
        "-c",
        cli_env,
        "--wait",
        "RUNNING",
        "--timeout",
        "20",
    )
    assert missed.exit_code == 1 and "not RUNNING" in missed.output
    view = invoke(tracked, "-o", "json", "runs", "view", run_id)
    assert view.exit_code == 0
    assert json.loads(view.output)["workflow"]["runName"] == "cli-run"
    runs = invoke(tracked, "runs", "list", "--status", "SUCCEEDED")
    assert run_id in runs.output
    logs = invoke(tracked, "runs", "logs", run_id)
    assert logs.exit_code == 0 and "does not exist" in logs.output
    deleted = invoke(tracked, "runs", "delete", run_id)
    assert deleted.exit_code == 0
    gone = invoke(tracked, "runs", "view", run_id)
    assert gone.exit_code == 1 and "not found" in gone.output
    bad = invoke(tracked, "launch", "hello", "--wait", "DONE")
    assert bad.exit_code == 2  # a usage error, as tw (picocli) reports a bad --wait value
