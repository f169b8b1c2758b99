"""``batchforge policy preflight`` against a live server over HTTP."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from batchforge.cli.main import app
from batchforge.client import BatchforgeClient
from batchforge.local_aws import LocalAws
from batchforge.schemas.credentials import AwsKeysIn, CredentialsIn
from tests.cli.conftest import LiveServer
from tests.iam.users import READ_EXTRAS, SEED, emulator_auth, make_user, without


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ("BATCHFORGE_URL", "BATCHFORGE_TOKEN", "TOWER_API_ENDPOINT", "TOWER_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BATCHFORGE_DATA_DIR", str(tmp_path / "cli-data"))


def invoke(server: LiveServer, *args: str):
    base = ["--url", server.url, "--token", server.token]
    return CliRunner().invoke(app, [*base, *args], env={"COLUMNS": "200"})


def _store(server: LiveServer, aws: LocalAws, name: str, **policies: dict) -> None:
    auth = make_user(aws, name, **policies)
    keys = AwsKeysIn(accessKey=auth.access_key, secretKey=auth.secret_key)
    with BatchforgeClient(server.url, server.token) as client:
        client.create_credentials(CredentialsIn(name=name, provider="aws", keys=keys))


def test_preflight_passes_and_fails_with_exit_codes(live_server: LiveServer, aws: LocalAws) -> None:
    _store(live_server, aws, "good", managed=SEED, inline=READ_EXTRAS)
    _store(live_server, aws, "bad", managed=without(SEED, "batch:SubmitJob"), inline=READ_EXTRAS)
    _store(live_server, aws, "blind", managed=SEED)
    with emulator_auth(aws):
        good = invoke(
            live_server, "policy", "preflight", "--credentials", "good", "--mode", "forge"
        )
        bad = invoke(
            live_server, "-o", "json", "policy", "preflight", "-c", "bad", "--features", "launch"
        )
        blind = invoke(live_server, "policy", "preflight", "-c", "blind", "-f", "launch", "-v")
    assert good.exit_code == 0, good.output
    assert "PASSED: every required permission is allowed" in good.output
    assert "Principal: arn:aws:iam::123456789012:user/good (user)" in good.output

    assert bad.exit_code == 1, bad.output
    report = json.loads(bad.stdout)
    assert report["ok"] is False and report["features"] == ["launch"]
    assert any("batch:SubmitJob" in b for b in report["blocking"])

    assert blind.exit_code == 0, blind.output  # nothing known to be missing
    assert "INCOMPLETE" in blind.output and "iam:ListUserPolicies is not granted" in blind.output
    assert "unknown  launch" in blind.output  # --verbose lists every permission


def test_preflight_of_unknown_credentials(live_server: LiveServer) -> None:
    result = invoke(live_server, "policy", "preflight", "-c", "missing")
    assert result.exit_code == 1
    assert "No credentials named or with id 'missing'" in result.output
