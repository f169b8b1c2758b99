"""Launch rules that only real AWS, ECS and Nextflow enforce (review findings 4, 5, 9 and the
"also found" items): overrides size, launch files in S3, sessions and resume, run names,
unsupported Seqera fields, log group, file systems and compute-target variables."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.launch import headjob, jobdefs
from batchforge.local_aws import WORK_BUCKET, LocalAws
from batchforge.schemas.compute_envs import ComputeEnvOut
from batchforge.services import launches, run_tracker
from batchforge.services.context import AppContext
from tests.awsrules import aws_error
from tests.batchjobs import BatchJobs
from tests.factories import keys_credentials
from tests.runs.conftest import job_id_of, launcher, manual_env, run_row
from tests.runs.headjob_text import boot_script, env_of, launch_files


def _error(call: Callable[[], Any]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def _objects(aws: LocalAws, prefix: str = "work/batchforge/") -> int:
    listed = aws.boto_client("s3").list_objects_v2(Bucket=WORK_BUCKET, Prefix=prefix)
    return int(listed.get("KeyCount", 0))


def _env(api: BatchforgeClient, local_aws: LocalAws, **config: Any) -> Callable[..., str]:
    credentials_id = api.create_credentials(keys_credentials("aws"))
    return launcher(api, manual_env(api, local_aws, credentials_id, **config))


def test_overrides_over_ecs_limit_are_a_400_before_anything_exists_in_aws(
    api: BatchforgeClient, local_aws: LocalAws, jobs: BatchJobs
) -> None:
    """ECS refuses container overrides over 8,192 characters ("Container Overrides length
    must be at most 8192"; SubmitJob itself accepts them, Netflix/metaflow #977): refused at
    launch, naming the part that is too big, with nothing uploaded and no job definition."""
    launch = _env(api, local_aws, environment=[{"name": "BIG", "value": "x" * 8000, "head": True}])
    before = _objects(local_aws)
    error = _error(lambda: launch(configText="process.cpus = 1"))
    assert error.status == 400 and error.field == "launch.computeEnvId"
    assert "8,192" in error.message and "environment variables" in error.message
    assert jobs.calls["RegisterJobDefinition"] == 0 and jobs.calls["SubmitJob"] == 0
    assert jobs.calls["DescribeJobDefinitions"] == 0
    assert _objects(local_aws) == before


def test_a_big_config_no_longer_rides_in_the_overrides(
    launch: Callable[..., str], jobs: BatchJobs, local_aws: LocalAws
) -> None:
    """The review's case: 4 KiB of config + 2 KiB of params made 9,538 characters of
    overrides; the files now travel through S3 and the overrides stay small."""
    config = "// " + "c" * 4096
    params = '{"p": "' + "v" * 2048 + '"}'
    run_id = launch(configText=config, paramsText=params, preRunScript="echo pre")
    request = jobs.submits[0]
    size = headjob.overrides_size(request["containerOverrides"])
    assert size < 3000, size
    files = launch_files(local_aws, request)
    assert config in files["batchforge.config"]
    assert files["params.json"].count("v") >= 2048
    assert f"work/batchforge/{run_id}/launch/" in boot_script(request)


def test_sizes_the_api_accepts_are_capped(launch: Callable[..., str], jobs: BatchJobs) -> None:
    for field, limit in launches.MAX_TEXT.items():
        error = _error(lambda field=field, limit=limit: launch(**{field: "#" * (limit + 1)}))
        assert error.status == 400 and error.field == f"launch.{field}", field
        assert f"{limit:,}" in error.message
    assert jobs.calls["SubmitJob"] == 0


def test_an_upload_refusal_fails_the_run_and_submits_nothing(
    api: BatchforgeClient, app_ctx: AppContext, local_aws: LocalAws, jobs: BatchJobs
) -> None:
    denied = aws_error("AccessDenied", "Access Denied", 403)
    app_ctx.aws.event_hooks.append(("before-call.s3.PutObject", lambda **_: denied))
    launch = _env(api, local_aws)
    error = _error(launch)
    assert error.code == "launch-failed" and error.body["awsCall"] == "s3:PutObject"
    assert "could not upload the launch file batchforge.config" in error.message
    assert "s3:PutObject" in (error.hint or "")
    run = api.describe_workflow(error.body["workflowId"]).workflow
    assert run.status == "FAILED" and "s3:PutObject" in (run.errorMessage or "")
    assert jobs.calls["RegisterJobDefinition"] == 0 and jobs.calls["SubmitJob"] == 0


RUN_NAMES_REFUSED = ["my run", "last", "1abc", "run-", "a--b", "émile", "x" * 80 + "y"]


def test_run_names_nextflow_refuses_are_a_400(launch: Callable[..., str], jobs: BatchJobs) -> None:
    """Nextflow's CmdRun.RUN_NAME_PATTERN ``^[a-z](?:[a-z\\d]|[-_](?=[a-z\\d])){0,79}$``
    (case-insensitive) and not ``last`` (CmdRun.checkRunName, v24.10.5)."""
    for name in RUN_NAMES_REFUSED:
        error = _error(lambda name=name: launch(runName=name))
        assert error.status == 400 and error.field == "launch.runName", name
    assert jobs.calls["SubmitJob"] == 0
    launch(runName="My_Run-2")
    generated = launch()
    assert jobs.submits[-1]["jobName"] == f"nf-run-{generated[:8].lower()}-{generated}"
    assert headjob.valid_run_name(f"run-{generated[:8].lower()}")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"optimizationId": "abc"}, "launch.optimizationId"),
        ({"optimizationTargets": "cpu"}, "launch.optimizationTargets"),
        ({"towerConfig": "tower.enabled = true"}, "launch.towerConfig"),
        ({"syntaxParser": "v2"}, "launch.syntaxParser"),
    ],
)
def test_seqera_fields_batchforge_does_not_implement_are_refused(
    launch: Callable[..., str], jobs: BatchJobs, fields: dict[str, Any], field: str
) -> None:
    error = _error(lambda: launch(**fields))
    assert error.status == 400 and error.code == "unsupported" and error.field == field
    assert "not supported by batchforge" in error.message
    assert jobs.calls["SubmitJob"] == 0


def test_fields_tw_sends_back_are_honoured(launch: Callable[..., str], jobs: BatchJobs) -> None:
    """commitId pins the revision, outputDir is Nextflow's -output-dir (CmdRun, 24.10),
    syntaxParser v1 is Nextflow 24.10's only parser, id/dateCreated are metadata."""
    launch(
        commitId="0123abc",
        revision="main",
        outputDir="s3://bucket/results",
        syntaxParser="v1",
        id="someLaunchId",
        dateCreated=datetime.now(UTC).isoformat(),
    )
    script = boot_script(jobs.submits[-1])
    assert "-r 0123abc" in script and "-output-dir s3://bucket/results" in script


def test_a_resumed_launch_keeps_the_session_and_a_relaunch_gets_a_new_one(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs, app_ctx: AppContext
) -> None:
    """Nextflow's session id comes from NXF_UUID and -resume <id> reuses it (Session.groovy);
    Seqera's GET /workflow/{id}/launch gives the launch back with its sessionId."""
    first = launch(runName="first", revision="v1", paramsText="a: 1\n")
    session = run_row(app_ctx, first).session_id
    assert env_of(jobs.submits[-1])["NXF_UUID"] == session
    described = api.describe_workflow_launch(first)
    assert described.sessionId == session and described.resumeDir.endswith("/work")
    assert described.pipeline == "https://github.com/nextflow-io/hello"
    assert described.paramsText == "a: 1\n" and described.resumeCommitId == "v1"
    assert described.computeEnv is not None and described.computeEnv.id == described.computeEnvId

    resumed = api.relaunch_workflow(first)
    assert run_row(app_ctx, resumed).session_id == session
    assert run_row(app_ctx, resumed).resume is True
    env = env_of(jobs.submits[-1])
    assert env["NXF_UUID"] == session and env["NXF_IGNORE_RESUME_HISTORY"] == "true"
    assert f"-resume {session}" in boot_script(jobs.submits[-1])
    assert "-r v1" in boot_script(jobs.submits[-1])

    fresh = api.relaunch_workflow(first, resume=False)
    assert run_row(app_ctx, fresh).session_id != session
    assert "-resume" not in boot_script(jobs.submits[-1])
    # a sessionId without resume is not a resume (tw sends it so): a new session
    other = launch(sessionId=session)
    assert run_row(app_ctx, other).session_id != session


def test_resume_input_is_checked(launch: Callable[..., str], app_ctx: AppContext) -> None:
    first = launch()
    session = run_row(app_ctx, first).session_id
    error = _error(lambda: launch(resume=True, sessionId="not-a-uuid"))
    assert error.status == 400 and error.field == "launch.sessionId"
    error = _error(
        lambda: launch(resume=True, sessionId=session, workDir=f"s3://{WORK_BUCKET}/elsewhere")
    )
    assert error.status == 400 and error.field == "launch.workDir"
    assert "work directory of its session" in error.message
    unknown = str(uuid.uuid4())  # a session batchforge never ran: resumed as given
    resumed = launch(resume=True, sessionId=unknown)
    assert run_row(app_ctx, resumed).session_id == unknown


def test_describe_launch_of_an_unknown_run_is_404(api: BatchforgeClient) -> None:
    error = _error(lambda: api.describe_workflow_launch("nope"))
    assert error.status == 404


def test_log_group_and_compute_variables_reach_the_jobs(
    api: BatchforgeClient,
    local_aws: LocalAws,
    jobs: BatchJobs,
    app_ctx: AppContext,
) -> None:
    """A custom logGroup is the head job definition's awslogs group and the tasks'
    aws.batch.logsGroup (nf-amazon AwsBatchTaskHandler.getLogConfiguration); the run log is
    read from it.  Compute-target variables reach tasks through the config's env scope;
    head-target ones are the head job's environment."""
    group = f"/batchforge/test-{uuid.uuid4().hex[:6]}"
    launch = _env(
        api,
        local_aws,
        logGroup=group,
        environment=[
            {"name": "TASK_VAR", "value": "for tasks", "compute": True},
            {"name": "HEAD_VAR", "value": "for head", "head": True},
        ],
    )
    run_id = launch()
    request = jobs.submits[-1]
    definition = local_aws.boto_client("batch").describe_job_definitions(
        jobDefinitions=[request["jobDefinition"]]
    )["jobDefinitions"][0]["containerProperties"]
    assert definition["logConfiguration"] == {
        "logDriver": "awslogs",
        "options": {"awslogs-group": group, "awslogs-region": "us-east-1"},
    }
    config = launch_files(local_aws, request)["batchforge.config"]
    assert f"aws.batch.logsGroup = '{group}'" in config
    assert "env.TASK_VAR = 'for tasks'" in config and "HEAD_VAR" not in config
    env = env_of(request)
    assert env["HEAD_VAR"] == "for head" and "TASK_VAR" not in env

    logs = local_aws.boto_client("logs")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="head/default/abc")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="head/default/abc",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "N E X T F L O W"}],
    )
    jobs.set(job_id_of(app_ctx, run_id) or "", "RUNNING", log_stream="head/default/abc")
    run_tracker.run_cycle(app_ctx)
    assert api.workflow_log(run_id).entries == ["N E X T F L O W"]


