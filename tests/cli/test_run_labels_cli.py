"""``batchforge runs labels`` and ``batchforge labels update`` as ``tw`` command lines
against a live server over HTTP: set/append/delete, ``--no-create``, a resource label after
launch refused, labels shown by ``runs list -l`` and found with ``-f label:NAME``.  SQLite
and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from typer.testing import CliRunner

from batchforge.cli.main import app
from tests.cli.conftest import LiveServer
from tests.trace.conftest import make_run


def invoke(server: LiveServer, *args: str):
    return CliRunner().invoke(app, ["--url", server.url, "--token", server.token, *args], env={})


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ("BATCHFORGE_URL", "BATCHFORGE_TOKEN", "TOWER_API_ENDPOINT", "TOWER_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BATCHFORGE_DATA_DIR", str(tmp_path / "cli-data"))


def _get(server: LiveServer, path: str, **params: object) -> dict:
    headers = {"Authorization": f"Bearer {server.token}"}
    response = httpx.get(server.url + path, params=params, headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def _names(server: LiveServer, run_id: str) -> list[str]:
    labels = _get(server, f"/workflow/{run_id}")["labels"]
    return [f"{x['name']}={x['value']}" if x["resource"] else x["name"] for x in labels]


def test_runs_labels(live_server: LiveServer) -> None:
    workspace = _get(live_server, "/user-info")["defaultWorkspaceId"]
    run = make_run(live_server.ctx, workspace, status="SUCCEEDED", submit_state="done")

    done = invoke(live_server, "runs", "labels", "-i", run, "test,rnaseq-demo")
    assert done.exit_code == 0, done.output
    assert "'set' labels on run" in done.output
    assert _names(live_server, run) == ["rnaseq-demo", "test"]

    done = invoke(live_server, "runs", "labels", "-i", run, "-o", "append", "extra")
    assert done.exit_code == 0, done.output
    missing = invoke(
        live_server, "runs", "labels", "-i", run, "--no-create", "-o", "append", "nope"
    )
    assert missing.exit_code == 1 and "Label 'nope' does not exist" in missing.output
    done = invoke(live_server, "runs", "labels", "-i", run, "-o", "delete", "test,never-made")
    assert done.exit_code == 0, done.output
    assert _names(live_server, run) == ["extra", "rnaseq-demo"]

    tagged = invoke(live_server, "runs", "labels", "-i", run, "-o", "append", "team=x")
    assert tagged.exit_code == 1
    assert "resource label" in tagged.output and "labelIds[0]" in tagged.output
    assert _names(live_server, run) == ["extra", "rnaseq-demo"]

    listed = invoke(live_server, "runs", "list", "-l")
    assert listed.exit_code == 0 and "extra, rnaseq-demo" in listed.output, listed.output
    found = invoke(live_server, "-o", "json", "runs", "list", "-f", "label:extra")
    assert found.exit_code == 0, found.output
    assert run in found.output
    assert invoke(live_server, "runs", "list", "-f", "label:test").output.count(run) == 0


def test_labels_update(live_server: LiveServer) -> None:
    made = invoke(live_server, "-o", "json", "labels", "add", "-n", "draft")
    assert made.exit_code == 0, made.output
    label_id = str(_get(live_server, "/labels", search="draft")["labels"][0]["id"])

    done = invoke(live_server, "labels", "update", "-i", label_id, "-n", "final")
    assert done.exit_code == 0, done.output
    assert f"Label with id '{label_id}' updated to 'final'" in done.output
    refused = invoke(live_server, "labels", "update", "-i", label_id, "-v", "v1")
    assert refused.exit_code == 1 and "only resource labels have a value" in refused.output
    gone = invoke(live_server, "labels", "update", "-i", "99999999", "-n", "x")
    assert gone.exit_code == 1 and "not found" in gone.output
    assert [x["name"] for x in _get(live_server, "/labels")["labels"]] == ["final"]
