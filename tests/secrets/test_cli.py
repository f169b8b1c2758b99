"""``batchforge secrets`` against a live server: values from stdin, never shown."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from batchforge.cli.main import app
from batchforge.local_aws import LocalAws
from tests.batchjobs import BatchJobs
from tests.cli.conftest import LiveServer, live_server  # noqa: F401 - the fixture
from tests.secrets.conftest import copies_in_aws

VALUE = "cli-secret-value-4a7e"


def invoke(server: LiveServer, *args: str, stdin: str | None = None):
    base = ["--url", server.url, "--token", server.token]
    return CliRunner().invoke(app, [*base, *args], input=stdin, env={"BATCHFORGE_URL": ""})


def test_add_list_view_update_delete_with_values_from_stdin(
    live_server: LiveServer,  # noqa: F811
) -> None:
    added = invoke(live_server, "secrets", "add", "--name", "GITHUB_TOKEN", stdin=VALUE + "\n")
    assert added.exit_code == 0, added.output
    assert "GITHUB_TOKEN" in added.output and VALUE not in added.output
    user = invoke(live_server, "secrets", "add", "--name", "GITHUB_TOKEN", "--user", stdin="u")
    assert user.exit_code == 0, user.output
    listed = invoke(live_server, "--output", "json", "secrets", "list")
    assert [s["name"] for s in json.loads(listed.output)] == ["GITHUB_TOKEN"]
    viewed = invoke(live_server, "secrets", "view", "GITHUB_TOKEN")
    assert viewed.exit_code == 0 and "GITHUB_TOKEN" in viewed.output
    assert VALUE not in viewed.output
    updated = invoke(live_server, "secrets", "update", "GITHUB_TOKEN", stdin="new-value")
    assert updated.exit_code == 0 and "updated" in updated.output
    deleted = invoke(live_server, "secrets", "delete", "GITHUB_TOKEN")
    assert deleted.exit_code == 0
    assert json.loads(invoke(live_server, "--output", "json", "secrets", "list").output) == []
    mine = invoke(live_server, "--output", "json", "secrets", "list", "--user")
    assert [s["name"] for s in json.loads(mine.output)] == ["GITHUB_TOKEN"]  # user one stays


def test_bad_input_exits_1_with_the_reason(live_server: LiveServer) -> None:  # noqa: F811
    empty = invoke(live_server, "secrets", "add", "--name", "EMPTY", stdin="")
    assert empty.exit_code == 1 and "No secret value" in empty.output
    bad = invoke(live_server, "secrets", "add", "--name", "bad-name", stdin="v")
    assert bad.exit_code == 1 and "not a valid secret name" in bad.output
    missing = invoke(live_server, "secrets", "delete", "NOPE")
    assert missing.exit_code == 1 and "No workspace secret" in missing.output


def test_launch_hands_named_secrets_to_the_run(
    live_server: LiveServer,  # noqa: F811
    secret_env: str,
    jobs: BatchJobs,
    local_aws: LocalAws,
) -> None:
    assert invoke(live_server, "secrets", "add", "-n", "TOKEN", stdin="v1").exit_code == 0
    assert invoke(live_server, "secrets", "add", "-n", "MINE", "--user", stdin="v2").exit_code == 0
    launched = invoke(
        live_server,
        "--output",
        "json",
        "launch",
        "https://github.com/nextflow-io/hello",
        "-c",
        secret_env,
        "--secret",
        "TOKEN",
        "--user-secret",
        "MINE",
    )
    assert launched.exit_code == 0, launched.output
    run_id = json.loads(launched.output)["workflowId"]
    assert set(copies_in_aws(local_aws, run_id).values()) == {"v1", "v2"}
