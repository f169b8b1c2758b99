"""Cost estimates: the logic offline (runs/cost.py), the emulator's Price List API over HTTP,
and tasks priced through the tracker's run health step, read back through the API.

AWS facts: the Price List Query API (``pricing:GetProducts``) is served from us-east-1,
eu-central-1 and ap-south-1 only and answers ``PriceList`` as JSON strings (AWS Price List
Query API reference, GetProducts; Billing User Guide "Using the AWS Price List Query API");
neither ``pricing:GetProducts`` nor ``ec2:DescribeSpotPriceHistory`` is in the seed's policy
(reference/seed-aws-batch-compute-environment.txt), so under IAM enforcement a seed-only
user is refused them and the estimate says so.  Nextflow reports ``machineType``,
``cloudZone`` and ``priceModel`` (standard/spot) per AWS Batch task (CloudMachineInfo,
reference/nextflow-trace-protocol.md §4).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from batchforge.aws.recorder import CallRecorder
from batchforge.aws.session import AwsAuth, AwsEnvironment
from batchforge.db import models
from batchforge.errors import AwsError
from batchforge.iam.generator import generate_policy
from batchforge.local_aws import LocalAws
from batchforge.runs import cost
from batchforge.services import credentials, instance_sizes, run_health, run_tokens
from batchforge.services.compute_envs import SessionCache
from batchforge.services.context import AppContext
from tests.factories import Keys, keys_credentials
from tests.iam.users import SEED, make_user
from tests.iamrules import IamRules
from tests.trace import payloads as p
from tests.trace.conftest import basic, bearer, make_run
from tests.trace.spec import validate
from tests.trace.test_receiver import _without_nulls

START = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_sizes() -> None:
    instance_sizes.clear()


# --- offline ---------------------------------------------------------------------------------


def finished(**values: Any) -> dict[str, Any]:
    task = {
        "status": "COMPLETED",
        "machineType": "m5.large",
        "cloudZone": "us-east-1a",
        "priceModel": "standard",
        "realtime": 3_600_000,
        "cpus": 1,
        "memory": 2 * 1024**3,
    }
    task.update(values)
    return task


def test_usage_of_a_finished_task() -> None:
    usage = cost.usage_of(finished())
    assert isinstance(usage, cost.Usage)
    assert usage.key == cost.PriceKey(cost.ON_DEMAND, "us-east-1", "m5.large")
    assert usage.hours == 1.0
    spot = cost.usage_of(finished(priceModel="spot", cloudZone="eu-west-3c"))
    assert isinstance(spot, cost.Usage)
    assert spot.key == cost.PriceKey(cost.SPOT, "eu-west-3c", "m5.large")
    assert spot.key.region == "eu-west-3"


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"status": "RUNNING"}, "not finished"),
        ({"machineType": None}, "no machineType"),
        ({"machineType": "local"}, "is not an EC2 instance type"),
        ({"cloudZone": None}, "no cloudZone"),
        ({"cloudZone": "moon-1"}, "no cloudZone"),
        ({"priceModel": "reserved"}, "unknown priceModel"),
        ({"realtime": None}, "no run time"),
    ],
)
def test_tasks_that_cannot_be_priced_say_why(values: dict[str, Any], reason: str) -> None:
    result = cost.usage_of(finished(**values))
    assert isinstance(result, cost.Estimate) and result.cost is None
    assert reason in (result.note or "")


def test_cached_tasks_cost_nothing_in_this_run() -> None:
    result = cost.usage_of(finished(status="CACHED"))
    assert result == cost.Estimate(0.0, "cached: it ran in an earlier run")


def test_run_time_from_start_and_complete_without_realtime() -> None:
    usage = cost.usage_of(
        finished(realtime=None, start=START, complete=START + timedelta(minutes=30))
    )
    assert isinstance(usage, cost.Usage) and usage.hours == 0.5


@pytest.mark.parametrize(
    ("zone", "region"),
    [
        ("us-east-1a", "us-east-1"),
        ("ap-south-2b", "ap-south-2"),
        ("us-gov-west-1a", "us-gov-west-1"),
        ("us-west-2-lax-1a", "us-west-2"),
        ("us-east-1", None),
        ("", None),
    ],
)
def test_region_of_zone(zone: str, region: str | None) -> None:
    assert cost.region_of(zone) == region


def test_share_of_the_instance() -> None:
    usage = cost.usage_of(finished(cpus=1, memory=2 * 1024**3))
    assert isinstance(usage, cost.Usage)
    assert cost.share(usage, 2, 8192) == 0.5  # CPUs decide: 1 of 2
    big_memory = cost.usage_of(finished(cpus=1, memory=6 * 1024**3))
    assert isinstance(big_memory, cost.Usage)
    assert cost.share(big_memory, 4, 8192) == 0.75  # memory decides: 6 of 8 GiB
    assert cost.share(usage, None, None) == 1.0
    greedy = cost.usage_of(finished(cpus=8))
    assert isinstance(greedy, cost.Usage) and cost.share(greedy, 2, 8192) == 1.0


def test_estimate() -> None:
    usage = cost.usage_of(finished(realtime=1_800_000))
    assert isinstance(usage, cost.Usage)
    assert cost.estimate(usage, 0.096, 2, 8192) == cost.Estimate(0.024)
    whole = cost.estimate(usage, 0.096, None, None)
    assert whole.cost == 0.048 and "whole instance" in (whole.note or "")
    assert cost.estimate(usage, None, 2, 8192) == cost.Estimate(None, "no price")


def test_run_note_counts_reasons() -> None:
    assert cost.run_note({}) is None
    note = cost.run_note({"no machineType reported": 3, "denied": 1})
    assert (
        note
        == "Not priced, so not in the estimate: 3 tasks: no machineType reported; 1 task: denied"
    )


def test_enforcement_maps_the_pricing_calls() -> None:
    """The test layer's IAM enforcement denies an operation it cannot map: both calls map to
    their actions on '*' (neither has resource-level permissions: Service Authorization
    Reference, AWS Price List and Amazon EC2), and the catalog's cost extras grant them."""
    from batchforge.aws.recorder import AwsCall
    from batchforge.iam.requests import CallContext, IamRequest, iam_requests

    context = CallContext("123456789012", {})
    for service, operation, action in (
        ("pricing", "GetProducts", "pricing:GetProducts"),
        ("ec2", "DescribeSpotPriceHistory", "ec2:DescribeSpotPriceHistory"),
    ):
        call = AwsCall(service, operation, "us-east-1", {}, 0.0)
        assert iam_requests(call, context) == [IamRequest(action, "*")]
    (statement,) = generate_policy(["cost"], extras=True).document["Statement"]
    assert sorted(statement["Action"]) == ["ec2:DescribeSpotPriceHistory", "pricing:GetProducts"]
    assert generate_policy(["cost"]).document["Statement"] == []  # extras only, opt-in


