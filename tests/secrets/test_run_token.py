"""The run's trace token reaches the head job as a secret (or as the admin allows), never in
what ``batch:DescribeJobs`` shows, and dies with the run.

Nextflow 24.10.5 loads nf-tower when ``TOWER_ACCESS_TOKEN`` is set (PluginsFacade) and, with
``TOWER_WORKFLOW_ID`` set, reads the token from that variable only (TowerClient.getAccessToken);
AWS Batch hands a job definition's ``secrets`` to the container as variables, read by ECS with
the execution role, which the definition must name ("Specify sensitive data with Secrets
Manager", AWS Batch User Guide; refused otherwise by tests/awsrules.job_definition_error).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from batchforge.client import BatchforgeClient
from batchforge.db import models
from batchforge.launch import secrets as run_copies
from batchforge.local_aws import LocalAws
from batchforge.services import run_token_delivery, run_tokens, run_tracker
from batchforge.services.context import AppContext
from batchforge.settings import Settings
from tests.batchjobs import BatchJobs
from tests.factories import keys_credentials
from tests.runs.conftest import job_id_of, launcher, manual_env, run_row
from tests.secrets.conftest import SecretsFaults, copies_in_aws

SETTING = "BATCHFORGE_TRACE_TOKEN_DELIVERY"


@pytest.fixture
def delivery() -> str:
    return "secret"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, delivery: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, trace_token_delivery=delivery
    )


@pytest.fixture(autouse=True)
def _no_remembered_refusals() -> Iterator[None]:
    run_token_delivery.forget_refusals()
    yield
    run_token_delivery.forget_refusals()


@pytest.fixture
def issued(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The plaintext tokens issued (a spy on run_tokens.issue: the test needs the value to
    look for it where it must not be)."""
    seen: list[str] = []
    real = run_tokens.issue

    def spy(ctx: AppContext, run_id: str) -> str:
        token = real(ctx, run_id)
        seen.append(token)
        return token

    monkeypatch.setattr(run_tokens, "issue", spy)
    return seen


@pytest.fixture
def no_role_launch(api: BatchforgeClient, local_aws: LocalAws, jobs: BatchJobs) -> Callable:
    credentials_id = api.create_credentials(keys_credentials("aws-no-role"))
    return launcher(api, manual_env(api, local_aws, credentials_id))


def _definition(local_aws: LocalAws, arn: str) -> dict:
    batch = local_aws.boto_client("batch")
    return batch.describe_job_definitions(jobDefinitions=[arn])["jobDefinitions"][0]


def _variables(request: dict) -> dict[str, str]:
    return {e["name"]: e["value"] for e in request["containerOverrides"]["environment"]}


