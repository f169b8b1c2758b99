"""A workspace as ``tw``'s tests assume it, behind a live server, for running ``tw`` command
lines of the infrastructure groups (info, credentials, compute-envs, workspaces,
participants, members, organizations, teams) as ``batchforge`` (tests/tw/test_cli_infra*.py).

The world has: AWS credentials ``aws-creds`` (the only ones), a primary manual compute
environment ``demo`` on the emulator's queues, user ``alice`` (member of org ``default``) and
user ``bob`` (no member), team ``team1``, and local files (pre/post-run scripts, Nextflow
config, ECS config, a ``tw compute-envs export`` file).  Forge work runs only when a case
asks for it (:meth:`World.start_forge`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from batchforge.cli.main import app
from batchforge.client import BatchforgeClient
from batchforge.client.accounts import AccountsApi
from batchforge.forge.waits import Pacing
from batchforge.local_aws import WORK_BUCKET, LocalAws
from batchforge.services import forge_runner
from tests.cli.conftest import LiveServer, serve
from tests.factories import fake_keys, keys_credentials
from tests.runs.conftest import HEAD_QUEUE, WORK_QUEUE, make_queues


@dataclass
class World:
    """What the command lines act on, and how to run one."""

    server: LiveServer
    api: BatchforgeClient
    tmp: Path
    ce_id: str
    creds_id: str
    workspace: int
    team_id: int
    tokens: dict[str, str]
    files: dict[str, Path] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _forge: threading.Thread | None = None

    @property
    def accounts(self) -> AccountsApi:
        return AccountsApi(self.api)

    def values(self) -> dict[str, Any]:
        """Placeholders of the command lines: ``{ce_id}``, ``{workspace}``, ``{file_pre}``…"""
        keys = self.extra.setdefault("keys", fake_keys())
        return {
            "ce_id": self.ce_id,
            "creds_id": self.creds_id,
            "workspace": self.workspace,
            "team_id": self.team_id,
            "bucket": WORK_BUCKET,
            "head_queue": HEAD_QUEUE,
            "work_queue": WORK_QUEUE,
            "access_key": keys.access_key,
            "secret_key": keys.secret_key,
            "tmp": self.tmp,
            **{f"file_{k}": v for k, v in self.files.items()},
            **{k: v for k, v in self.extra.items() if k != "keys"},
        }

    def run(self, args: list[str], as_user: str | None = None, stdin: str | None = None) -> Result:
        token = self.tokens[as_user] if as_user else self.server.token
        base = ["--url", self.server.url, "--access-token", token]
        filled = [arg.format(**self.values()) for arg in args]
        return CliRunner().invoke(app, [*base, *filled], input=stdin)

    def json(self, result: Result) -> Any:
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def envs(self) -> dict[str, dict[str, Any]]:
        """Compute environments by name, each as described by the API."""
        found = {}
        for entry in self.api.list_compute_envs():
            found[entry.name] = self.api.request("GET", f"/compute-envs/{entry.id}").json()[
                "computeEnv"
            ]
        return found

    def credentials(self) -> dict[str, Any]:
        return {c.name: c for c in self.api.list_credentials()}

    def start_forge(self) -> None:
        """Run Forge work in the background (as the server's worker does) until the end."""
        if self._forge is not None:
            return

        def loop() -> None:
            while not self._stop.wait(0.05):
                forge_runner.run_pending(self.server.ctx)

        self._forge = threading.Thread(target=loop, daemon=True)
        self._forge.start()

    def stop(self) -> None:
        self._stop.set()
        if self._forge is not None:
            self._forge.join(timeout=60)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: these cases check command lines, not the database."""
    return f"sqlite:///{tmp_path / 'tw-cli.db'}"


def make_world(
    app_ctx: Any,
    admin_token: str,
    api: BatchforgeClient,
    local_aws: LocalAws,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    """The world behind a live server (see the module docstring)."""
    from batchforge.server.app import create_app

    for name in (
        "BATCHFORGE_URL",
        "BATCHFORGE_TOKEN",
        "BATCHFORGE_WORKSPACE",
        "TOWER_API_ENDPOINT",
        "TOWER_ACCESS_TOKEN",
        "TOWER_WORKSPACE_ID",
        "TOWER_CLI_OUTPUT_FORMAT",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BATCHFORGE_DATA_DIR", str(tmp_path / "cli-data"))
    app_ctx.pacing = Pacing(interval=0.0, retry_interval=0.0, timeout=30, retry_timeout=5)
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
            },
        }
    )
    api.set_primary_compute_env(ce_id)
    accounts = AccountsApi(api)
    alice = accounts.add_user("alice", "alice@example.org")
    bob = accounts.add_user("bob", "bob@example.org")
    org_id = accounts.org_id("default")
    accounts.add_member(org_id, "alice")
    team = accounts.add_team(org_id, "team1", "the first team")
    files = {
        "pre": tmp_path / "pre.sh",
        "post": tmp_path / "post.sh",
        "config": tmp_path / "nextflow.config",
        "ecs": tmp_path / "ecs.config",
        "export": tmp_path / "ce.json",
        "out": tmp_path / "exported.json",
    }
    files["pre"].write_text("echo pre_run_this\n")
    files["post"].write_text("echo post_run_this\n")
    files["config"].write_text("process.cpus = 3\n")
    files["ecs"].write_text("ECS_IMAGE_PULL_BEHAVIOR=once\n")
    # Shaped as `tw compute-envs export` writes it (the config object with a labels list).
    files["export"].write_text(
        json.dumps(
            {
                "region": "us-east-1",
                "workDir": f"s3://{WORK_BUCKET}/imported",
                "headQueue": HEAD_QUEUE,
                "computeQueue": WORK_QUEUE,
                "discriminator": "aws-batch",
                "labels": [{"name": "owner", "value": "jaime", "resource": True}],
            }
        )
    )
    with serve(create_app(app_ctx)) as url:
        world = World(
            LiveServer(url, admin_token, app_ctx),
            api,
            tmp_path,
            ce_id,
            creds,
            int(api.user_info().defaultWorkspaceId or 0),
            int(team["teamId"]),
            {"alice": alice["token"], "bob": bob["token"]},
            files,
        )
        try:
            yield world
        finally:
            world.stop()


Check = Callable[[World, Result], None]
