"""A workspace as ``tw``'s tests assume it, behind a live server, for running ``tw`` command
lines of the pipeline groups as ``batchforge`` (tests/tw/test_cli_runs*.py).

The world has: credentials, a primary compute environment ``demo`` on the emulator's queues,
a saved pipeline ``sleep_one_minute``, a run of it, workspace secret ``name02``, labels
``some-label`` and ``res=val``, a bucket linked as data link ``aws-storage``, and local files
(params, config, pre/post-run scripts).  Names follow tower-cli's tests where they can.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from batchforge.cli.main import app
from batchforge.client import BatchforgeClient
from batchforge.local_aws import WORK_BUCKET, LocalAws
from batchforge.services.run_tracker import RunTracker
from tests.batchjobs import BatchJobs
from tests.cli.conftest import LiveServer, serve
from tests.explorer.conftest import make_bucket
from tests.factories import keys_credentials
from tests.runs.conftest import HEAD_QUEUE, WORK_QUEUE, make_queues

PIPELINE = "sleep_one_minute"
REPO = "https://github.com/pditommaso/nf-sleep"


@dataclass
class World:
    """What the command lines act on, and how to run one."""

    server: LiveServer
    api: BatchforgeClient
    tmp: Path
    ce_id: str
    pipeline_id: int
    run_id: str
    secret_id: int
    label_id: int
    bucket: str
    link_id: str
    files: dict[str, Path] = field(default_factory=dict)
    jobs: BatchJobs | None = None
    tracker: RunTracker | None = None
    # More placeholders a case's setup makes (e.g. ``{schema_id}``).
    extra: dict[str, Any] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        """Placeholders of the command lines: ``{run}``, ``{pipeline_id}``, ``{file_params}``…"""
        return {
            "run": self.run_id,
            "pipeline_id": self.pipeline_id,
            "secret_id": self.secret_id,
            "label_id": self.label_id,
            "ce_id": self.ce_id,
            "bucket": self.bucket,
            "link_id": self.link_id,
            "tmp": self.tmp,
            "workspace": self.api.user_info().defaultWorkspaceId,
            **{f"file_{k}": v for k, v in self.files.items()},
            **self.extra,
        }

    def run(self, args: list[str], stdin: str | None = None) -> Result:
        base = ["--url", self.server.url, "--access-token", self.server.token]
        filled = [arg.format(**self.values()) for arg in args]
        return CliRunner().invoke(app, [*base, *filled], input=stdin)

    def track(self) -> None:
        """Run the tracker (runs on the emulator then finish)."""
        if self.tracker is None:
            self.tracker = RunTracker(self.server.ctx, interval=0.1)
            self.tracker.start()

    def pipelines(self) -> dict[str, Any]:
        return {p.name: p for p in self.api.list_pipelines()}

    def launch_of(self, run_id: str) -> dict[str, Any]:
        return self.api.describe_workflow_launch(run_id).model_dump(mode="json")

    def newest_run(self) -> str:
        return self.api.list_workflows(max_results=1).workflows[0].workflow.id

    def json(self, result: Result) -> Any:
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: these cases check command lines, not the database."""
    return f"sqlite:///{tmp_path / 'tw-cli.db'}"


@pytest.fixture
def world(
    app_ctx: Any,
    admin_token: str,
    api: BatchforgeClient,
    local_aws: LocalAws,
    jobs: BatchJobs,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    from batchforge.server.app import create_app

    for name in ("BATCHFORGE_URL", "BATCHFORGE_TOKEN", "TOWER_API_ENDPOINT", "TOWER_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TOWER_WORKSPACE_ID", raising=False)
    monkeypatch.setenv("BATCHFORGE_DATA_DIR", str(tmp_path / "cli-data"))
    make_queues(local_aws)
    creds = api.create_credentials(keys_credentials("aws-creds"))
    ce_id = api.create_compute_env(
        {
            "name": "demo",
            "platform": "aws-batch",
            "credentialsId": creds,
            "config": {
                "region": "us-east-1",
                "workDir": f"s3://{WORK_BUCKET}/work",
                "headQueue": HEAD_QUEUE,
                "computeQueue": WORK_QUEUE,
                "preRunScript": "echo ce-pre",
            },
        }
    )
    api.set_primary_compute_env(ce_id)
    pipeline = api.create_pipeline(
        PIPELINE,
        {"pipeline": REPO, "computeEnvId": ce_id, "workDir": f"s3://{WORK_BUCKET}/work"},
        "Sleep one minute",
    )
    run_id = api.launch_pipeline(pipeline.pipelineId, {})
    secret_id = api.create_secret("name02", "value02")
    label = api.request("POST", "/labels", json={"name": "some-label"}).json()
    bucket = make_bucket(local_aws)
    local_aws.boto_client("s3").put_object(Bucket=bucket, Key="path/name.txt", Body=b"hi")
    from batchforge.schemas.data_links import DataLinkCreateRequest

    link = api.create_data_link(
        DataLinkCreateRequest(
            name="aws-storage", resourceRef=f"s3://{bucket}", provider="aws", credentialsId=creds
        )
    )
    files = {
        "params": tmp_path / "params.yml",
        "params2": tmp_path / "params_2.yaml",
        "config": tmp_path / "extra.config",
        "pre": tmp_path / "pre.sh",
        "post": tmp_path / "post.sh",
        "export": tmp_path / "exported.json",
        "upload": tmp_path / "upload.txt",
    }
    files["params"].write_text("timeout: 60\n")
    files["params2"].write_text("timeout: 120\n")
    files["config"].write_text("process.cpus = 3\n")
    files["pre"].write_text("echo pre_run_this\n")
    files["post"].write_text("echo post_run_this\n")
    files["upload"].write_text("uploaded\n")
    with serve(create_app(app_ctx)) as url:
        found = World(
            LiveServer(url, admin_token, app_ctx),
            api,
            tmp_path,
            ce_id,
            pipeline.pipelineId,
            run_id,
            secret_id,
            int(label["id"]),
            bucket,
            link.id,
            files,
            jobs,
        )
        try:
            yield found
        finally:
            if found.tracker is not None:
                found.tracker.stop()