# --- the emulator's Price List API over HTTP ------------------------------------------------


def _pricing(local_aws: LocalAws, region: str = "us-east-1") -> Any:
    env = AwsEnvironment(endpoint_url=local_aws.url)
    session = env.session(AwsAuth(mode="keys", access_key="AKIAX", secret_key="x"), region)
    return session.client("pricing", region=region)


def test_emulator_get_products_answers_in_aws_format(local_aws: LocalAws) -> None:
    from batchforge.aws.pricing import product_filters

    answer = _pricing(local_aws).get_products(
        ServiceCode="AmazonEC2", Filters=product_filters("m5.large", "us-east-1")
    )
    assert answer["FormatVersion"] == "aws_v1"
    assert len(answer["PriceList"]) == 1 and isinstance(answer["PriceList"][0], str)
    product = json.loads(answer["PriceList"][0])
    assert product["product"]["attributes"]["instanceType"] == "m5.large"
    (term,) = product["terms"]["OnDemand"].values()
    (dimension,) = term["priceDimensions"].values()
    assert dimension["unit"] == "Hrs" and float(dimension["pricePerUnit"]["USD"]) == 0.096
    assert "sample data" in dimension["description"]


def test_emulator_without_the_os_filter_gets_several_products(local_aws: LocalAws) -> None:
    """Filters matter as on AWS: without operatingSystem/capacitystatus a type has several
    products (Windows, reserved capacity), so a client missing a filter is caught."""
    answer = _pricing(local_aws).get_products(
        ServiceCode="AmazonEC2",
        Filters=[
            {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "m5.large"},
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
        ],
        MaxResults=2,
    )
    assert len(answer["PriceList"]) == 2 and answer["NextToken"]
    rest = _pricing(local_aws).get_products(
        ServiceCode="AmazonEC2",
        Filters=[
            {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "m5.large"},
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"},
        ],
        NextToken=answer["NextToken"],
    )
    assert len(rest["PriceList"]) == 1 and "NextToken" not in rest


