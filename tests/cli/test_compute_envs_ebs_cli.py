"""`batchforge compute-envs add aws-batch forge` turns EBS auto-scaling on unless
``--no-ebs-auto-scale``, as tw does (tower-cli ``AwsBatchForgePlatform.java``:
``.ebsAutoScale(!noEbsAutoScale)``, ``.ebsBlockSize(adv().ebsBlockSize)`` from
``--ebs-blocksize``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from batchforge.cli.main import app
from batchforge.client import BatchforgeClient
from batchforge.local_aws import WORK_BUCKET, LocalAws
from tests.cli.conftest import LiveServer
from tests.factories import keys_credentials

FORGE = ["compute-envs", "add", "aws-batch", "forge", "-r", "us-east-1", "-c", "aws"]
WORK = ["--work-dir", f"s3://{WORK_BUCKET}/ebs", "--max-cpus", "8"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("BATCHFORGE_URL", "BATCHFORGE_TOKEN", "TOWER_API_ENDPOINT", "TOWER_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BATCHFORGE_DATA_DIR", str(tmp_path / "cli-data"))


def _add(server: LiveServer, name: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["--url", server.url, "--token", server.token, *FORGE, "-n", name, *WORK, *extra]
    )
    return result.exit_code, " ".join(result.output.split())


def _forge(api: BatchforgeClient, name: str) -> dict:
    [entry] = [e for e in api.list_compute_envs() if e.name == name]
    env = api.request("GET", f"/compute-envs/{entry.id}").json()["computeEnv"]
    return dict(env["config"]["forge"])


def test_auto_scaling_is_on_by_default_and_off_on_request(
    live_server: LiveServer, api: BatchforgeClient, aws: LocalAws
) -> None:
    api.create_credentials(keys_credentials("aws"))
    code, output = _add(live_server, "default")
    assert code == 0, output
    assert (_forge(api, "default")["ebsAutoScale"], _forge(api, "default")["ebsBlockSize"]) == (
        True,
        None,  # stored as given; the daemon starts with 50 GiB
    )
    code, output = _add(live_server, "sized", "--ebs-blocksize", "200")
    assert code == 0, output
    assert _forge(api, "sized")["ebsBlockSize"] == 200
    code, output = _add(live_server, "fixed", "--no-ebs-auto-scale")
    assert code == 0, output
    assert _forge(api, "fixed")["ebsAutoScale"] is False


def test_a_block_size_without_auto_scaling_is_refused(
    live_server: LiveServer, api: BatchforgeClient, aws: LocalAws
) -> None:
    api.create_credentials(keys_credentials("aws"))
    code, output = _add(live_server, "odd", "--no-ebs-auto-scale", "--ebs-blocksize", "100")
    assert code != 0
    assert "computeEnv.config.forge.ebsBlockSize" in output and "ebsAutoScale" in output
    assert api.list_compute_envs() == []
