"""Run files: the Nextflow log the head job copies to the work directory, downloaded through
the API and the CLI; bad file names, unknown runs, files not written yet, AWS refusals."""

from __future__ import annotations

import io
import re
import shlex
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from batchforge.cli.main import app
from batchforge.client import ApiError, BatchforgeClient
from batchforge.local_aws import LocalAws
from batchforge.services import run_tracker
from batchforge.services.context import AppContext
from tests.awsrules import aws_error
from tests.batchjobs import BatchJobs
from tests.cli.conftest import LiveServer, live_server  # noqa: F401 - the fixture
from tests.runs.conftest import job_id_of
from tests.runs.headjob_text import boot_script

LOG = b"Nov-25 10:00:00.000 [main] INFO  nextflow.cli.CmdRun - N E X T F L O W\n" * 200


def _log_uri(jobs: BatchJobs, run_id: str) -> str:
    """Where the head job's script copies the Nextflow log (what the job will really do)."""
    script = next(boot_script(s) for s in jobs.submits if run_id in s["jobName"])
    found = re.search(r"nextflow fs cp \.nextflow\.log (\S+) ", script)
    assert found is not None, script
    return shlex.split(found.group(1))[0]


def _write(aws: LocalAws, uri: str, body: bytes) -> None:
    """What the head job does when Nextflow exits: put the file in the work directory."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    aws.boto_client("s3").put_object(Bucket=bucket, Key=key, Body=body)


def _download(api: BatchforgeClient, run_id: str, file_name: str | None = None) -> bytes:
    sink = io.BytesIO()
    api.download_workflow_file(run_id, sink, file_name)
    return sink.getvalue()


def _error(call: Callable[[], Any]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def test_the_nextflow_log_is_streamed_from_the_runs_folder(
    api: BatchforgeClient,
    launch: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
) -> None:
    run_id = launch()
    uri = _log_uri(jobs, run_id)
    assert uri == f"s3://batchforge-local-work/work/batchforge/{run_id}/nextflow.log"
    assert api.describe_workflow(run_id).workflow.logFile == uri

    missing = _error(lambda: _download(api, run_id))
    assert missing.status == 404 and missing.code == "not-found"
    assert "not yet written: the head job copies it when Nextflow exits" in missing.message
    assert api.list_workflow_files(run_id).files == []

    _write(local_aws, uri, LOG)
    app_ctx.recorder.clear()
    assert _download(api, run_id) == LOG
    assert [c.name for c in app_ctx.recorder.calls] == ["s3:GetObject"]  # one call, streamed
    assert _download(api, run_id, "nextflow.log") == LOG
    assert _download(api, run_id, f"nf-{run_id}.log") == LOG  # the name `tw` asks for

    raw = api._http.get(f"/workflow/{run_id}/download")
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("text/plain")
    assert f'filename="nf-{run_id}.log"' in raw.headers["content-disposition"]
    assert raw.headers["x-content-type-options"] == "nosniff"
    part = api._http.get(f"/workflow/{run_id}/download", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == LOG[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(LOG)}"


def test_other_files_of_the_folder_are_listed_and_served_by_name(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, local_aws: LocalAws
) -> None:
    run_id, other = launch(), launch()
    uri = _log_uri(jobs, run_id)
    folder = uri.rsplit("/", 1)[0]
    _write(local_aws, uri, LOG)
    _write(local_aws, f"{folder}/timeline.html", b"<html></html>")
    _write(local_aws, f"{folder}/reports/deep.txt", b"not a file of the folder itself")
    _write(local_aws, _log_uri(jobs, other), b"the other run's log")

    listed = api.list_workflow_files(run_id)
    assert listed.folder == folder
    assert [(f.fileName, f.size) for f in listed.files] == [
        ("nextflow.log", len(LOG)),
        ("timeline.html", 13),
    ]
    assert _download(api, run_id, "timeline.html") == b"<html></html>"
    assert _download(api, other) == b"the other run's log"


BAD_NAMES = [
    "../nextflow.log",
    "..",
    "reports/deep.txt",
    "/etc/passwd",
    "s3://batchforge-local-work/work/x",
    "a\\b",
    "log\nname",
    "x" * 256,
]


def test_a_file_name_that_is_not_a_file_of_the_runs_folder_is_a_400(
    api: BatchforgeClient, launch: Callable[..., str], app_ctx: AppContext
) -> None:
    run_id = launch()
    app_ctx.recorder.clear()
    for name in BAD_NAMES:
        error = _error(lambda name=name: _download(api, run_id, name))
        assert error.status == 400 and error.field == "fileName", name
        assert error.message.startswith("fileName "), name
    assert app_ctx.recorder.calls == []  # refused before any AWS call


def test_unknown_run_is_a_404(api: BatchforgeClient, launch: Callable[..., str]) -> None:
    error = _error(lambda: _download(api, "0000000000000000000000"))
    assert error.status == 404 and "not found" in error.message
    assert _error(lambda: api.list_workflow_files("nope")).status == 404
    run_id = launch()
    api.delete_workflow(run_id, force=True)
    assert _error(lambda: _download(api, run_id)).status == 404


def test_a_finished_run_without_the_log_says_it_was_never_written(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    run_id = launch()
    jobs.set(job_id_of(app_ctx, run_id) or "", "FAILED", reason="Essential container exited")
    run_tracker.run_cycle(app_ctx)
    error = _error(lambda: _download(api, run_id))
    assert error.status == 404
    assert "not yet written" in error.message and "this run is over" in error.message
    assert "runs logs" in (error.hint or "")


def test_aws_refusals_are_named(
    api: BatchforgeClient, launch: Callable[..., str], app_ctx: AppContext
) -> None:
    # the launch itself uploads its files there first: refused, naming the call (the run is
    # FAILED, nothing submitted); its folder is then a named 404
    refused = _error(lambda: launch(workDir="s3://batchforge-no-such-bucket/work"))
    assert refused.body["awsCall"] == "s3:PutObject" and "NoSuchBucket" in refused.message
    gone = refused.body["workflowId"]
    error = _error(lambda: _download(api, gone))
    assert error.status == 404 and "batchforge-no-such-bucket" in error.message

    run_id = launch()
    denied = aws_error("AccessDenied", "Access Denied", 403)
    app_ctx.aws.event_hooks.append(("before-call.s3.GetObject", lambda **_: denied))
    from batchforge.aws.s3 import CLIENTS

    CLIENTS.clear()  # clients made before the hook was installed do not have it
    error = _error(lambda: _download(api, run_id))
    assert error.status == 403 and error.body["awsCall"] == "s3:GetObject"
    assert error.body["awsCode"] == "AccessDenied"


def test_a_work_directory_outside_s3_takes_no_launch(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs
) -> None:
    """Nextflow's awsbatch executor aborts unless the work dir is in S3 (nf-amazon
    AwsBatchExecutor.validateWorkDir, v24.10.5): a 400 at launch, not a run that dies."""
    error = _error(lambda: launch(workDir="/mnt/efs/work"))
    assert error.status == 400 and error.field == "launch.workDir"
    assert "/mnt/efs/work" in error.message and "S3" in error.message
    assert jobs.calls["SubmitJob"] == 0


def _cli(server: LiveServer, *args: str) -> Any:
    base = ["--url", server.url, "--token", server.token]
    return CliRunner().invoke(app, [*base, *args], env={"BATCHFORGE_URL": ""})


def test_cli_downloads_to_stdout_or_a_file_and_lists(
    live_server: LiveServer,  # noqa: F811
    launch: Callable[..., str],
    jobs: BatchJobs,
    local_aws: LocalAws,
    tmp_path: Any,
) -> None:
    run_id = launch()
    not_yet = _cli(live_server, "runs", "download", run_id)
    assert not_yet.exit_code == 1 and "not yet written" in not_yet.output
    uri = _log_uri(jobs, run_id)
    _write(local_aws, uri, LOG)
    _write(local_aws, uri.rsplit("/", 1)[0] + "/timeline.html", b"<html></html>")

    out = _cli(live_server, "runs", "download", run_id)
    assert out.exit_code == 0 and out.stdout_bytes == LOG
    target = tmp_path / "logs" / "run.log"
    saved = _cli(live_server, "runs", "download", run_id, "-o", str(target))
    assert saved.exit_code == 0 and target.read_bytes() == LOG
    assert str(target) in saved.output
    by_name = _cli(live_server, "runs", "download", run_id, "--file", "timeline.html")
    assert by_name.exit_code == 0 and by_name.stdout_bytes == b"<html></html>"
    listed = _cli(live_server, "runs", "download", run_id, "--list")
    assert listed.exit_code == 0 and "nextflow.log" in listed.output
    assert "timeline.html" in listed.output
    bad = _cli(live_server, "runs", "download", run_id, "--file", "../x")
    assert bad.exit_code == 1 and "fileName" in bad.output
    assert not (tmp_path / "x").exists()
