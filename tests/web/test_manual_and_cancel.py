"""A Manual environment on existing queues (chosen from the drop-downs), a run cancelled
from its page, and the environment deleted (nothing of AWS's is touched)."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from batchforge.local_aws import WORK_BUCKET
from tests.factories import fake_keys
from tests.runs.conftest import make_queues
from tests.web.conftest import UiServer
from tests.web.ui import Visits, add_credentials, nav, sign_in


def test_a_manual_environment_and_a_cancelled_run(page: Page, ui: UiServer) -> None:
    visits = Visits()
    tag = uuid.uuid4().hex[:6]
    head, work = f"bf-web-head-{tag}", f"bf-web-work-{tag}"
    make_queues(ui.aws, head, work)
    sign_in(page, ui.token)
    add_credentials(page, "manual-aws", fake_keys())
    nav(page, "Compute")
    page.get_by_role("link", name="New compute environment").click()
    form = page.locator("#ce-form")
    form.get_by_label("Manual: use job queues that already exist").check()
    expect(form.get_by_label("Maximum CPUs")).to_be_hidden()  # Forge's fields step aside
    form.get_by_label("Name", exact=True).fill("web-manual")
    form.get_by_label("Work directory").fill(f"s3://{WORK_BUCKET}/manual")
    form.get_by_label("Head queue").select_option(head)
    form.get_by_label("Compute queue").select_option(work)
    form.get_by_label("Head job role").fill("arn:aws:iam::123456789012:role/head-role")
    form.get_by_role("button", name="Check configuration").click()
    expect(page.get_by_role("heading", name="Preflight passed")).to_be_visible()
    expect(page.locator("#policy-1")).to_contain_text(head)  # scoped to the chosen queues
    page.get_by_role("button", name="Create compute environment").click()
    status = page.locator("#ce-status")
    expect(status.locator(".badge")).to_have_text("AVAILABLE")
    expect(status).to_contain_text(work)
    expect(page.get_by_text("What happens to the AWS resources")).to_have_count(0)
    visits.shot(page, "40-compute-env-manual")

    status.get_by_role("link", name="Launch a pipeline here").click()
    page.get_by_label("Pipeline repository").fill("nextflow-io/hello")
    page.get_by_role("button", name="Launch", exact=True).click()
    run = page.locator("#run-status")
    expect(run.locator(".badge")).to_have_text("SUBMITTED")
    page.once("dialog", lambda dialog: dialog.accept())
    run.get_by_role("button", name="Cancel run").click()
    expect(page.get_by_role("status").filter(has_text="Run cancelled.")).to_be_visible()
    expect(page.locator("#run-status .badge")).to_have_text("CANCELLED")
    assert ui.jobs.terminated == list(ui.jobs.job_ids.values())
    visits.shot(page, "41-run-cancelled")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs").click()
    page.get_by_label("Status").select_option("RUNNING")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No runs match the filter.")).to_be_visible()

    # the runs list refreshes itself while a run changes, without a reload
    nav(page, "Compute")
    page.get_by_role("link", name="web-manual").click()
    page.get_by_role("link", name="Launch a pipeline here").click()
    page.get_by_label("Pipeline repository").fill("nextflow-io/hello")
    page.get_by_role("button", name="Launch", exact=True).click()
    expect(page.locator("#run-status .badge")).to_have_text("SUBMITTED")
    run_id = page.url.rsplit("/", 1)[-1]
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Runs").click()
    row = page.locator("tr", has=page.locator(f"a[href$='/{run_id}']"))
    expect(row.locator(".badge")).to_have_text("SUBMITTED")
    (job_id,) = [j for j in ui.jobs.job_ids.values() if j not in ui.jobs.terminated]
    ui.jobs.set(job_id, "RUNNING")
    expect(row.locator(".badge")).to_have_text("RUNNING")
    ui.jobs.set(job_id, "SUCCEEDED", exit_code=0)
    expect(row.locator(".badge")).to_have_text("SUCCEEDED")

    nav(page, "Compute")
    page.get_by_role("link", name="web-manual").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete compute environment").click()
    expect(page).to_have_url(re.compile(r"/ui/compute-envs$"))
    expect(page.get_by_role("status")).to_have_text("Compute environment 'web-manual' deleted.")
    batch = ui.aws.boto_client("batch")
    assert len(batch.describe_job_queues(jobQueues=[head, work])["jobQueues"]) == 2
