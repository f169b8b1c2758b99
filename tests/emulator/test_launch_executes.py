"""End to end: a run launched through the API, its head job executed by the emulator.

The launch service uploads the launch files and submits the head job (H-HEAD's format); the
emulator runs its real command through entry.sh's semantics; the bootstrap fetches the files
with ``nextflow fs cp`` and runs the stand-in, which submits the task jobs with the head-job
role; the tracker sees the end and the product's log API shows the stand-in's lines.
"""

from __future__ import annotations

from batchforge.client import BatchforgeClient
from batchforge.emulator.standin import LABEL
from batchforge.local_aws import WORK_BUCKET, LocalAws
from batchforge.services.context import AppContext
from tests.emulator.conftest import head_role_policy, make_role
from tests.factories import keys_credentials
from tests.runs.conftest import WORK_QUEUE, launcher, make_queues, manual_env, wait_run_end


def _log_lines(api: BatchforgeClient, run_id: str) -> list[str]:
    return [line for page in api.iter_workflow_log(run_id) for line in page.entries]


def _setup(api: BatchforgeClient, aws: LocalAws, policy: dict) -> tuple[str, str]:
    aws.set_execution(True)
    make_queues(aws)
    role = make_role(aws, policy)
    credentials_id = api.create_credentials(keys_credentials("aws"))
    env_id = manual_env(api, aws, credentials_id, headJobRole=role, computeJobRole=role)
    return env_id, role


def test_launched_run_executes_its_head_job(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws
) -> None:
    """The head job's script really runs: the stand-in's label and its task submission are
    in the run's log (GET /workflow/{id}/log), the task jobs are tw-<runId>-..., made with
    the head-job role (review findings 1, 3, 4, 5 end to end)."""
    try:
        env_id, role = _setup(api, aws, head_role_policy())
        run_id = launcher(api, env_id)(
            runName="e2e-run", paramsText='{"standin_tasks": 2}', preRunScript="echo 'pre run'"
        )
        status = wait_run_end(api, app_ctx, run_id)
        lines = _log_lines(api, run_id)
        assert status == "SUCCEEDED", lines
        assert LABEL in lines
        assert any("Submitted process > STANDIN (2)" in line for line in lines)
        assert "pre run" in lines
        tasks = aws.boto_client("batch").list_jobs(jobQueue=WORK_QUEUE, jobStatus="SUCCEEDED")
        names = sorted(j["jobName"] for j in tasks["jobSummaryList"])
        assert names == [f"tw-{run_id}-STANDIN_1", f"tw-{run_id}-STANDIN_2"]
        calls = aws.standin_calls()
        assert calls and {c["principal"] for c in calls} == {role}
        log_object = aws.boto_client("s3").get_object(
            Bucket=WORK_BUCKET, Key=f"work/batchforge/{run_id}/nextflow.log"
        )
        assert log_object["Body"].read().decode().splitlines()[0] == LABEL
    finally:
        aws.set_execution(False)


def test_launched_run_fails_when_the_head_role_cannot_pass_roles_to_batch(
    api: BatchforgeClient, app_ctx: AppContext, aws: LocalAws
) -> None:
    """Review finding 1: a head-job role whose PassRole is limited to ecs-tasks.amazonaws.com
    cannot register Nextflow's task job definitions: the run FAILS, its log says why."""
    try:
        env_id, _ = _setup(api, aws, head_role_policy(pass_to="ecs-tasks.amazonaws.com"))
        run_id = launcher(api, env_id)(runName="e2e-denied")
        assert wait_run_end(api, app_ctx, run_id) == "FAILED"
        text = "\n".join(_log_lines(api, run_id))
        assert "iam:PassRole" in text and "AccessDenied" in text
    finally:
        aws.set_execution(False)