def _env_out(config: dict[str, Any]) -> ComputeEnvOut:
    now = datetime.now(UTC)
    return ComputeEnvOut.model_validate(
        {
            "id": "ce1",
            "name": "fs",
            "platform": "aws-batch",
            "workspaceId": 1,
            "config": config,
            "status": "AVAILABLE",
            "dateCreated": now,
            "lastUpdated": now,
        }
    )


def test_file_systems_are_mounted_in_the_head_job_and_the_tasks() -> None:
    """EFS/FSx are mounted on the host only; the head job definition needs volumes and
    mountPoints, the tasks aws.batch.volumes (nf-amazon AwsBatchConfig.makeVols)."""
    env = _env_out(
        {
            "forge": {
                "type": "SPOT",
                "efsCreate": True,
                "efsMount": "/mnt/efs",
                "fsxName": "fsx1",
                "fsxSize": 1200,
                "fsxMount": "/fsx/",
            }
        }
    )
    volumes = launches._volumes(env)
    assert volumes == ("/mnt/efs", "/fsx")
    assert launches._volumes(_env_out({"forge": {"type": "EC2", "efsMount": "/mnt/efs"}})) == ()
    props = jobdefs.HeadJobDefinition("img", volumes=volumes).content()["containerProperties"]
    assert props["volumes"] == [
        {"name": "vol0", "host": {"sourcePath": "/mnt/efs"}},
        {"name": "vol1", "host": {"sourcePath": "/fsx"}},
    ]
    assert [m["containerPath"] for m in props["mountPoints"]] == ["/mnt/efs", "/fsx"]
    job = headjob.HeadJob(
        run_id="R",
        run_name="r",
        workspace_id=1,
        pipeline="p",
        revision=None,
        work_dir="s3://b/w",
        region="us-east-1",
        head_queue="h",
        compute_queue="c",
        cli_path=None,
        session_id=str(uuid.uuid4()),
        volumes=volumes,
    )
    assert "aws.batch.volumes = ['/mnt/efs', '/fsx']" in headjob.nextflow_config(job)
