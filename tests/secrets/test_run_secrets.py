"""Per-run Secrets Manager copies: made at launch, handed to the head job through its job
definition, and deleted whatever way the run ends — even after a crash."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.db import models
from batchforge.launch import secrets as run_copies
from batchforge.launch.headjob import SECRETS_NOTE
from batchforge.local_aws import LocalAws
from batchforge.services import run_secrets, run_tracker
from batchforge.services.context import AppContext
from tests.awsrules import SimulatedCrash
from tests.batchjobs import BatchJobs
from tests.runs.conftest import expire_leases, job_id_of, run_row
from tests.runs.headjob_text import boot_script
from tests.secrets.conftest import EXECUTION_ROLE, SecretsFaults, copies_in_aws

WS_VALUE, USER_VALUE, OTHER_VALUE = "ws-value-91ac", "user-value-5e0b", "other-value-c3d2"


@pytest.fixture
def stored(api: BatchforgeClient) -> None:
    api.create_secret("TOKEN", WS_VALUE)
    api.create_secret("OTHER", OTHER_VALUE)
    api.create_secret("TOKEN", USER_VALUE, user=True)


def test_launch_copies_secrets_and_hands_them_over_by_arn_only(
    api: BatchforgeClient,
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    local_aws: LocalAws,
    stored: None,
    recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    run_id = launch_with(workspaceSecrets=["TOKEN", "OTHER"], userSecrets=["TOKEN"])
    copies = copies_in_aws(local_aws, run_id)
    # the user's TOKEN overrides the workspace's; names carry the run and the tower- prefix
    assert copies == {
        f"tower-batchforge-{run_id}-OTHER": OTHER_VALUE,
        f"tower-batchforge-{run_id}-TOKEN": USER_VALUE,
    }
    request = jobs.submits[0]
    definition = local_aws.boto_client("batch").describe_job_definitions(
        jobDefinitions=[request["jobDefinition"]]
    )["jobDefinitions"][0]
    props = definition["containerProperties"]
    assert props["executionRoleArn"] == EXECUTION_ROLE
    handed = {s["name"]: s["valueFrom"] for s in props["secrets"]}
    assert set(handed) == {"BATCHFORGE_SECRET_OTHER", "BATCHFORGE_SECRET_TOKEN"}
    assert all(arn.startswith("arn:aws:secretsmanager:us-east-1:") for arn in handed.values())
    assert (
        handed["BATCHFORGE_SECRET_TOKEN"]
        .split(":secret:")[1]
        .startswith(f"tower-batchforge-{run_id}-TOKEN")
    )
    script = boot_script(request)
    assert SECRETS_NOTE in script  # one plain line: tasks get no secrets (finding 11)
    assert 'nextflow secrets set TOKEN "${BATCHFORGE_SECRET_TOKEN}"' in script
    everything = repr(request) + repr(definition) + caplog.text
    everything += repr([call.params for call in recorder.calls])
    for value in (WS_VALUE, USER_VALUE, OTHER_VALUE):
        assert value not in everything  # not in the job, its definition, logs or the recorder
    assert any(
        call.operation == "CreateSecret" and call.params["SecretString"] == "***"
        for call in recorder.calls
    )


@pytest.mark.parametrize("ending", ["SUCCEEDED", "FAILED", "CANCELLED", "UNKNOWN"])
def test_secrets_are_deleted_whatever_the_final_state(
    api: BatchforgeClient,
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
    stored: None,
    ending: str,
) -> None:
    run_id = launch_with(workspaceSecrets=["TOKEN", "OTHER"])
    job_id = job_id_of(app_ctx, run_id) or ""
    jobs.set(job_id, "RUNNING")
    run_tracker.run_cycle(app_ctx)
    assert len(copies_in_aws(local_aws, run_id)) == 2  # a running run keeps them
    if ending == "CANCELLED":
        api.cancel_workflow(run_id)
    elif ending == "UNKNOWN":
        jobs.vanish(job_id)
    else:
        jobs.set(job_id, ending, exit_code=0 if ending == "SUCCEEDED" else 1)
    stats = run_tracker.run_cycle(app_ctx)
    assert api.describe_workflow(run_id).workflow.status == ending
    assert stats.secrets_cleaned == 1
    assert copies_in_aws(local_aws, run_id) == {}
    assert run_row(app_ctx, run_id).secrets_state == "deleted"
    assert run_tracker.run_cycle(app_ctx).secrets_cleaned == 0  # done once


def test_a_launch_failing_half_way_leaves_no_secret_and_creates_no_job(
    api: BatchforgeClient,
    sm_faults: SecretsFaults,
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
    stored: None,
) -> None:
    sm_faults.fail_call("CreateSecret", 2, "LimitExceededException", "too many secrets")
    with pytest.raises(ApiError) as error:
        launch_with(workspaceSecrets=["TOKEN", "OTHER"])
    assert "secretsmanager:CreateSecret" in error.value.message
    run_id = error.value.body["workflowId"]
    run = api.describe_workflow(run_id).workflow
    assert run.status == "FAILED" and "LimitExceededException" in (run.errorMessage or "")
    assert jobs.calls["SubmitJob"] == 0
    assert sm_faults.calls["CreateSecret"] == 2 and sm_faults.calls["DeleteSecret"] == 2
    assert copies_in_aws(local_aws, run_id) == {}
    assert run_row(app_ctx, run_id).secrets_state == "deleted"


def test_a_refused_submit_deletes_the_secrets(
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
    stored: None,
) -> None:
    jobs.fail_next("SubmitJob", "ClientException", "queue is DISABLED")
    with pytest.raises(ApiError) as error:
        launch_with(workspaceSecrets=["TOKEN"])
    run_id = error.value.body["workflowId"]
    assert copies_in_aws(local_aws, run_id) == {}
    assert run_row(app_ctx, run_id).status == "FAILED"


def test_a_crash_between_secrets_and_submit_leaves_nothing_after_restart(
    api: BatchforgeClient,
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
    stored: None,
) -> None:
    jobs.crash_before("SubmitJob")
    with pytest.raises(SimulatedCrash):
        launch_with(workspaceSecrets=["TOKEN", "OTHER"])
    with app_ctx.db.transaction() as session:
        run_id = session.query(models.Run).one().id
    assert len(copies_in_aws(local_aws, run_id)) == 2
    run_tracker.run_cycle(app_ctx)  # the launcher may still be alive: its lease holds
    assert len(copies_in_aws(local_aws, run_id)) == 2
    expire_leases(app_ctx)  # restart after the lease expired
    run_tracker.run_cycle(app_ctx)
    assert api.describe_workflow(run_id).workflow.status == "FAILED"
    assert copies_in_aws(local_aws, run_id) == {}
    assert jobs.submits == [] and jobs.calls["SubmitJob"] == 1  # the crashed attempt only


def test_a_failed_delete_is_retried_next_cycle(
    api: BatchforgeClient,
    sm_faults: SecretsFaults,
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
    stored: None,
) -> None:
    run_id = launch_with(workspaceSecrets=["TOKEN"])
    jobs.set(job_id_of(app_ctx, run_id) or "", "SUCCEEDED", exit_code=0)
    sm_faults.fail_call("DeleteSecret", 1, "InternalServiceError", "try later")
    assert run_tracker.run_cycle(app_ctx).secrets_cleaned == 0
    assert run_row(app_ctx, run_id).secrets_state == "planned"
    assert len(copies_in_aws(local_aws, run_id)) == 1
    assert run_tracker.run_cycle(app_ctx).secrets_cleaned == 1
    assert copies_in_aws(local_aws, run_id) == {}


def test_the_sweep_deletes_leftovers_of_ended_runs_only(
    api: BatchforgeClient,
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
    stored: None,
) -> None:
    ended = launch_with(workspaceSecrets=["TOKEN"])
    running = launch_with(workspaceSecrets=["TOKEN"])
    jobs.set(job_id_of(app_ctx, ended) or "", "SUCCEEDED", exit_code=0)
    jobs.set(job_id_of(app_ctx, running) or "", "RUNNING")
    run_tracker.run_cycle(app_ctx)
    client = local_aws.boto_client("secretsmanager")
    # a leftover the database does not know about (say, restored from an older backup)
    leftover = run_copies.aws_name(ended, "STRAY")
    client.create_secret(Name=leftover, SecretString="x")
    foreign = run_copies.aws_name("NotOurRun0000", "X")
    client.create_secret(Name=foreign, SecretString="x")
    try:
        stats = run_secrets.sweep(app_ctx)
        assert stats.errors == []
        assert leftover not in copies_in_aws(local_aws)
        assert len(copies_in_aws(local_aws, running)) == 1  # active: kept
        assert foreign in copies_in_aws(local_aws)  # another installation's: left alone
        assert stats.deleted >= 1 and stats.kept_active >= 1 and stats.unknown_run >= 1
    finally:
        client.delete_secret(SecretId=foreign, ForceDeleteWithoutRecovery=True)


def test_unknown_secret_or_no_execution_role_is_a_400_and_nothing_reaches_aws(
    api: BatchforgeClient,
    sm_faults: SecretsFaults,
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    stored: None,
    env_id: str,
) -> None:
    with pytest.raises(ApiError) as unknown:
        launch_with(workspaceSecrets=["TOKEN", "MISSING"])
    assert unknown.value.status == 400
    assert unknown.value.field == "launch.workspaceSecrets"
    assert "MISSING" in unknown.value.message
    with pytest.raises(ApiError) as unknown_user:
        launch_with(userSecrets=["OTHER"])  # OTHER is a workspace secret, not a user one
    assert unknown_user.value.field == "launch.userSecrets"
    with pytest.raises(ApiError) as no_role:  # env_id's environment has no execution role
        api.launch_workflow(
            {"computeEnvId": env_id, "pipeline": "hello", "workspaceSecrets": ["TOKEN"]}
        )
    assert no_role.value.status == 400 and "execution role" in no_role.value.message
    assert sm_faults.calls == {} and jobs.calls["SubmitJob"] == 0
    assert api.list_workflows().workflows == []  # no run recorded either


def test_runs_without_secrets_share_one_job_definition(
    launch_with: Callable[..., str], jobs: BatchJobs, stored: None
) -> None:
    launch_with()
    launch_with()
    with_secrets = launch_with(workspaceSecrets=["TOKEN"])
    definitions = [request["jobDefinition"] for request in jobs.submits]
    assert definitions[0] == definitions[1] != definitions[2]
    assert with_secrets


def test_cancelling_an_interrupted_launch_keeps_it_cancelled_and_cleans_up_after_its_lease(
    api: BatchforgeClient,
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
    stored: None,
) -> None:
    jobs.crash_before("SubmitJob")
    with pytest.raises(SimulatedCrash):
        launch_with(workspaceSecrets=["TOKEN"])
    with app_ctx.db.transaction() as session:
        run_id = session.query(models.Run).one().id
    api.cancel_workflow(run_id)
    run_tracker.run_cycle(app_ctx)  # its launcher may still be creating secrets: wait
    assert len(copies_in_aws(local_aws, run_id)) == 1
    expire_leases(app_ctx)
    run_tracker.run_cycle(app_ctx)
    assert api.describe_workflow(run_id).workflow.status == "CANCELLED"
    assert run_row(app_ctx, run_id).submit_state == "failed"
    assert copies_in_aws(local_aws, run_id) == {}


def test_the_tracker_thread_sweeps_once_per_interval(
    sm_faults: SecretsFaults,
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    stored: None,
) -> None:
    launch_with(workspaceSecrets=["TOKEN"])  # a place (credentials, region) to sweep
    tracker = run_tracker.RunTracker(app_ctx, interval=60)
    tracker.cycle()
    tracker.cycle()
    assert sm_faults.calls["ListSecrets"] == 1  # the second cycle is within the interval
    tracker.next_sweep = 0  # the interval has passed
    tracker.cycle()
    assert sm_faults.calls["ListSecrets"] == 2


def test_the_runs_own_job_definition_is_retired_with_its_secrets(
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
    stored: None,
) -> None:
    run_id = launch_with(workspaceSecrets=["TOKEN"])
    definition = run_row(app_ctx, run_id).job_definition
    jobs.set(job_id_of(app_ctx, run_id) or "", "SUCCEEDED", exit_code=0)
    run_tracker.run_cycle(app_ctx)
    described = local_aws.boto_client("batch").describe_job_definitions(
        jobDefinitions=[definition]
    )["jobDefinitions"]
    assert [d["status"] for d in described] == ["INACTIVE"]


def test_without_deregister_permission_it_is_asked_once_and_cleanup_goes_on(
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
    stored: None,
) -> None:
    run_secrets._deregister_denied.clear()
    jobs.deny("DeregisterJobDefinition")
    runs = [launch_with(workspaceSecrets=["TOKEN"]) for _ in range(2)]
    for run_id in runs:
        jobs.set(job_id_of(app_ctx, run_id) or "", "SUCCEEDED", exit_code=0)
    assert run_tracker.run_cycle(app_ctx).secrets_cleaned == 2
    assert jobs.calls["DeregisterJobDefinition"] == 1
    assert all(copies_in_aws(local_aws, run_id) == {} for run_id in runs)
    run_secrets._deregister_denied.clear()
