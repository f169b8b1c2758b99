"""The head job's command survives the launcher image's ENTRYPOINT, checked with a real bash.

``nextflow/nextflow:24.10.5``'s ENTRYPOINT is ``docker/entry.sh`` (nextflow-io/nextflow, tag
v24.10.5): it wraps each argument as ``'$x' `` without escaping and runs the result with
``bash -c``; AWS Batch cannot override an image's entrypoint.  Any single quote in
``["bash", "-c", SCRIPT]`` ends the quoted word early (review finding 3).  These tests build
the exact text entry.sh builds (tests/runs/headjob_text.entry_sh_cli) and run it with bash,
with a stand-in ``nextflow`` on PATH that copies "S3" files from a local folder and records
what it was asked.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from batchforge.launch import headjob
from tests.runs.headjob_text import entry_sh_cli

BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")

WORK = "s3://bucket/work"
PRE_RUN = """echo "pre-run says: it's $((1 + 1))" > pre-run.out
printf '%s\\n' 'single' "double" > quotes.out
"""
POST_RUN = "echo 'post-run ran' > post-run.out\n"

# A stand-in for the `nextflow` launcher: `fs cp` maps s3://bucket/ to $FAKE_S3, `secrets set`
# and `run` append their arguments (one per line) to $FAKE_LOG.
FAKE_NEXTFLOW = r"""#!/usr/bin/env bash
set -u
local_of() { case "$1" in s3://bucket/*) echo "$FAKE_S3/${1#s3://bucket/}";; *) echo "$1";; esac; }
case "$1 $2" in
  "fs cp") src=$(local_of "$3"); dst=$(local_of "$4"); mkdir -p "$(dirname "$dst")"
           cp "$src" "$dst" ;;
  "secrets set") printf 'secret %s=%s\n' "$3" "$4" >> "$FAKE_LOG" ;;
  *) if [ "$1" = run ]; then printf 'run\n' >> "$FAKE_LOG"; printf 'arg %s\n' "$@" >> "$FAKE_LOG"
       echo log > .nextflow.log; exit "${FAKE_EXIT:-0}"; fi ;;
