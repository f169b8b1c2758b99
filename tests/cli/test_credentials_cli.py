"""`batchforge credentials …` against a live server over HTTP."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from batchforge.cli.main import app
from tests.cli.conftest import LiveServer
from tests.factories import fake_keys


def invoke(
    server: LiveServer | None,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
):
    base = ["--url", server.url, "--token", server.token] if server else []
    runner = CliRunner()
    return runner.invoke(app, [*base, *args], input=stdin, env=env or {})


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in (
        "BATCHFORGE_URL",
        "BATCHFORGE_TOKEN",
        "TOWER_API_ENDPOINT",
        "TOWER_ACCESS_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BATCHFORGE_DATA_DIR", str(tmp_path / "cli-data"))


def test_add_list_view_validate_update_delete(live_server: LiveServer) -> None:
    keys = fake_keys()
    result = invoke(
        live_server,
        "credentials",
        "add",
        "aws",
        "-n",
        "lab",
        "--access-key",
        keys.access_key,
        "--secret-key-stdin",
        stdin=keys.secret_key + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "added and validated" in result.output

    listed = invoke(live_server, "credentials", "list")
    assert listed.exit_code == 0 and "lab" in listed.output and keys.access_key in listed.output

    as_json = json.loads(invoke(live_server, "-o", "json", "credentials", "view", "lab").output)
    assert as_json["credentials"]["keys"]["accessKey"] == keys.access_key
    assert keys.secret_key not in json.dumps(as_json)

    validated = invoke(live_server, "credentials", "validate", "lab")
    assert validated.exit_code == 0 and "are valid" in validated.output

    renamed = invoke(live_server, "credentials", "update", "lab", "--name", "lab2")
    assert renamed.exit_code == 0, renamed.output
    deleted = invoke(live_server, "credentials", "delete", "lab2")
    assert deleted.exit_code == 0
    assert "lab2" not in invoke(live_server, "credentials", "list").output


def test_secret_from_environment(live_server: LiveServer) -> None:
    keys = fake_keys()
    env = {"AWS_ACCESS_KEY_ID": keys.access_key, "AWS_SECRET_ACCESS_KEY": keys.secret_key}
    result = invoke(live_server, "credentials", "add", "aws", "-n", "env", env=env)
    assert result.exit_code == 0, result.output
    assert live_server.ctx.box  # stored; the API only ever shows the access key
    shown = invoke(live_server, "-o", "json", "credentials", "view", "env").output
    assert keys.access_key in shown and keys.secret_key not in shown


def test_missing_secret_is_a_clear_error(live_server: LiveServer) -> None:
    result = invoke(
        live_server, "credentials", "add", "aws", "-n", "x", "--access-key", fake_keys().access_key
    )
    assert result.exit_code == 1
    assert "No secret key" in result.output
    assert "Traceback" not in result.output


def test_server_errors_are_shown_with_hint_and_exit_1(live_server: LiveServer) -> None:
    result = invoke(
        live_server,
        "credentials",
        "add",
        "aws",
        "-n",
        "bad name",
        "--access-key",
        fake_keys().access_key,
        "--secret-key-stdin",
        stdin="s\n",
    )
    assert result.exit_code == 1
    assert "credentials.name" in result.output


def test_tower_environment_variables_are_honoured(live_server: LiveServer) -> None:
    env = {"TOWER_API_ENDPOINT": live_server.url, "TOWER_ACCESS_TOKEN": live_server.token}
    result = invoke(None, "credentials", "list", env=env)
    assert result.exit_code == 0, result.output


def test_wrong_token_and_unreachable_server(live_server: LiveServer) -> None:
    bad = invoke(None, "--url", live_server.url, "--token", "bf_nope", "credentials", "list")
    assert bad.exit_code == 1 and "Invalid API token" in bad.output
    down = invoke(None, "--url", "http://127.0.0.1:9", "--token", "t", "credentials", "list")
    assert down.exit_code == 1 and "Cannot reach batchforge" in down.output