def test_the_token_goes_as_a_secret_and_is_deleted_when_the_run_ends(
    api: BatchforgeClient,
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
    issued: list[str],
    recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    run_id = launch_with()
    [token] = issued
    name = run_copies.aws_name(run_id, run_copies.TOKEN_NAME)
    assert copies_in_aws(local_aws, run_id) == {name: token}
    assert run_tokens.authenticate(app_ctx, token).run_id == run_id
    request = jobs.submits[0]
    definition = _definition(local_aws, request["jobDefinition"])
    props = definition["containerProperties"]
    handed = {s["name"]: s["valueFrom"] for s in props["secrets"]}
    assert (
        list(handed) == ["TOWER_ACCESS_TOKEN"] and f":secret:{name}" in handed["TOWER_ACCESS_TOKEN"]
    )
    assert props["executionRoleArn"]
    variables = _variables(request)
    assert "TOWER_ACCESS_TOKEN" not in variables
    assert variables["TOWER_WORKFLOW_ID"] == run_id
    job_id = job_id_of(app_ctx, run_id) or ""
    jobs.set(job_id, "RUNNING")
    run_tracker.run_cycle(app_ctx)
    described = local_aws.boto_client("batch").describe_jobs(jobs=[job_id])["jobs"]
    shown = json.dumps(described, default=str) + json.dumps(definition, default=str)
    shown += api.describe_workflow(run_id).model_dump_json() + caplog.text
    shown += repr([call.params for call in recorder.calls])
    assert token not in shown  # not in DescribeJobs, the definition, the API, logs, recorder
    jobs.set(job_id, "SUCCEEDED", exit_code=0)
    assert run_tracker.run_cycle(app_ctx).secrets_cleaned == 1
    assert copies_in_aws(local_aws, run_id) == {}
    assert run_row(app_ctx, run_id).secrets_state == "deleted"


def test_with_pipeline_secrets_the_token_joins_them_in_one_definition(
    api: BatchforgeClient,
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    local_aws: LocalAws,
    sm_faults: SecretsFaults,
) -> None:
    api.create_secret("DB_PASSWORD", "pw-77a1")
    run_id = launch_with(workspaceSecrets=["DB_PASSWORD"])
    assert set(copies_in_aws(local_aws, run_id)) == {
        f"tower-batchforge-{run_id}-DB_PASSWORD",
        f"tower-batchforge-{run_id}-run-token",
    }
    props = _definition(local_aws, jobs.submits[0]["jobDefinition"])["containerProperties"]
    assert {s["name"] for s in props["secrets"]} == {
        "BATCHFORGE_SECRET_DB_PASSWORD",
        "TOWER_ACCESS_TOKEN",
    }
    assert sm_faults.calls["CreateSecret"] == 2


def test_without_an_execution_role_the_default_reports_no_trace_and_says_why(
    api: BatchforgeClient,
    no_role_launch: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
    issued: list[str],
) -> None:
    run_id = no_role_launch()
    assert issued == [] and copies_in_aws(local_aws, run_id) == {}
    request = jobs.submits[0]
    assert "TOWER_ACCESS_TOKEN" not in _variables(request)
    assert not _definition(local_aws, request["jobDefinition"])["containerProperties"]["secrets"]
    messages = api.describe_workflow(run_id).messages
    assert any(SETTING in m and "batch:DescribeJobs" in m for m in messages), messages
    from tests.runs.headjob_text import boot_script

    assert SETTING in boot_script(request)  # and the head job's log says it too


@pytest.mark.parametrize("delivery", ["environment"])
def test_environment_fallback_passes_a_plain_variable(
    no_role_launch: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
    issued: list[str],
) -> None:
    run_id = no_role_launch()
    [token] = issued
    assert _variables(jobs.submits[0])["TOWER_ACCESS_TOKEN"] == token  # what the admin allowed
    assert copies_in_aws(local_aws, run_id) == {}
    assert run_row(app_ctx, run_id).secret_names is None


@pytest.mark.parametrize("delivery", ["off"])
def test_off_issues_no_token(
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
    issued: list[str],
) -> None:
    run_id = launch_with()
    assert issued == [] and copies_in_aws(local_aws, run_id) == {}
    assert "TOWER_ACCESS_TOKEN" not in _variables(jobs.submits[0])
    with app_ctx.db.transaction() as session:
        assert session.get(models.RunToken, run_id) is None


@pytest.mark.parametrize("delivery", ["secret", "environment"])
def test_create_secret_refused_falls_back_and_is_not_asked_again(
    api: BatchforgeClient,
    launch_with: Callable[..., str],
    jobs: BatchJobs,
    app_ctx: AppContext,
    local_aws: LocalAws,
    sm_faults: SecretsFaults,
    issued: list[str],
    delivery: str,
) -> None:
    """Without secretsmanager:CreateSecret (an optional section of the seed policy) the
    launch goes on as the setting says; the next launch does not ask again."""
    sm_faults.fail_call("CreateSecret", 1, "AccessDeniedException", "not authorized")
    first = launch_with()
    second = launch_with()
    assert sm_faults.calls["CreateSecret"] == 1 and sm_faults.calls["DeleteSecret"] == 0
    # "secret" issues no token once the refusal is known; "environment" needs one each time
    assert len(issued) == (2 if delivery == "environment" else 1)
    for run_id, request in zip((first, second), jobs.submits, strict=True):
        row = run_row(app_ctx, run_id)
        assert row.secret_names is None and row.secrets_state is None
        props = _definition(local_aws, request["jobDefinition"])["containerProperties"]
        assert not props["secrets"]  # the shared definition
        if delivery == "environment":
            assert _variables(request)["TOWER_ACCESS_TOKEN"] in issued
        else:
            assert "TOWER_ACCESS_TOKEN" not in _variables(request)
            assert SETTING in (row.error_message or "")
    if delivery == "secret":
        with pytest.raises(Exception, match="expired"):
            run_tokens.authenticate(app_ctx, issued[0])  # revoked: it went nowhere


def test_the_test_layer_refuses_definition_secrets_without_an_execution_role(
    local_aws: LocalAws,
) -> None:
    """What AWS refuses and the emulator accepts (tests/awsrules.job_definition_error)."""
    from botocore.exceptions import ClientError

    from tests.awsrules import SECRETS_WITHOUT_ROLE, BatchNameRules

    rules = BatchNameRules()
    batch = local_aws.boto_client("batch")
    for event, handler in rules.hooks():
        batch.meta.events.register(event, handler)
    container = {
        "image": "busybox",
        "command": ["true"],
        "resourceRequirements": [
            {"type": "VCPU", "value": "1"},
            {"type": "MEMORY", "value": "512"},
        ],
        "secrets": [{"name": "TOWER_ACCESS_TOKEN", "valueFrom": "tower-x"}],
    }
    with pytest.raises(ClientError, match="executionRoleArn") as error:
        batch.register_job_definition(
            jobDefinitionName="bf-no-role", type="container", containerProperties=container
        )
    assert error.value.response["Error"]["Code"] == "ClientException"
    assert rules.refused == [("RegisterJobDefinition", SECRETS_WITHOUT_ROLE)]
    container["executionRoleArn"] = "arn:aws:iam::123456789012:role/bf-exec"
    batch.register_job_definition(
        jobDefinitionName="bf-with-role", type="container", containerProperties=container
    )
