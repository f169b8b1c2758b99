"""One launch never breaks the runs list (issue #16, item 2), and one unreadable row never
breaks a list or a page.

Before the fix a lone UTF-16 surrogate in ``configText``/``preRunScript``/``postRunScript``
made the launch answer 500 and kept the run row, after which ``GET /workflow``,
``GET /workflow/{id}``, the UI runs page and ``batchforge runs list`` answered 500 on SQLite
and PostgreSQL (the stored JSON ``"\\ud800"`` reads back as a string no UTF-8 encoder takes).
Now such input is refused with a 400 naming the field before anything is written, and a row
that is unreadable all the same (stored by an older version, damaged) is shown as broken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from typer.testing import CliRunner

from batchforge.cli.main import app as cli_app
from batchforge.db import models
from batchforge.schemas.workflows import BROKEN_RUN_NAME
from batchforge.server.app import create_app
from batchforge.services.context import AppContext
from tests.cli.conftest import serve
from tests.runs.conftest import WriteCounter
from tests.server.hostile_ui import sign_in

HELLO = "https://github.com/nextflow-io/hello"


@pytest.fixture
def http(app_ctx: AppContext, admin_token: str) -> Iterator[TestClient]:
    """The app over ASGI, answering 500s instead of raising (as a real server does)."""
    client = TestClient(
        create_app(app_ctx),
        base_url="http://batchforge.test",
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    with client:
        yield client


def _raw_launch(http: TestClient, env: str, field: str, escaped: str) -> httpx.Response:
    """A launch whose ``field`` holds ``escaped`` as written in JSON (``\\ud800``...)."""
    texts = f'"computeEnvId": "{env}", "pipeline": "{HELLO}", "{field}": "echo {escaped}"'
    body = "{" + f'"launch": {{{texts}}}' + "}"
    return http.post("/workflow/launch", content=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize("field", ["configText", "preRunScript", "postRunScript", "runName"])
@pytest.mark.parametrize("escaped", ["\\ud800", "a\\u0000b"])
def test_text_that_cannot_be_stored_is_refused_before_anything_is_written(
    http: TestClient,
    app_ctx: AppContext,
    env_id: str,
    field: str,
    escaped: str,
) -> None:
    writes = WriteCounter(app_ctx.db.engine)
    try:
        response = _raw_launch(http, env_id, field, escaped)
    finally:
        writes.close()
    assert response.status_code == 400, response.text
    assert response.json()["field"] == f"launch.{field}"
    assert "surrogate" in response.json()["message"] or "NUL" in response.json()["message"]
    assert writes.count == 0
    listed = http.get("/workflow")
    assert listed.status_code == 200 and listed.json()["workflows"] == []


def _corrupt(app_ctx: AppContext, run_id: str, how: str) -> None:
    """Damage a stored run the way an older version or a bad write could."""
    with app_ctx.db.transaction() as session:
        if how == "surrogate":  # stored as the JSON escape "\ud800", as before the fix
            query = update(models.Run).where(models.Run.id == run_id)
            session.execute(query.values(launch={"configText": "echo \ud800"}))
        elif how == "status":  # a status this version does not know
            query = update(models.Run).where(models.Run.id == run_id)
            session.execute(query.values(status="PAUSED"))
        else:  # "json": a launch column that is not JSON at all (SQLite lets it be stored)
            session.execute(
                text("UPDATE run SET launch = 'not json' WHERE id = :id"), {"id": run_id}
            )


@pytest.mark.parametrize("how", ["surrogate", "status", "json"])
def test_an_unreadable_run_is_listed_as_broken_and_the_others_still_read(
    http: TestClient,
    admin_token: str,
    app_ctx: AppContext,
    launch: Callable[..., str],
    database_url: str,
    how: str,
) -> None:
    if how == "json" and not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL refuses a json value that is not JSON")
    good, bad = launch(runName="good-run"), launch(runName="bad-run")
    _corrupt(app_ctx, bad, how)

    listed = http.get("/workflow")
    assert listed.status_code == 200, listed.text
    runs = {item["workflow"]["id"]: item["workflow"] for item in listed.json()["workflows"]}
    assert set(runs) == {good, bad}
    assert runs[good]["runName"] == "good-run" and runs[good]["status"] == "SUBMITTED"
    assert runs[bad]["status"] == "UNKNOWN" and runs[bad]["runName"] == BROKEN_RUN_NAME
    assert "could not read" in runs[bad]["errorMessage"]
    assert f"batchforge runs delete {bad} --force" in runs[bad]["errorMessage"]

    described = http.get(f"/workflow/{bad}")
    assert described.status_code == 200, described.text
    assert described.json()["workflow"]["status"] == "UNKNOWN"
    assert http.get(f"/workflow/{good}").json()["workflow"]["runName"] == "good-run"
    searched = http.get("/workflow", params={"search": "run", "includeTotalSize": "true"})
    assert searched.status_code == 200 and searched.json()["totalSize"] == 2

    _assert_ui_lists(app_ctx, admin_token, bad, good)
    _assert_cli_lists(app_ctx, admin_token, bad, good)

    deleted = http.delete(f"/workflow/{bad}", params={"force": "true"})
    assert deleted.status_code in (200, 204), deleted.text
    after = http.get("/workflow").json()["workflows"]
    assert [item["workflow"]["id"] for item in after] == [good]


def _assert_ui_lists(app_ctx: AppContext, token: str, bad: str, good: str) -> None:
    with serve(create_app(app_ctx)) as url, httpx.Client(base_url=url, timeout=120) as ui:
        sign_in(ui, token)
        page = ui.get("/ui/runs")
        assert page.status_code == 200, page.text[:500]
        assert bad in page.text and good in page.text and "could not read" in page.text
        run_page = ui.get(f"/ui/runs/{bad}")
        assert run_page.status_code == 200, run_page.text[:500]
        assert "could not read" in run_page.text


def _assert_cli_lists(app_ctx: AppContext, token: str, bad: str, good: str) -> None:
    with serve(create_app(app_ctx)) as url:
        base = ["--url", url, "--token", token]
        result = CliRunner().invoke(cli_app, [*base, "runs", "list"], env={"BATCHFORGE_URL": ""})
    assert result.exit_code == 0, result.output
    assert good in result.output and bad in result.output
    assert "could not be read" in result.output


def test_a_launch_that_fails_inside_batchforge_after_its_row_exists_ends_failed(
    http: TestClient, env_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault of ours after the run is recorded (here: the launch-file upload raising an
    unexpected error) leaves the run FAILED with its reason, never a half-made run."""
    from batchforge.services import launches

    def broken_upload(*_: object) -> None:
        raise RuntimeError("simulated fault")

    monkeypatch.setattr(launches, "upload_launch_files", broken_upload)
    body = {"launch": {"computeEnvId": env_id, "pipeline": HELLO}}
    response = http.post("/workflow/launch", json=body)
    assert response.status_code == 500
    assert "simulated" not in response.text and "Traceback" not in response.text
    listed = http.get("/workflow")
    assert listed.status_code == 200
    (item,) = listed.json()["workflows"]
    assert item["workflow"]["status"] == "FAILED"
    assert "failed inside batchforge (RuntimeError)" in item["workflow"]["errorMessage"]
