"""`batchforge runs relaunch RUN [--no-resume]` against a live server, as `tw runs relaunch`
(seqeralabs/tower-cli RelaunchCmd: GET /workflow/{id}/launch, then POST /workflow/launch with
resume and the run's sessionId unless --no-resume; --work-dir only without resume)."""

from __future__ import annotations

import json
from collections.abc import Callable

from typer.testing import CliRunner

from batchforge.cli.main import app
from batchforge.services.context import AppContext
from tests.batchjobs import BatchJobs
from tests.cli.conftest import LiveServer, live_server  # noqa: F401 - the fixture
from tests.runs.conftest import run_row
from tests.runs.headjob_text import boot_script, env_of


def _cli(server: LiveServer, *args: str):
    base = ["--url", server.url, "--token", server.token]
    return CliRunner().invoke(app, [*base, *args], env={"BATCHFORGE_URL": ""})


def test_relaunch_resumes_by_default_and_starts_afresh_with_no_resume(
    live_server: LiveServer,  # noqa: F811
    launch: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
) -> None:
    first = launch(runName="original", configText="process.cpus = 3")
    session = run_row(app_ctx, first).session_id

    resumed = _cli(live_server, "-o", "json", "runs", "relaunch", first, "--name", "again")
    assert resumed.exit_code == 0, resumed.output
    second = json.loads(resumed.output)["workflowId"]
    row = run_row(app_ctx, second)
    assert row.session_id == session and row.resume and row.run_name == "again"
    assert f"-resume {session}" in boot_script(jobs.submits[-1])
    assert env_of(jobs.submits[-1])["NXF_UUID"] == session

    fresh = _cli(live_server, "runs", "relaunch", first, "--no-resume")
    assert fresh.exit_code == 0, fresh.output
    assert "from scratch" in fresh.output
    third = fresh.output.split("Workflow ", 1)[1].split(" ", 1)[0]
    row = run_row(app_ctx, third)
    assert row.session_id != session and not row.resume
    assert row.launch is not None and row.launch["configText"] == "process.cpus = 3"
    assert "-resume" not in boot_script(jobs.submits[-1])

    refused = _cli(live_server, "runs", "relaunch", first, "--work-dir", "s3://elsewhere/w")
    assert refused.exit_code == 1 and "--no-resume" in refused.output
    missing = _cli(live_server, "runs", "relaunch", "nope")
    assert missing.exit_code == 1 and "not found" in missing.output