def test_emulator_refuses_what_aws_refuses(local_aws: LocalAws) -> None:
    with pytest.raises(AwsError) as wrong_region:
        _pricing(local_aws, "eu-west-1").get_products(ServiceCode="AmazonEC2")
    assert "only us-east-1, eu-central-1, ap-south-1" in str(wrong_region.value)
    with pytest.raises(AwsError) as unknown:
        _pricing(local_aws).get_products(ServiceCode="AmazonNothing")
    assert unknown.value.aws_code == "NotFoundException"
    with pytest.raises(AwsError) as bad_type:
        _pricing(local_aws).get_products(
            ServiceCode="AmazonEC2", Filters=[{"Type": "FUZZY", "Field": "x", "Value": "y"}]
        )
    assert bad_type.value.aws_code == "InvalidParameterException"


# --- priced through the run health step, read through the API ------------------------------


def _report(http: TestClient, run_id: str, token: str, tasks: list[dict[str, Any]]) -> None:
    answer = http.put(f"/trace/{run_id}/progress", headers=basic(token), json=p.progress(tasks))
    assert answer.status_code == 200, answer.text


def _traced_run(ctx: AppContext, workspace_id: int, credentials_id: str | None) -> str:
    return make_run(
        ctx,
        workspace_id,
        credentials_id=credentials_id,
        status="RUNNING",
        trace_state="begun",
        trace_at=datetime.now(UTC),
        job_id="head-job",
    )


def _calls(recorder: CallRecorder, name: str) -> int:
    return sum(1 for call in recorder.calls if call.name == name)


def _tasks(http: TestClient, token: str, run_id: str) -> dict[int, dict[str, Any]]:
    answer = http.get(f"/workflow/{run_id}/tasks?max=100", headers=bearer(token))
    assert answer.status_code == 200, answer.text
    validate("ListTasksResponse", answer.json())
    return {t["task"]["taskId"]: t["task"] for t in answer.json()["tasks"]}


