"""Launching: the head job submitted once with the right content; bad input; AWS refusals."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.launch import headjob
from batchforge.local_aws import LocalAws
from batchforge.services.context import AppContext
from tests.batchjobs import BatchJobs
from tests.runs.conftest import HEAD_QUEUE, WORK_QUEUE, run_row
from tests.runs.headjob_text import boot_script, env_of, launch_files


def test_launch_submits_the_head_job_once_with_config_params_and_scripts(
    api: BatchforgeClient,
    launch: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
) -> None:
    """The launch files go to <workDir>/batchforge/<runId>/launch/ before SubmitJob; the
    command is the fixed bootstrap line (no single quote: docker/entry.sh re-quotes it)."""
    label = api.request(
        "POST", "/labels", json={"name": "team", "value": "genomics", "resource": True}
    ).json()
    run_id = launch(
        runName="my-run",
        revision="v1.2",
        paramsText="input: s3://bucket/x.csv\nsamples: 3\n",
        configText="process.memory = '2 GB'",
        configProfiles=["test", "docker"],
        preRunScript="echo pre",
        postRunScript="echo post",
        headJobCpus=4,
        headJobMemoryMb=8192,
        labelIds=[label["id"]],
        spotRetry=True,
    )
    assert len(jobs.submits) == 1
    request = jobs.submits[0]
    assert request["jobName"] == f"nf-my-run-{run_id}"
    assert request["jobQueue"] == HEAD_QUEUE
    overrides = request["containerOverrides"]
    assert overrides["command"] == ["bash", "-c", headjob.BOOT_COMMAND]
    assert "'" not in headjob.BOOT_COMMAND
    script = boot_script(request)
    files = launch_files(local_aws, request)
    prefix = f"s3://batchforge-local-work/work/batchforge/{run_id}/launch/"
    assert f"fetch {prefix}batchforge.config batchforge.config" in script
    config = files["batchforge.config"]
    assert "process.executor = 'awsbatch'" in config
    assert f"process.queue = '{WORK_QUEUE}'" in config
    assert "workDir = 's3://batchforge-local-work/work'" in config
    assert "aws.region = 'us-east-1'" in config
    # environment config, then the launch's: the launch wins
    assert config.index("process.cpus = 2") < config.index("process.memory = '2 GB'")
    assert '"samples": 3' in files["params.json"]
    assert files["pre-run.sh"] == "echo pre" and files["post-run.sh"] == "echo post"
    assert (
        "nextflow run https://github.com/nextflow-io/hello -r v1.2 -name my-run "
        "-c batchforge.config -params-file params.json -profile test,docker" in script
    )
    assert (
        script.index("bash pre-run.sh")
        < script.index("nextflow run")
        < script.index("bash post-run.sh")
    )
    assert "nextflow fs cp .nextflow.log" in script and script.rstrip().endswith("exit $status")
    env = env_of(request)
    row = run_row(app_ctx, run_id)
    assert env["NXF_UUID"] == row.session_id and env["NXF_IGNORE_RESUME_HISTORY"] == "true"
    assert env["NXF_CLOUDCACHE_PATH"] == "s3://batchforge-local-work/work/batchforge/cache"
    assert env["TOWER_WORKFLOW_ID"] == run_id
    assert env["TOWER_API_ENDPOINT"] == app_ctx.settings.effective_public_url
    assert not any("TOKEN" in name for name in env)
    assert "-with-tower" not in script
    assert {r["type"]: r["value"] for r in overrides["resourceRequirements"]} == {
        "VCPU": "4",
        "MEMORY": "8192",
    }
    assert request["tags"]["team"] == "genomics" and request["propagateTags"] is True
    assert request["retryStrategy"]["evaluateOnExit"][0] == {
        "onStatusReason": "Host EC2*",
        "action": "RETRY",
    }
    row = run_row(app_ctx, run_id)
    assert row.status == "SUBMITTED" and row.submit_state == "submitted"
    assert row.job_id == jobs.job_ids[request["jobName"]]
    described = api.describe_workflow(run_id)
    assert described.workflow.status == "SUBMITTED"
    assert described.workflow.params == {"input": "s3://bucket/x.csv", "samples": 3}
    assert described.jobInfo is not None and described.jobInfo.operationId == row.job_id


def test_job_definition_is_registered_once_and_reused_by_content_hash(
    launch: Callable[..., str], jobs: BatchJobs, local_aws
) -> None:
    image = f"nextflow/nextflow:{uuid.uuid4().hex[:8]}"  # content no earlier test registered
    for _ in range(3):
        launch(launchContainer=image)
    assert jobs.calls["RegisterJobDefinition"] == 1
    assert jobs.calls["SubmitJob"] == 3
    definitions = {s["jobDefinition"] for s in jobs.submits}
    assert len(definitions) == 1
    name = definitions.pop().split("/")[-1].split(":")[0]
    described = local_aws.boto_client("batch").describe_job_definitions(jobDefinitionName=name)
    mine = described["jobDefinitions"]
    assert len(mine) == 1 and name.startswith("batchforge-nf-head-")
    assert mine[0]["parameters"]["batchforge-hash"] in mine[0]["jobDefinitionName"]
    assert mine[0]["containerProperties"]["jobRoleArn"].endswith("role/head-role")
    assert mine[0]["containerProperties"]["image"].startswith("nextflow/nextflow:")


def test_an_existing_definition_is_found_after_a_restart(
    launch: Callable[..., str], jobs: BatchJobs
) -> None:
    from batchforge.launch import jobdefs

    image = f"nextflow/nextflow:{uuid.uuid4().hex[:8]}"
    launch(launchContainer=image)
    jobdefs.clear_cache()  # a new process
    launch(launchContainer=image)
    assert jobs.calls["RegisterJobDefinition"] == 1
    assert jobs.calls["DescribeJobDefinitions"] == 2


BAD_INPUT = [
    ({"headJobMemoryMb": 512}, "launch.headJobMemoryMb", "minimum of 1024"),
    ({"headJobCpus": 0}, "launch.headJobCpus", "at least 1"),
    ({"paramsText": "a: 1\nb: [unclosed\n"}, "launch.paramsText", "line 3, column 1"),
    ({"paramsText": '{"a": 1,\n "b": }'}, "launch.paramsText", "line 2, column 7"),
    ({"paramsText": "- just\n- a list\n"}, "launch.paramsText", "mapping"),
    ({"pipeline": ""}, "launch.pipeline", "required"),
    ({"resume": True}, "launch.sessionId", "session id"),
    ({"labelIds": [999999]}, "launch.labelIds[0]", "does not exist"),
]


def test_bad_launch_input_is_a_400_naming_the_field(
    launch: Callable[..., str], jobs: BatchJobs
) -> None:
    for fields, field, words in BAD_INPUT:
        with pytest.raises(ApiError) as caught:
            launch(**fields)
        assert caught.value.status == 400, fields
        assert caught.value.field == field, fields
        assert words in caught.value.message, (fields, caught.value.message)
    assert jobs.calls["SubmitJob"] == 0


def test_unknown_environment_and_pipeline_are_404(
    api: BatchforgeClient, launch: Callable[..., str]
) -> None:
    with pytest.raises(ApiError) as caught:
        launch(computeEnvId="nope")
    assert caught.value.status == 404
    with pytest.raises(ApiError) as caught:
        api.launch_pipeline(424242)
    assert caught.value.status == 404


def test_an_environment_that_is_not_available_takes_no_launch(
    api: BatchforgeClient, env_id: str, launch: Callable[..., str], jobs: BatchJobs
) -> None:
    api.request("POST", f"/compute-envs/{env_id}/disable", json={})
    with pytest.raises(ApiError) as caught:
        launch()
    assert caught.value.status == 409
    assert caught.value.field == "launch.computeEnvId" and "DISABLED" in caught.value.message
    assert jobs.calls["SubmitJob"] == 0


def test_aws_refusing_the_job_fails_the_run_with_the_call_and_reason(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs
) -> None:
    jobs.fail_next("SubmitJob", "ClientException", "Job queue is DISABLED")
    with pytest.raises(ApiError) as caught:
        launch()
    assert caught.value.code == "launch-failed"
    assert caught.value.body["awsCall"] == "batch:SubmitJob"
    run_id = caught.value.body["workflowId"]
    run = api.describe_workflow(run_id).workflow
    assert run.status == "FAILED"
    assert "batch:SubmitJob" in (run.errorMessage or "")
    assert "Job queue is DISABLED" in (run.errorMessage or "")


def test_a_failing_job_definition_registration_fails_the_run_before_submitting(
    api: BatchforgeClient, launch: Callable[..., str], jobs: BatchJobs
) -> None:
    jobs.deny("RegisterJobDefinition")
    with pytest.raises(ApiError) as caught:
        launch(launchContainer=f"nextflow/nextflow:{uuid.uuid4().hex[:8]}")
    run = api.describe_workflow(caught.value.body["workflowId"]).workflow
    assert run.status == "FAILED" and "RegisterJobDefinition" in (run.errorMessage or "")
    assert jobs.calls["SubmitJob"] == 0


def test_pipelines_crud_and_launch(api: BatchforgeClient, env_id: str, jobs: BatchJobs) -> None:
    created = api.create_pipeline(
        "hello",
        {
            "computeEnvId": env_id,
            "pipeline": "https://github.com/nextflow-io/hello",
            "revision": "main",
        },
        description="hello world",
    )
    assert created.computeEnv is not None and created.computeEnv.id == env_id
    with pytest.raises(ApiError) as caught:
        api.create_pipeline("hello", {"pipeline": "https://github.com/x/y"})
    assert caught.value.status == 409
    assert [p.name for p in api.list_pipelines()] == ["hello"]
    updated = api.update_pipeline(created.pipelineId, description="changed")
    assert updated.description == "changed"
    assert api.describe_pipeline_launch(created.pipelineId).revision == "main"
    run_id = api.launch_pipeline(created.pipelineId, {"runName": "from-pipeline"})
    assert jobs.submits[0]["jobName"] == f"nf-from-pipeline-{run_id}"
    assert "-r main" in boot_script(jobs.submits[0])
    api.delete_pipeline(created.pipelineId)
    assert api.list_pipelines() == []
    with pytest.raises(ApiError) as caught:
        api.describe_pipeline(created.pipelineId)
    assert caught.value.status == 404
