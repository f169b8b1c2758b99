"""The Forge form's EBS auto-scaling of Docker's storage (``forge.ebsAutoScale`` and
``ebsBlockSize``): on by default as in ``tw``, off when unticked, the block size passed on,
a bad size shown next to its field with nothing created; the environment's page says it."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect

from batchforge.client import BatchforgeClient
from batchforge.local_aws import WORK_BUCKET
from batchforge.server.app import create_app
from batchforge.services.context import AppContext

# Function-scoped request fixtures of the compute tests (see test_forge_retry_button.py).
from tests.compute.conftest import Network, credentials_id, network  # noqa: F401  (fixtures)
from tests.server.hostile_ui import sign_in
from tests.web.conftest import UiServer
from tests.web.ui import Visits, field_error
from tests.web.ui import sign_in as browser_sign_in

ORIGIN = "http://batchforge.test"


@pytest.fixture
def ui_http(app_ctx: AppContext, admin_token: str) -> Iterator[tuple[httpx.Client, str]]:
    """A signed-in UI session (no background workers: a forged environment stays CREATING)."""
    with TestClient(
        create_app(app_ctx), base_url=ORIGIN, headers={"Origin": ORIGIN}, follow_redirects=False
    ) as client:
        yield client, sign_in(client, admin_token)


def _form(csrf: str, credentials: str, network: Network, **extra: str) -> dict[str, Any]:  # noqa: F811
    return {
        "csrf_token": csrf,
        "name": f"ebs-{uuid.uuid4().hex[:8]}",
        "credentialsId": credentials,
        "region": "us-east-1",
        "mode": "forge",
        "workDir": f"s3://{WORK_BUCKET}/work",
        "type": "SPOT",
        "minCpus": "0",
        "maxCpus": "16",
        "amiFamily": "al2023",
        "vpcId": network.vpc,
        "subnets": network.subnets[:2],
        "securityGroups": [network.security_group],
        "efs": "none",
        "fsx": "none",
        "disposeOnDeletion": "on",
        **extra,
    }


def _forge_of(api: BatchforgeClient, answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 303, answer.text[:2000]
    ce_id = answer.headers["location"].rsplit("/", 1)[-1]
    env = api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]
    return env["config"]["forge"]  # type: ignore[no-any-return]


def test_the_form_sends_ebs_auto_scaling(
    ui_http: tuple[httpx.Client, str],
    api: BatchforgeClient,
    credentials_id: str,  # noqa: F811
    network: Network,  # noqa: F811
) -> None:
    client, csrf = ui_http
    new = client.get("/ui/compute-envs/new")
    assert re.search(r'name="ebsAutoScale" type="checkbox" value="on" checked', new.text)
    assert re.search(r'name="ebsBlockSize" type="number" value="50"', new.text)

    on = _forge_of(
        api,
        client.post(
            "/ui/compute-envs",
            data=_form(csrf, credentials_id, network, ebsAutoScale="on", ebsBlockSize="50"),
        ),
    )
    assert on["ebsAutoScale"] is True and on["ebsBlockSize"] == 50

    sized = _form(csrf, credentials_id, network, ebsAutoScale="on", ebsBlockSize="200")
    assert _forge_of(api, client.post("/ui/compute-envs", data=sized))["ebsBlockSize"] == 200

    # Unticked: no auto-scaling, and the (hidden) size is not sent (the API refuses it alone).
    off = _forge_of(
        api,
        client.post(
            "/ui/compute-envs", data=_form(csrf, credentials_id, network, ebsBlockSize="50")
        ),
    )
    assert off["ebsAutoScale"] is False and off.get("ebsBlockSize") is None

    before = len(api.request("GET", "/compute-envs").json()["computeEnvs"])
    bad = _form(csrf, credentials_id, network, ebsAutoScale="on", ebsBlockSize="0")
    answer = client.post("/ui/compute-envs", data=bad)
    assert answer.status_code == 400
    error = re.search(r'<p class="error-text" id="e-ebsBlockSize">(.*?)</p>', answer.text, re.S)
    assert error and "between 1 and 16384 GiB" in error.group(1), answer.text[:3000]
    assert 'id="f-ebsBlockSize" name="ebsBlockSize" type="number" value="0"' in answer.text
    assert len(api.request("GET", "/compute-envs").json()["computeEnvs"]) == before


def test_the_environment_page_says_whether_it_auto_scales(
    page: Page,
    ui: UiServer,
    credentials_id: str,  # noqa: F811
    network: Network,  # noqa: F811
) -> None:
    visits = Visits()
    browser_sign_in(page, ui.token)
    page.goto("/ui/compute-envs/new")
    form = page.locator("#ce-form")
    expect(form.get_by_label("VPC")).to_be_visible()  # drop-downs from /platforms
    box = form.get_by_label("EBS auto-scaling of Docker storage")
    size = form.get_by_label("EBS block size (GiB)")
    expect(box).to_be_checked()
    expect(size).to_have_value("50")
    box.uncheck()
    expect(size).to_be_hidden()
    box.check()
    expect(size).to_be_visible()
    form.get_by_label("Name", exact=True).fill("web-ebs")
    form.get_by_label("Work directory").fill(f"s3://{WORK_BUCKET}/work")
    vpc = form.get_by_label("VPC").locator("option").nth(1).get_attribute("value")
    form.get_by_label("VPC").select_option(vpc)
    size.fill("0")
    form.get_by_role("button", name="Check configuration").click()
    expect(field_error(page, "ebsBlockSize")).to_contain_text("between 1 and 16384 GiB")
    visits.shot(page, "forge-form-ebs-error")
    page.locator("#ce-form").get_by_label("EBS block size (GiB)").fill("120")
    page.locator("#ce-form").get_by_role("button", name="Check configuration").click()
    expect(page.get_by_role("heading", name="Preflight passed")).to_be_visible()
    page.get_by_role("button", name="Create compute environment").click()
    expect(page.locator("#ce-ebs")).to_have_text("on, 120 GiB blocks")
    visits.shot(page, "forge-form-ebs-page")