esac
"""


def _job(**fields: object) -> headjob.HeadJob:
    base: dict[str, object] = {
        "run_id": "Run1",
        "run_name": "my run",  # a space: Nextflow refuses it, but the command must not break
        "workspace_id": 7,
        "pipeline": "https://github.com/nextflow-io/hello",
        "revision": "v1.2",
        "work_dir": WORK,
        "region": "us-east-1",
        "head_queue": "head",
        "compute_queue": "work",
        "cli_path": None,
        "session_id": "0b9d5e8e-8d3c-4d3e-9b7a-1f4f1f4f1f4f",
        "params": {"greeting": 'it\'s "quoted"'},
        "launch_config": "process.memory = '2 GB'",
        "pre_run": PRE_RUN,
        "post_run": POST_RUN,
        "secret_names": ("TOKEN", "OTHER"),
    }
    base.update(fields)
    return headjob.HeadJob(**base)  # type: ignore[arg-type]


def _bash(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASH or "bash", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_a_command_with_single_quotes_breaks_under_entry_sh() -> None:
    """The old design: the script itself in the command.  Under entry.sh's re-quoting an odd
    number of quotes is a syntax error (exit 2, "unexpected EOF": what finding 3 saw), and an
    even number silently changes the words."""
    odd = entry_sh_cli(["bash", "-c", 'echo "it\'s"'])
    checked = subprocess.run([BASH or "bash", "-n", "-c", odd], capture_output=True, text=True)
    assert checked.returncode == 2 and "unexpected" in checked.stderr, checked
    even = entry_sh_cli(["bash", "-c", "echo 'a  b'"])
    ran = subprocess.run([BASH or "bash", "-c", even], capture_output=True, text=True)
    assert ran.stdout != "a  b\n"


def test_the_command_has_no_single_quote_and_parses_under_entry_sh() -> None:
    request = headjob.submit_request(_job(), "arn:aws:batch:us-east-1:1:job-definition/x:1")
    command = request["containerOverrides"]["command"]
    assert command == ["bash", "-c", headjob.BOOT_COMMAND]
    assert all("'" not in arg and '"' not in arg for arg in command)
    cli = entry_sh_cli(command)
    checked = subprocess.run([BASH or "bash", "-n", "-c", cli], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    # the bootstrap script parses too
    boot = base64.b64decode(headjob.boot_value(_job())).decode()
    checked = subprocess.run([BASH or "bash", "-n", "-c", boot], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize(("exit_status", "usrmap"), [(0, False), (3, False), (0, True)])
def test_the_command_runs_the_bootstrap_through_entry_sh(
    tmp_path: Path, exit_status: int, usrmap: bool
) -> None:
    """A run name with a space, a pre-run script with both quotes, two secrets: the command
    entry.sh builds (also through its NXF_USRMAP here-document) runs the bootstrap, which
    fetches the launch files, stores the secrets, runs the scripts and Nextflow with the
    right arguments, copies the log back and exits with Nextflow's status."""
    job = _job()
    fake_s3, bin_dir, launch_dir = tmp_path / "s3", tmp_path / "bin", tmp_path / "launch"
    for name, text in headjob.launch_files(job).items():  # what the launch service uploads
        target = fake_s3 / headjob.launch_uri(job, name).removeprefix("s3://bucket/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    bin_dir.mkdir()
    (bin_dir / "nextflow").write_text(FAKE_NEXTFLOW)
    (bin_dir / "nextflow").chmod(0o755)
    env = {e["name"]: e["value"] for e in headjob.environment(job)}
    env.update(
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        FAKE_S3=str(fake_s3),
        FAKE_LOG=str(tmp_path / "calls.log"),
        FAKE_EXIT=str(exit_status),
        BATCHFORGE_SECRET_TOKEN="tok'en value",
        BATCHFORGE_SECRET_OTHER='o"ther',
    )
    boot = base64.b64decode(env[headjob.BOOT_ENV]).decode()
    boot = boot.replace(headjob.LAUNCH_DIR, str(launch_dir))  # not /tmp of the test machine
    env[headjob.BOOT_ENV] = base64.b64encode(boot.encode()).decode()
    command = headjob.BOOT_COMMAND.replace(headjob.BOOT_FILE, str(tmp_path / "boot.sh"))
    cli = entry_sh_cli(["bash", "-c", command])
    if usrmap:  # entry.sh with NXF_USRMAP: `su nextflow << EOF` / exec bash -c "$cli" / EOF
        cli = f'exec bash -c "{cli}"'
    ran = _bash("-c", cli, env=env, cwd=tmp_path)
    assert ran.returncode == exit_status, ran.stderr
    assert headjob.SECRETS_NOTE in ran.stdout
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert "secret TOKEN=tok'en value" in calls and 'secret OTHER=o"ther' in calls
    args = [line.removeprefix("arg ") for line in calls if line.startswith("arg ")]
    pipeline = "https://github.com/nextflow-io/hello"
    assert args[:6] == ["run", pipeline, "-r", "v1.2", "-name", "my run"]
    assert args[6:10] == ["-c", "batchforge.config", "-params-file", "params.json"]
    assert (launch_dir / "pre-run.out").read_text() == "pre-run says: it's 2\n"
    assert (launch_dir / "quotes.out").read_text() == "single\ndouble\n"
    assert (launch_dir / "post-run.out").read_text() == "post-run ran\n"
    assert (launch_dir / "batchforge.config").read_text() == headjob.nextflow_config(job)
    log = fake_s3 / headjob.log_uri(job).removeprefix("s3://bucket/")
    assert log.read_text() == "log\n"


def test_a_missing_launch_file_stops_the_job_with_a_clear_message(tmp_path: Path) -> None:
    job = _job(secret_names=(), pre_run=None, post_run=None)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "nextflow").write_text(FAKE_NEXTFLOW)
    (bin_dir / "nextflow").chmod(0o755)
    boot = headjob.script(job).replace(headjob.LAUNCH_DIR, str(tmp_path / "launch"))
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_S3": str(tmp_path / "empty"),
        "FAKE_LOG": str(tmp_path / "calls.log"),
    }
    ran = _bash("-c", boot, env=env, cwd=tmp_path)
    assert ran.returncode == 1
    assert "could not copy the launch file" in ran.stderr and "s3:GetObject" in ran.stderr
    assert not (tmp_path / "calls.log").exists()  # nextflow run never started


def test_resume_environment_and_command() -> None:
    """Nextflow takes its session id from NXF_UUID (Session.groovy), skips the history check
    with NXF_IGNORE_RESUME_HISTORY=true (ScriptRunner.groovy, HistoryFile.groovy) and enables
    the cloud cache from NXF_CLOUDCACHE_PATH (ConfigBuilder.groovy), all v24.10.5."""
    job = _job(resume=True)
    env = {e["name"]: e["value"] for e in headjob.environment(job)}
    assert env["NXF_UUID"] == job.session_id
    assert env["NXF_IGNORE_RESUME_HISTORY"] == "true"
    assert env["NXF_CLOUDCACHE_PATH"] == f"{WORK}/batchforge/cache"
    assert f"-resume {job.session_id}" in headjob.command_line(job)


def test_run_names_follow_nextflows_rule() -> None:
    """CmdRun.RUN_NAME_PATTERN (case-insensitive) and the 'last' exception (v24.10.5)."""
    good = ["a", "my-run", "My_Run_2", "x" * 80, "a-b_c1"]
    bad = ["last", "", "1abc", "my run", "run-", "a--b", "a_-b", "x" * 81, "-a", "é"]
    assert all(headjob.valid_run_name(name) for name in good)
    assert not any(headjob.valid_run_name(name) for name in bad)
