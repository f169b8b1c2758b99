"""`batchforge users|orgs|workspaces|members|teams|participants` against a live server.

``-w`` takes a workspace id or ``Organization/Workspace`` (as ``tw -w``); ``TOWER_WORKSPACE_ID``
is read when ``-w`` is absent (tw's variable).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from batchforge.cli.main import app


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in (
        "BATCHFORGE_URL",
        "BATCHFORGE_TOKEN",
        "BATCHFORGE_WORKSPACE",
        "TOWER_API_ENDPOINT",
        "TOWER_ACCESS_TOKEN",
        "TOWER_WORKSPACE_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BATCHFORGE_DATA_DIR", str(tmp_path / "cli-data"))


def run(server: str, token: str, *args: str, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(app, ["--url", server, "--token", token, *args], env=env or {})
    return result


def ok_json(server: str, token: str, *args: str, env: dict[str, str] | None = None) -> Any:
    result = run(server, token, "-o", "json", *args, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_teams_from_the_command_line(server: str, admin_token: str) -> None:
    made = ok_json(server, admin_token, "users", "add", "alice", "--email", "alice@example.org")
    assert set(made) == {"user", "token"} and made["user"]["email"] == "alice@example.org"
    alice = made["token"]
    listed = ok_json(server, admin_token, "users", "list")
    assert "token" not in json.dumps(listed) and {u["userName"] for u in listed} == {
        "admin",
        "alice",
    }
    assert ok_json(server, admin_token, "orgs", "list")["organizations"][0]["name"] == "default"
    assert ok_json(server, admin_token, "members", "add", "alice")["member"]["role"] == "member"
    lab = ok_json(server, admin_token, "workspaces", "add", "lab", "--org", "default")
    ok_json(server, admin_token, "teams", "add", "devs", "-d", "developers")
    ok_json(server, admin_token, "teams", "add-member", "devs", "alice")
    assert ok_json(server, admin_token, "teams", "list")["teams"][0]["membersCount"] == 1
    added = ok_json(
        server,
        admin_token,
        "-w",
        "default/lab",
        "participants",
        "add",
        "devs",
        "--type",
        "team",
        "--role",
        "maintain",
    )
    assert added["participant"]["type"] == "TEAM"
    assert added["participant"]["wspRole"] == "maintain"

    # Alice's effective role, through the team; -w by name and TOWER_WORKSPACE_ID by id.
    mine = ok_json(server, alice, "workspaces", "list")["workspaces"]
    assert [(w["ref"], w["role"]) for w in mine] == [("default/lab", "maintain")]
    by_name = ok_json(server, alice, "-w", "default/lab", "participants", "list")
    by_env = ok_json(
        server, alice, "participants", "list", env={"TOWER_WORKSPACE_ID": str(lab["id"])}
    )
    assert by_name == by_env
    assert [p["teamName"] for p in by_name["participants"]] == [None, "devs"]
    assert run(server, alice, "-w", "default/lab", "secrets", "list").exit_code == 0
    # Not hers: the default workspace is unknown to her, by name as by id.
    refused = run(server, alice, "-w", "default/default", "secrets", "list")
    assert refused.exit_code == 1 and "No workspace 'default/default' of yours" in refused.output
    bad = run(server, alice, "-w", "lab", "secrets", "list")
    assert bad.exit_code == 1 and "Organization/Workspace" in bad.output

    # Roles: a direct participant role, changed; the last org owner is kept.
    ok_json(server, admin_token, "-w", "default/lab", "participants", "add", "alice")
    ok_json(server, admin_token, "-w", "default/lab", "participants", "role", "alice", "admin")
    assert ok_json(server, alice, "workspaces", "list")["workspaces"][0]["role"] == "admin"
    last = run(server, admin_token, "members", "role", "admin", "member")
    assert last.exit_code == 1 and "last owner" in last.output
    # A disabled user is refused; deleting removes her.
    ok_json(server, admin_token, "users", "disable", "alice")
    assert "disabled" in run(server, alice, "workspaces", "list").output
    ok_json(server, admin_token, "users", "delete", "alice")
    assert ok_json(server, admin_token, "teams", "list")["teams"][0]["membersCount"] == 0
