"""The nextflow stand-in, run inside executing head jobs (batchforge.emulator.standin)."""

from __future__ import annotations

import time
import uuid

from batchforge.emulator.standin import LABEL
from batchforge.emulator.standin_run import WORK_DIR_RULE
from batchforge.local_aws import WORK_BUCKET
from tests.emulator.conftest import Emu, config_text, head_role_policy, make_role

HISTORY_OFF = {"NXF_IGNORE_RESUME_HISTORY": "true"}


def test_run_submits_tasks_with_the_head_job_role(emu: Emu) -> None:
    """nf-amazon AwsBatchTaskHandler: a job definition with jobRoleArn/executionRoleArn,
    task jobs named tw-<TOWER_WORKFLOW_ID>-<task name> on process.queue."""
    env = {"TOWER_WORKFLOW_ID": "wf123", "NXF_UUID": str(uuid.uuid4()), **HISTORY_OFF}
    job = emu.nextflow(config_text(emu), "-name good-run", env, {"standin_tasks": 2})
    lines = emu.log(job)
    assert job["status"] == "SUCCEEDED", lines
    assert lines[0] == LABEL
    batch = emu.aws.boto_client("batch")
    tasks = [
        j
        for status in ("SUCCEEDED", "RUNNING", "RUNNABLE")
        for j in batch.list_jobs(jobQueue=emu.work_queue, jobStatus=status)["jobSummaryList"]
    ]
    assert sorted(t["jobName"] for t in tasks) == ["tw-wf123-STANDIN_1", "tw-wf123-STANDIN_2"]
    definition = batch.describe_job_definitions(jobDefinitionName="nf-quay-io-nextflow-bash")[
        "jobDefinitions"
    ][0]["containerProperties"]
    assert definition["jobRoleArn"] == emu.role == definition["executionRoleArn"]
    calls = emu.aws.standin_calls()
    assert {c["principal"] for c in calls} == {emu.role}
    names = [c["operation"] for c in calls]
    assert "RegisterJobDefinition" in names and names.count("SubmitJob") == 2
    assert all(c["denied"] is None for c in calls)


def test_denied_pass_role_fails_the_run(emu: Emu) -> None:
    """RegisterJobDefinition with a role is checked as iam:PassRole with
    iam:PassedToService = batch.amazonaws.com (review finding 1): a head role that may pass
    roles only to ecs-tasks.amazonaws.com fails the run with AccessDenied."""
    role = make_role(emu.aws, head_role_policy(pass_to="ecs-tasks.amazonaws.com"))
    emu.role = role
    job = emu.nextflow(
        config_text(emu), "-name denied-run", HISTORY_OFF, definition=emu.definition(role=role)
    )
    text = "\n".join(emu.log(job))
    assert job["status"] == "FAILED", text
    assert job["container"]["exitCode"] == 1
    assert "Error executing process > 'STANDIN (1)'" in text
    assert "iam:PassRole" in text and "AccessDenied" in text
    denied = [c for c in emu.aws.standin_calls() if c["denied"]]
    assert [c["operation"] for c in denied] == ["RegisterJobDefinition"]


def test_run_name_nextflow_refuses(emu: Emu) -> None:
    """CmdRun.checkRunName: ^[a-z](?:[a-z\\d]|[-_](?=[a-z\\d])){0,79}$ and not `last`."""
    job = emu.nextflow(config_text(emu), "-name Bad--name", HISTORY_OFF)
    text = "\n".join(emu.log(job))
    assert job["status"] == "FAILED" and job["container"]["exitCode"] == 1
    assert "Not a valid run name: `Bad--name` -- It must match the pattern" in text
    job = emu.nextflow(config_text(emu), "-name last", HISTORY_OFF)
    assert "Not a valid run name: `last`" in "\n".join(emu.log(job))
    assert emu.aws.standin_calls() == []


def test_non_s3_work_dir_is_refused(emu: Emu) -> None:
    """AwsBatchExecutor.validateWorkDir: the work dir (or -bucket-dir) must be in S3
    (review finding 6)."""
    job = emu.nextflow(config_text(emu, workDir="/mnt/efs/work"), "-name efs-run", HISTORY_OFF)
    assert job["status"] == "FAILED"
    assert WORK_DIR_RULE in "\n".join(emu.log(job))
    ok = emu.nextflow(
        config_text(emu, workDir="/mnt/efs/work"),
        f"-name bucket-run -bucket-dir s3://{WORK_BUCKET}/scratch",
        HISTORY_OFF,
    )
    assert ok["status"] == "SUCCEEDED", emu.log(ok)


