"""End to end: a launched run reports itself through the trace protocol.

The server listens on a real loopback port (uvicorn in a thread) and is the head job's
``TOWER_API_ENDPOINT``; the launch hands the run's token over as a Secrets Manager secret;
the emulator's ECS resolves it into the head container; the Nextflow stand-in, seeing
``TOWER_ACCESS_TOKEN`` and ``TOWER_WORKFLOW_ID`` (nf-tower 1.9.3's rules, Nextflow 24.10.5),
sends create/begin/progress/complete with ``Basic base64("@token:" + token)``; the read side
(``/workflow/{id}/tasks``, ``/progress``, ``/metrics``) shows what it sent.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from batchforge.client import BatchforgeClient
from batchforge.emulator.standin_trace import UNAUTHORIZED
from batchforge.local_aws import LocalAws
from batchforge.services import run_tokens, run_tracker
from batchforge.services.context import AppContext
from tests.emulator.conftest import Emu, config_text, head_role_policy, make_role
from tests.emulator.live import port, server, settings  # noqa: F401 - fixtures
from tests.factories import keys_credentials
from tests.runs.conftest import WORK_QUEUE, launcher, make_queues, manual_env, wait_run_end
from tests.secrets.conftest import copies_in_aws


@pytest.fixture
def issued(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The plaintext tokens issued (a spy: the test looks for the value where it must not be)."""
    seen: list[str] = []
    real = run_tokens.issue

    def spy(ctx: AppContext, run_id: str) -> str:
        seen.append(real(ctx, run_id))
        return seen[-1]

    monkeypatch.setattr(run_tokens, "issue", spy)
    return seen


def _log(api: BatchforgeClient, run_id: str) -> list[str]:
    return [line for page in api.iter_workflow_log(run_id) for line in page.entries]


@pytest.mark.usefixtures("server")
def test_a_launched_run_reports_tasks_progress_and_metrics(
    api: BatchforgeClient,
    app_ctx: AppContext,
    aws: LocalAws,
    issued: list[str],
) -> None:
    try:
        aws.set_execution(True)
        make_queues(aws)
        role = make_role(aws, head_role_policy())
        credentials_id = api.create_credentials(keys_credentials("aws"))
        env_id = manual_env(
            api, aws, credentials_id, headJobRole=role, computeJobRole=role, executionRole=role
        )
        run_id = launcher(api, env_id)(
            runName="traced-run",
            paramsText='{"standin_tasks": 3, "standin_task_seconds": 1.5}',
        )
        status = wait_run_end(api, app_ctx, run_id)
        lines = _log(api, run_id)
        assert status == "SUCCEEDED", (api.describe_workflow(run_id).messages, lines)
        assert any("Monitor the execution with Seqera Platform" in line for line in lines)

        batch = aws.boto_client("batch")
        listed = batch.list_jobs(jobQueue=WORK_QUEUE, jobStatus="SUCCEEDED")["jobSummaryList"]
        native = {j["jobId"] for j in listed if j["jobName"].startswith(f"tw-{run_id}-")}
        tasks = api.list_workflow_tasks(run_id)["tasks"]
        assert len(tasks) == 3, tasks
        found = [entry["task"] for entry in tasks]
        assert {t["status"] for t in found} == {"COMPLETED"}
        assert {t["nativeId"] for t in found} == native
        assert {t["process"] for t in found} == {"STANDIN"}
        assert all(t["exit"] == 0 and t["realtime"] is not None for t in found)

        progress = api.workflow_progress(run_id)
        assert progress["workflowProgress"]["succeeded"] == 3, progress
        assert [p["process"] for p in progress["processesProgress"]] == ["STANDIN"]
        metrics = api.workflow_metrics(run_id)
        assert [m["process"] for m in metrics] == ["STANDIN"]
        assert metrics[0]["cpu"]["max"] >= metrics[0]["cpu"]["min"] > 0

        [token] = issued
        head = batch.describe_jobs(jobs=[api.describe_workflow(run_id).jobInfo.operationId])
        definition = batch.describe_job_definitions(
            jobDefinitions=[head["jobs"][0]["jobDefinition"]]
        )
        shown = json.dumps(head, default=str) + json.dumps(definition, default=str)
        shown += "\n".join(lines) + api.describe_workflow(run_id).model_dump_json()
        shown += json.dumps(tasks) + json.dumps(progress)
        assert token not in shown
        # the token's secret goes once the head job has ended (the trace may end the run first)
        deadline = time.monotonic() + 120
        while copies_in_aws(aws, run_id) and time.monotonic() < deadline:
            run_tracker.run_cycle(app_ctx)
            time.sleep(0.5)
        assert copies_in_aws(aws, run_id) == {}
    finally:
        aws.set_execution(False)


@pytest.mark.usefixtures("server")
def test_a_standin_whose_create_gets_401_aborts_the_run(emu: Emu, app_ctx: AppContext) -> None:
    """nf-tower 1.9.3 (TowerClient.onFlowCreate): a non-2xx ``create`` is an
    AbortOperationException, so Nextflow exits 1 before running anything; a 401 reads
    "Unauthorized Seqera Platform API access ..." (sendHttpMessage)."""
    env: dict[str, Any] = {
        "TOWER_ACCESS_TOKEN": run_tokens.PREFIX + "not-a-token",
        "TOWER_WORKFLOW_ID": "4fHk2LmQ9xZr7T",
        "TOWER_WORKSPACE_ID": "1",
        "TOWER_API_ENDPOINT": app_ctx.settings.effective_public_url,
    }
    job = emu.nextflow(config_text(emu), "-name unauthorized", env=env)
    assert job["status"] == "FAILED" and job["container"]["exitCode"] == 1
    text = "\n".join(emu.log(job))
    assert f"ERROR ~ {UNAUTHORIZED}" in text
    assert "Submitted process" not in text  # nothing ran
    assert not emu.aws.boto_client("batch").list_jobs(jobQueue=WORK_QUEUE)["jobSummaryList"]


@pytest.mark.usefixtures("server")
def test_no_token_no_trace_and_the_run_still_runs(emu: Emu, app_ctx: AppContext) -> None:
    """Without TOWER_ACCESS_TOKEN and ``tower.enabled`` Nextflow 24.10.5 does not load the
    plugin (PluginsFacade), even with TOWER_WORKFLOW_ID set: the run goes on, unreported."""
    env = {
        "TOWER_WORKFLOW_ID": "4fHk2LmQ9xZr7T",
        "TOWER_API_ENDPOINT": app_ctx.settings.effective_public_url,
    }
    job = emu.nextflow(config_text(emu), "-name untraced", env=env)
    text = "\n".join(emu.log(job))
    assert job["status"] == "SUCCEEDED", text
    assert "Seqera Platform" not in text


@pytest.mark.usefixtures("server")
def test_tower_enabled_without_a_token_aborts(emu: Emu, app_ctx: AppContext) -> None:
    """``tower.enabled`` with TOWER_WORKFLOW_ID set and no TOWER_ACCESS_TOKEN: 1.9.3 aborts
    (TowerClient.getAccessToken) — what a user's ``tower.enabled`` did to batchforge runs
    launched without a token."""
    env = {
        "TOWER_WORKFLOW_ID": "4fHk2LmQ9xZr7T",
        "TOWER_API_ENDPOINT": app_ctx.settings.effective_public_url,
    }
    config = config_text(emu) + "tower.enabled = true\n"
    job = emu.nextflow(config, "-name notoken", env=env)
    assert job["status"] == "FAILED"
    assert "Missing personal access token" in "\n".join(emu.log(job))