def test_tasks_and_run_priced_once_per_type_and_region(
    app_ctx: AppContext,
    http: TestClient,
    admin: tuple[str, int],
    recorder: CallRecorder,
) -> None:
    user_token, workspace_id = admin
    credentials_id = credentials.create(
        app_ctx, workspace_id, keys_credentials("aws"), use_external_id=False
    )
    run_id = _traced_run(app_ctx, workspace_id, credentials_id)
    token = run_tokens.issue(app_ctx, run_id)
    _report(
        http,
        run_id,
        token,
        [
            p.task(1, "COMPLETED", realtime=3_600_000),  # m5.large, us-east-1a, 1 CPU, 1 GiB
            p.task(2, "COMPLETED", realtime=1_800_000),
            p.task(3, "COMPLETED", machineType="c5.large", cloudZone="eu-west-1b"),
            p.task(4, "COMPLETED", priceModel="spot"),
            p.task(5, "COMPLETED", machineType=None),
            p.task(6, "CACHED"),
            p.task(7, "RUNNING"),
            p.task(11, "COMPLETED", machineType="m7i.large"),  # not in the Price List (sample)
        ],
    )
    sessions = SessionCache(app_ctx)
    run_health.check(app_ctx, sessions.get)
    # (m5.large, us-east-1), (c5.large, eu-west-1), (m7i.large, us-east-1)
    assert _calls(recorder, "pricing:GetProducts") == 3
    assert _calls(recorder, "ec2:DescribeSpotPriceHistory") == 1

    tasks = _tasks(http, user_token, run_id)
    # 0.096 $/h x 1 h x share 1/2 (1 of m5.large's 2 vCPUs; 1 of its 8 GiB)
    assert tasks[1]["cost"] == pytest.approx(0.048)
    assert tasks[2]["cost"] == pytest.approx(0.024)
    assert tasks[3]["cost"] == pytest.approx(0.096 * (120_003 / 3_600_000) * 0.5, rel=1e-3)
    assert tasks[4]["cost"] >= 0  # the emulator's Spot history (moto's fixed price)
    assert "cost" not in tasks[5] and "no machineType" in tasks[5]["costNote"]
    assert tasks[6]["cost"] == 0
    assert "cost" not in tasks[7] and "costNote" not in tasks[7]
    assert tasks[11]["costNote"] == (
        "the AWS Price List has no on-demand Linux price for m7i.large in us-east-1"
    )
    one = http.get(f"/workflow/{run_id}/task/1", headers=bearer(user_token)).json()
    validate("DescribeTaskResponse", one)
    assert one["task"]["cost"] == pytest.approx(0.048)

    run = http.get(f"/workflow/{run_id}", headers=bearer(user_token)).json()
    validate("DescribeWorkflowResponse", _without_nulls(run))
    total = sum(t.get("cost", 0) for t in tasks.values())
    assert run["cost"] == pytest.approx(total, abs=1e-4)
    assert run["costCurrency"] == "USD" and run["costIsEstimate"] is True
    assert "1 task: no machineType reported" in run["costNote"]
    assert "1 task: the AWS Price List has no on-demand Linux price for m7i" in run["costNote"]
    assert run["progress"]["workflowProgress"]["cost"] == pytest.approx(total, abs=1e-4)

    # More m5.large tasks later: prices come from the cache, no AWS call.
    _report(http, run_id, token, [p.task(7, "COMPLETED"), p.task(8, "COMPLETED")])
    run_health.check(app_ctx, SessionCache(app_ctx).get)
    assert _calls(recorder, "pricing:GetProducts") == 3
    assert _tasks(http, user_token, run_id)[8]["cost"] > 0

    # Once the cache period is over, one call again per (type, region).
    with app_ctx.db.transaction() as session:
        session.execute(
            update(models.PriceCache).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    _report(http, run_id, token, [p.task(9, "COMPLETED"), p.task(10, "COMPLETED")])
    run_health.check(app_ctx, SessionCache(app_ctx).get)
    assert _calls(recorder, "pricing:GetProducts") == 4
    assert _calls(recorder, "ec2:DescribeInstanceTypes") == 2  # m5.large, c5.large: cached


def test_seed_only_credentials_cannot_price_and_say_so(
    app_ctx: AppContext,
    http: TestClient,
    admin: tuple[str, int],
    aws: LocalAws,
    iam_rules: IamRules,
) -> None:
    """Under IAM enforcement a user with exactly the seed's policy is refused
    pricing:GetProducts and ec2:DescribeSpotPriceHistory; with the catalog's cost extras it
    is not."""
    user_token, workspace_id = admin
    seed_user = make_user(aws, "seed-only", managed=SEED)
    keys = keys_credentials("seed", Keys(str(seed_user.access_key), str(seed_user.secret_key)))
    credentials_id = credentials.create(app_ctx, workspace_id, keys, use_external_id=False)
    run_id = _traced_run(app_ctx, workspace_id, credentials_id)
    token = run_tokens.issue(app_ctx, run_id)
    _report(
        http, run_id, token, [p.task(1, "COMPLETED"), p.task(2, "COMPLETED", priceModel="spot")]
    )
    run_health.check(app_ctx, SessionCache(app_ctx).get)
    denied = {name for _, name, _ in iam_rules.denied}
    assert {"pricing:GetProducts", "ec2:DescribeSpotPriceHistory"} <= denied
    tasks = _tasks(http, user_token, run_id)
    assert "cost" not in tasks[1] and "pricing:GetProducts" in tasks[1]["costNote"]
    assert "cost" not in tasks[2] and "ec2:DescribeSpotPriceHistory" in tasks[2]["costNote"]
    run = http.get(f"/workflow/{run_id}", headers=bearer(user_token)).json()
    assert "cost" not in run or run["cost"] is None
    assert "OptionalExtraCostEstimates" in run["costNote"]

    extras = generate_policy(["cost"], extras=True).document
    priced_user = make_user(aws, "seed-and-cost", managed=SEED, inline=extras)
    keys = keys_credentials(
        "priced", Keys(str(priced_user.access_key), str(priced_user.secret_key))
    )
    priced_credentials = credentials.create(app_ctx, workspace_id, keys, use_external_id=False)
    priced_run = _traced_run(app_ctx, workspace_id, priced_credentials)
    priced_token = run_tokens.issue(app_ctx, priced_run)
    _report(http, priced_run, priced_token, [p.task(1, "COMPLETED")])
    run_health.check(app_ctx, SessionCache(app_ctx).get)
    assert _tasks(http, user_token, priced_run)[1]["cost"] == pytest.approx(
        0.096 * 120_001 / 3_600_000 * 0.5, rel=1e-3
    )


def test_a_run_from_elsewhere_has_no_credentials_to_price_with(
    app_ctx: AppContext, http: TestClient, admin: tuple[str, int]
) -> None:
    user_token, workspace_id = admin
    run_id = _traced_run(app_ctx, workspace_id, None)
    token = run_tokens.issue(app_ctx, run_id)
    _report(http, run_id, token, [p.task(1, "COMPLETED")])
    run_health.check(app_ctx, SessionCache(app_ctx).get)
    assert "launched outside batchforge" in _tasks(http, user_token, run_id)[1]["costNote"]
