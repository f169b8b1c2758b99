"""The executing emulator: head jobs really run their command (batchforge.emulator.executor)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from batchforge.emulator.container import OVERRIDES_REASON, entrypoint_script
from batchforge.local_aws import LocalAws
from tests.emulator.conftest import Emu


def test_entrypoint_requoting_breaks_single_quotes(emu: Emu) -> None:
    """nextflow v24.10.5 docker/entry.sh wraps each argument as '$x' without escaping and runs
    ``bash -c`` (real-aws-review.md finding 3): an odd single quote ends in "unexpected EOF"
    (exit 2); a single-quoted text with a space cuts the script at the space; the same
    command without quotes runs whole."""
    broken = emu.wait(emu.submit(["bash", "-c", 'echo "it\'s"; echo after']))
    assert broken["status"] == "FAILED"
    assert broken["container"]["exitCode"] == 2
    assert broken["statusReason"] == "Essential container in task exited"
    assert any("unexpected EOF" in line for line in emu.log(broken)), emu.log(broken)

    cut = emu.wait(emu.submit(["bash", "-c", "echo 'hello world' && echo after"]))
    assert emu.log(cut) == ["hello"]

    fine = emu.wait(emu.submit(["bash", "-c", "echo hello world && echo after"]))
    assert fine["status"] == "SUCCEEDED", fine
    assert fine["container"]["exitCode"] == 0
    assert emu.log(fine) == ["hello world", "after"]


def test_entrypoint_script_is_entry_sh_quoting() -> None:
    """entry.sh: ``cli+="'$x' "`` for each argument, no escaping."""
    assert entrypoint_script(["bash", "-c", "echo 'a b'"]) == "'bash' '-c' 'echo 'a b'' "


def test_overrides_over_ecs_limit_fail_after_submission(emu: Emu) -> None:
    """ECS RunTask refuses container overrides over 8,192 characters; SubmitJob accepted them,
    so the job FAILS (Netflix/metaflow #977; ECS API reference, RunTask ``overrides``)."""
    job = emu.wait(emu.submit(["bash", "-c", "echo never"], {"BIG": "x" * 8200}))
    assert job["status"] == "FAILED"
    assert (
        job["statusReason"]
        == OVERRIDES_REASON
        == ("Container Overrides length must be at most 8192")
    )


def test_head_job_sees_role_credentials_secrets_and_emulator(emu: Emu) -> None:
    """ECS hands the container the job role's temporary credentials and the definition's
    secrets resolved from Secrets Manager (ECS developer guide, "Task IAM role",
    "Pass sensitive data to a container")."""
    sm = emu.aws.boto_client("secretsmanager")
    arn = sm.create_secret(Name="bf-emu-secret", SecretString="s3cr3t-value")["ARN"]
    definition = emu.definition(secrets=[{"name": "MY_SECRET", "valueFrom": arn}])
    script = (
        'test -n "$AWS_SESSION_TOKEN" && echo token-ok; echo secret=$MY_SECRET; '
        "echo endpoint=$AWS_ENDPOINT_URL; echo job=$AWS_BATCH_JOB_ID"
    )
    job = emu.wait(emu.submit(["bash", "-c", script], definition=definition))
    lines = emu.log(job)
    assert job["status"] == "SUCCEEDED", lines
    assert "token-ok" in lines and "secret=s3cr3t-value" in lines
    assert f"endpoint={emu.aws.url}" in lines and f"job={job['jobId']}" in lines


def test_job_goes_through_runnable_starting_running(emu: Emu) -> None:
    """Batch job states: RUNNABLE -> STARTING -> RUNNING -> SUCCEEDED (AWS Batch user guide,
    "Job states"); RUNNING carries startedAt and the log stream."""
    job_id = emu.submit(["bash", "-c", "sleep 2; echo done"])
    running = emu.wait(job_id, ("RUNNING",), timeout=120)
    assert running["container"]["logStreamName"].endswith(job_id)
    assert emu.wait(job_id)["status"] == "SUCCEEDED"


def test_terminate_kills_the_process_group(emu: Emu, tmp_path: Path) -> None:
    """TerminateJob stops a RUNNING job's container: FAILED with the given reason, and no
    process of it is left (AWS Batch API reference, TerminateJob)."""
    pid_file = tmp_path / "pid"
    script = f"echo $$ > {pid_file}; sleep 300 & echo $! >> {pid_file}; wait"
    job_id = emu.submit(["bash", "-c", script])
    emu.wait(job_id, ("RUNNING",), timeout=120)
    deadline = time.monotonic() + 120
    while len(pid_file.read_text().split() if pid_file.exists() else []) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    emu.aws.boto_client("batch").terminate_job(jobId=job_id, reason="stopped by the test")
    job = emu.wait(job_id, timeout=60)
    assert job["status"] == "FAILED"
    assert job["statusReason"] == "stopped by the test"
    for pid in map(int, pid_file.read_text().split()):
        deadline = time.monotonic() + 120
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid), f"process {pid} survived TerminateJob"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def test_task_jobs_stay_running_for_their_seconds(emu: Emu) -> None:
    """Untagged jobs (the stand-in's tasks) are not executed: RUNNING for
    BATCHFORGE_STANDIN_TASK_SECONDS, or until terminated."""
    held = emu.submit(["true"], {"BATCHFORGE_STANDIN_TASK_SECONDS": "300"}, head=False)
    emu.wait(held, ("RUNNING",), timeout=120)
    emu.aws.boto_client("batch").terminate_job(jobId=held, reason="cancelled")
    assert emu.wait(held)["statusReason"] == "cancelled"
    quick = emu.submit(["true"], head=False)
    assert emu.wait(quick)["status"] == "SUCCEEDED"


def test_missing_custom_log_group_fails_the_job(emu: Emu) -> None:
    """The awslogs driver needs an existing group unless awslogs-create-group is true
    (ECS developer guide, "Using the awslogs log driver")."""
    definition = emu.definition(
        logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": "/bf/none"}}
    )
    job = emu.wait(emu.submit(["bash", "-c", "echo hi"], definition=definition))
    assert job["status"] == "FAILED"
    assert "The specified log group does not exist: /bf/none" in job["statusReason"]
    emu.aws.boto_client("logs").create_log_group(logGroupName="/bf/custom")
    definition = emu.definition(
        logConfiguration={"logDriver": "awslogs", "options": {"awslogs-group": "/bf/custom"}}
    )
    job = emu.wait(emu.submit(["bash", "-c", "echo custom"], definition=definition))
    assert emu.log(job, group="/bf/custom") == ["custom"]


def test_execution_off_after_reset_jobs_succeed_at_once(aws: LocalAws, emu: Emu) -> None:
    """LocalAws.reset() turns execution off: moto's simple mode (SUCCEEDED at once)."""
    aws.reset()
    assert aws.info()["execution"] is False
    assert aws.standin_calls() == []
    from tests.runs.conftest import make_queues

    make_queues(aws)
    job_id = emu.submit(["bash", "-c", "exit 3"])
    assert emu.describe(job_id)["status"] == "SUCCEEDED"
