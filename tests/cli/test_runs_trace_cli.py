"""`batchforge runs view --processes|--tasks|--metrics`, `runs task` and `runs logs --task`
against a live server over HTTP, with a run reported through the real ``/trace/*`` receiver
as nf-tower reports a run launched with ``-with-tower`` (``tests/tracefeed.py``).  SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from batchforge.cli.main import app
from batchforge.client import BatchforgeClient
from batchforge.local_aws import WORK_BUCKET, LocalAws
from batchforge.services import run_tokens
from tests.batchjobs import BatchJobs
from tests.cli.conftest import LiveServer
from tests.factories import keys_credentials
from tests.runs.conftest import WORK_QUEUE, jobs, manual_env
from tests.tracefeed import FedRun, TraceFeed, batch_task, task_snapshot, workload

__all__ = ["jobs"]  # the Batch job layer's fixture, shared with tests/runs


def invoke(server: LiveServer, *args: str):
    return CliRunner().invoke(app, ["--url", server.url, "--token", server.token, *args], env={})


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ("BATCHFORGE_URL", "BATCHFORGE_TOKEN", "TOWER_API_ENDPOINT", "TOWER_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BATCHFORGE_DATA_DIR", str(tmp_path / "cli-data"))


@pytest.fixture
def feed(live_server: LiveServer) -> Iterator[TraceFeed]:
    sender = TraceFeed(live_server.url, live_server.token)
    yield sender
    sender.close()


@pytest.fixture
def reported(feed: TraceFeed) -> FedRun:
    """60 tasks over 3 processes, task 5 (SALMON_QUANT) failed, the run completed."""
    run = feed.create()
    feed.begin(run)
    feed.progress(run, workload(60))
    feed.complete(run, success=False)
    return run


def test_processes(live_server: LiveServer, reported: FedRun) -> None:
    summary = invoke(live_server, "runs", "view", reported.run_id)
    assert summary.exit_code == 0, summary.output
    assert "succeeded 59, failed 1" in summary.output
    shown = invoke(live_server, "runs", "view", reported.run_id, "--processes")
    assert shown.exit_code == 0, shown.output
    lines = {line.split()[1]: line for line in shown.output.splitlines() if "│ " in line}
    assert "20/20" in lines["FASTQC"] and "20/20" in lines["ALIGN_READS"]
    assert "19/20" in lines["NFCORE_RNASEQ:QUANTIFY:SALMON_QUANT"]
    assert "succeeded 59" in shown.output and "failed 1" in shown.output

    as_json = json.loads(
        invoke(live_server, "-o", "json", "runs", "view", reported.run_id, "--processes").output
    )
    progress = as_json["progress"]
    assert progress["workflowProgress"]["succeeded"] == 59
    assert progress["workflowProgress"]["failed"] == 1
    by_name = {p["process"]: p for p in progress["processesProgress"]}
    assert by_name["NFCORE_RNASEQ:QUANTIFY:SALMON_QUANT"]["failed"] == 1
    assert progress["totalProcesses"] == 3


def test_tasks_sorted_searched_paged(live_server: LiveServer, reported: FedRun) -> None:
    shown = invoke(
        live_server,
        "runs",
        "view",
        reported.run_id,
        "--tasks",
        "--max",
        "10",
        "--sort-by",
        "duration",
        "--sort-dir",
        "desc",
    )
    assert shown.exit_code == 0, shown.output
    assert "(1-10 of 60)" in shown.output
    rows = [line for line in shown.output.splitlines() if line.startswith("│ ")]
    longest = max(reported.tasks, key=lambda i: (reported.tasks[i]["duration"], -i))
    assert rows[0].split()[1] == str(longest) and len(rows) == 10
    assert "COMPLETED" in rows[0] and "job-" in rows[0]

    page = json.loads(
        invoke(
            live_server,
            "-o",
            "json",
            "runs",
            "view",
            reported.run_id,
            "--tasks",
            "--search",
            "fastqc",
            "--max",
            "5",
            "--offset",
            "5",
        ).output
    )
    assert page["total"] == 20
    assert [t["task"]["process"] for t in page["tasks"]] == ["FASTQC"] * 5
    assert [t["task"]["taskId"] for t in page["tasks"]] == [18, 21, 24, 27, 30]

    refused = invoke(live_server, "runs", "view", reported.run_id, "--tasks", "--sort-by", "nope")
    assert refused.exit_code == 1 and "sortBy" in refused.output


def test_metrics(live_server: LiveServer, reported: FedRun) -> None:
    shown = invoke(live_server, "runs", "view", reported.run_id, "--metrics")
    assert shown.exit_code == 0, shown.output
    rows = [line for line in shown.output.splitlines() if line.startswith("│ ")]
    cpu = [r for r in rows if "FASTQC" in r and "CPU (%)" in r]
    assert len(cpu) == 1 and "%" in cpu[0].split("CPU (%)")[1]
    assert any("ALIGN_READS" in r and "Memory (peak RSS)" in r and "MB" in r for r in rows)
    assert any("SALMON_QUANT" in r and "Duration" in r for r in rows)

    both = json.loads(
        invoke(
            live_server, "-o", "json", "runs", "view", reported.run_id, "--metrics", "--processes"
        ).output
    )
    assert set(both) == {"metrics", "progress"}
    assert {m["process"] for m in both["metrics"]} == {"FASTQC", "ALIGN_READS", "SALMON_QUANT"}
    assert both["metrics"][0]["cpu"]["q1"] <= both["metrics"][0]["cpu"]["q3"]


def test_metrics_before_completion(live_server: LiveServer, feed: TraceFeed) -> None:
    run = feed.create()
    feed.begin(run)
    feed.progress(run, workload(3))
    shown = invoke(live_server, "runs", "view", run.run_id, "--metrics")
    assert shown.exit_code == 0 and "No metrics for run" in shown.output


def test_one_task(live_server: LiveServer, reported: FedRun) -> None:
    shown = invoke(
        live_server,
        "runs",
        "task",
        reported.run_id,
        "5",
        "--execution-time",
        "--resources-requested",
        "--resources-usage",
    )
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith(f"Task 5 of run {reported.run_id}\n")
    for title in ("General", "Execution time", "Resources requested", "Resources usage"):
        assert f"\n{title}" in shown.output
    fields = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in shown.output.splitlines()
        if line.startswith("│ ")
    }
    sent = reported.tasks[5]
    assert fields["Status"] == "FAILED" and fields["Exit status"] == "1"
    assert fields["AWS Batch job"] == sent["nativeId"]
    assert fields["Memory"] == "4.0 GB" and fields["CPUs"] == "2"
    assert fields["Peak RSS"].endswith("MB") and fields["Submitted"].endswith("UTC")

    general_only = invoke(live_server, "runs", "task", reported.run_id, "5")
    assert "General" in general_only.output and "Peak RSS" not in general_only.output

    as_json = json.loads(
        invoke(live_server, "-o", "json", "runs", "task", reported.run_id, "5").output
    )
    assert as_json["task"]["taskId"] == 5 and as_json["task"]["peakRss"] == sent["peakRss"]

    missing = invoke(live_server, "runs", "task", reported.run_id, "999")
    assert missing.exit_code == 1 and "Task 999" in missing.output


def test_task_log_of_a_run_reported_from_elsewhere(
    live_server: LiveServer, reported: FedRun
) -> None:
    """A run launched elsewhere has no AWS credentials in batchforge: the task log cannot be
    read, and the CLI says why (no traceback)."""
    shown = invoke(live_server, "runs", "logs", reported.run_id, "--task", "5")
    assert shown.exit_code == 1, shown.output
    assert shown.output.startswith("Error: ") and "Traceback" not in shown.output


def test_task_log_and_file_of_a_launched_run(
    live_server: LiveServer, api: BatchforgeClient, local_aws: LocalAws, jobs: BatchJobs
) -> None:
    """A run batchforge launched reports with its run token; `runs logs --task` prints the
    task job's CloudWatch log, `runs download --task` a file of the task's work directory."""
    env = manual_env(api, local_aws, api.create_credentials(keys_credentials("cli-trace")))
    run_id = api.launch_workflow(
        {"computeEnvId": env, "pipeline": "https://github.com/nextflow-io/hello"}
    )
    job_id = batch_task(local_aws, jobs, run_id, WORK_QUEUE, ["first line", "second line"])
    local_aws.boto_client("s3").put_object(
        Bucket=WORK_BUCKET, Key=f"work/{run_id}/t1/.command.err", Body=b"warning: x\n"
    )
    feed = TraceFeed(live_server.url, run_tokens.issue(live_server.ctx, run_id))
    try:
        run = feed.create(workflow_id=run_id)
        feed.begin(run)
        snapshot = task_snapshot(1, "ALIGN_READS", "COMPLETED", 0)
        workdir = f"s3://{WORK_BUCKET}/work/{run_id}/t1"
        feed.progress(run, [snapshot | {"nativeId": job_id, "workdir": workdir}])
    finally:
        feed.close()

    shown = invoke(live_server, "runs", "logs", run_id, "--task", "1")
    assert shown.exit_code == 0, shown.output
    assert shown.output == "first line\nsecond line\n"

    err = invoke(live_server, "runs", "download", run_id, "--task", "1", "--file", ".command.err")
    assert err.exit_code == 0 and err.output == "warning: x\n"
    missing = invoke(live_server, "runs", "download", run_id, "--task", "1")  # .command.out
    assert missing.exit_code == 1 and ".command.out" in missing.output
    refused = invoke(live_server, "runs", "download", run_id, "--task", "1", "--file", "../x")
    assert refused.exit_code == 1 and "fileName" in refused.output