def test_resume_in_a_fresh_container(emu: Emu) -> None:
    """ScriptRunner.verifyAndTrackHistory: -resume <id> needs the id in .nextflow/history,
    which a fresh container lacks (review finding 5); with NXF_IGNORE_RESUME_HISTORY=true and
    a cloud cache (NXF_CLOUDCACHE_PATH, nf-cloudcache CloudCacheStore) the second container
    finds the first one's tasks and does not submit them again."""
    session = str(uuid.uuid4())
    fresh = emu.nextflow(config_text(emu), f"-name resume-a -resume {session}")
    assert fresh["status"] == "FAILED"
    assert (
        f"Can't find a run with the specified id: {session} -- Execution can't be resumed"
        in "\n".join(emu.log(fresh))
    )

    cache = {"NXF_CLOUDCACHE_PATH": f"s3://{WORK_BUCKET}/work/.cache", **HISTORY_OFF}
    first = emu.nextflow(config_text(emu), "-name resume-b", {"NXF_UUID": session, **cache})
    assert first["status"] == "SUCCEEDED", emu.log(first)
    submitted = [c for c in emu.aws.standin_calls() if c["operation"] == "SubmitJob"]
    assert len(submitted) == 1
    keys = emu.aws.boto_client("s3").list_objects_v2(
        Bucket=WORK_BUCKET, Prefix=f"work/.cache/{session}/"
    )
    assert any(k["Key"].endswith("index.resume-b") for k in keys["Contents"])

    again = emu.nextflow(
        config_text(emu), f"-name resume-c -resume {session}", {"NXF_UUID": session, **cache}
    )
    lines = emu.log(again)
    assert again["status"] == "SUCCEEDED", lines
    assert any("Cached process > STANDIN (1)" in line for line in lines)
    submitted = [c for c in emu.aws.standin_calls() if c["operation"] == "SubmitJob"]
    assert len(submitted) == 1

    no_id = emu.nextflow(config_text(emu), "-name resume-d -resume", cache)
    assert "The resume session id should be specified via `-resume` option" in "\n".join(
        emu.log(no_id)
    )


def test_exit_status_knob_and_unreadable_config(emu: Emu) -> None:
    """standin_exit_status sets the exit status; a config line the stand-in cannot read fails
    loudly, naming the line."""
    job = emu.nextflow(config_text(emu), "-name exit-run", HISTORY_OFF, {"standin_exit_status": 3})
    assert job["status"] == "FAILED" and job["container"]["exitCode"] == 3
    job = emu.nextflow(config_text(emu) + "includeConfig 'other.config'\n", "-name x1", HISTORY_OFF)
    text = "\n".join(emu.log(job))
    assert job["status"] == "FAILED"
    assert "nf.config:7: the batchforge Nextflow stand-in cannot read `includeConfig" in text
    job = emu.nextflow(config_text(emu), "-name x2 -profile nope", HISTORY_OFF)
    assert "Unknown configuration profile: 'nope'" in "\n".join(emu.log(job))


def test_terminating_the_head_job_terminates_its_task_jobs(emu: Emu) -> None:
    """Nextflow kills its tasks when it is stopped (nf-amazon AwsBatchTaskHandler.kill:
    TerminateJob 'Job killed by NF'): TerminateJob of the head job leaves no task RUNNING."""
    import base64

    config = base64.b64encode(config_text(emu).encode()).decode()
    script = (
        'printf %s "$NF_CONFIG" | base64 -d > nf.config && '
        "nextflow run hello -name held -c nf.config --standin_tasks 2 --standin_task_seconds 300"
    )
    head = emu.submit(["bash", "-c", script], {"NF_CONFIG": config, **HISTORY_OFF})
    batch = emu.aws.boto_client("batch")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        running = batch.list_jobs(jobQueue=emu.work_queue, jobStatus="RUNNING")["jobSummaryList"]
        if len(running) == 2:
            break
        time.sleep(0.3)
    assert len(running) == 2
    batch.terminate_job(jobId=head, reason="cancelled by the test")
    assert emu.wait(head)["status"] == "FAILED"
    for task in running:
        job = emu.wait(task["jobId"], timeout=120)
        assert job["status"] == "FAILED" and job["statusReason"] == "Job killed by NF"
    assert sum(c["operation"] == "TerminateJob" for c in emu.aws.standin_calls()) == 2
