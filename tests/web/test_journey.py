"""The whole journey in a real browser: sign in, add credentials, forge an environment,
launch, watch the run finish, read its log, add a secret, browse and upload a file, dispose
of the environment.  A screenshot of every page goes to test-artifacts/web/."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from batchforge.local_aws import WORK_BUCKET
from tests.compute.conftest import forged_names
from tests.factories import fake_keys
from tests.web.conftest import UiServer
from tests.web.ui import Visits, add_credentials, nav, put_log_lines, sign_in

SECRET_VALUE = "s3cr3t-v4lue-never-shown-7f1c"


def forge_environment(page: Page, visits: Visits) -> str:
    nav(page, "Compute")
    visits.shot(page, "03-compute-envs-empty")
    page.get_by_role("link", name="New compute environment").click()
    form = page.locator("#ce-form")
    expect(form.get_by_label("VPC")).to_be_visible()  # drop-downs from /platforms
    form.get_by_label("Name", exact=True).fill("web-forge")
    form.get_by_label("Work directory").fill(f"s3://{WORK_BUCKET}/work")
    form.get_by_label("Maximum CPUs").fill("64")
    vpc = form.get_by_label("VPC").locator("option").nth(1).get_attribute("value")
    form.get_by_label("VPC").select_option(vpc)
    form.get_by_label("Resource labels").fill("project=web")
    visits.shot(page, "04-compute-env-form")
    form.get_by_role("button", name="Check configuration").click()
    expect(page.get_by_role("heading", name="Preflight passed")).to_be_visible()
    policy = page.locator("#policy-1")
    expect(policy).to_contain_text('"batch:CreateComputeEnvironment"')
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy policy 1").click()
    expect(page.locator("#policy-1-status")).to_have_text("Copied to the clipboard.")
    assert '"batch:CreateComputeEnvironment"' in page.evaluate("navigator.clipboard.readText()")
    visits.shot(page, "05-compute-env-preflight")
    page.get_by_role("button", name="Create compute environment").click()
    expect(page.get_by_role("status").filter(has_text="Forge is creating")).to_be_visible()
    visits.shot(page, "06-compute-env-creating")
    status = page.locator("#ce-status")
    expect(status.locator(".badge")).to_have_text("AVAILABLE", timeout=30_000)
    queues = status.get_by_role("row").filter(has_text="batch-job-queue")
    expect(queues).to_have_count(2)  # head and work queues, each listed with its ARN
    expect(queues.first).to_contain_text("CREATED")
    visits.shot(page, "07-compute-env-available")
    return page.url.rsplit("/", 1)[-1]


def add_pipeline(page: Page, visits: Visits) -> None:
    expect(page.get_by_role("link", name="Launch a pipeline here")).to_be_visible()
    nav(page, "Launch")
    page.get_by_role("link", name="Add a pipeline").click()
    form = page.locator("form[action='/ui/pipelines']")
    form.get_by_label("Name", exact=True).fill("hello")
    form.get_by_label("Compute environment").select_option(label="web-forge (us-east-1)")
    form.get_by_label("Pipeline repository").fill("https://github.com/nextflow-io/hello")
    form.get_by_role("textbox", name="Revision").fill("master")
    visits.shot(page, "08-pipeline-add")
    form.get_by_role("button", name="Add pipeline").click()
    expect(page.get_by_role("status").filter(has_text="Pipeline 'hello' added")).to_be_visible()
    visits.shot(page, "09-pipelines")


def launch_and_watch(page: Page, ui: UiServer, visits: Visits) -> None:
    page.get_by_role("link", name="Launch hello").click()
    form = page.locator("form[action='/ui/launch']")
    expect(form.get_by_label("Pipeline repository")).to_have_value(
        "https://github.com/nextflow-io/hello"
    )
    form.get_by_label("Run name").fill("web-hello")
    params = form.get_by_label("Parameters")
    params.fill("greeting: hello\ncount: [1, 2")
    form.get_by_role("button", name="Check parameters").click()
    expect(form.locator("#params-status")).to_contain_text("line 2, column")
    params.fill("greeting: hello\ncount: 2\n")
    form.get_by_role("button", name="Check parameters").click()
    expect(form.locator("#params-status")).to_have_text("Valid YAML: 2 parameters.")
    visits.shot(page, "10-launch-form")
    form.get_by_role("button", name="Launch", exact=True).click()
    expect(page.get_by_role("heading", name="web-hello", level=1)).to_be_visible()
    status = page.locator("#run-status")
    expect(status.locator(".badge")).to_have_text("SUBMITTED")
    visits.shot(page, "11-run-submitted")

    job_id = next(iter(ui.jobs.job_ids.values()))
    stream = f"nextflow/default/{job_id}"
    ui.jobs.set(job_id, "RUNNING", log_stream=stream)
    put_log_lines(ui, stream, ["N E X T F L O W  ~  version 24.10.5", "Launching `hello`"])
    expect(status.locator(".badge")).to_have_text("RUNNING", timeout=15_000)
    log = page.locator("#log")
    expect(log).to_contain_text("Launching `hello`", timeout=15_000)
    put_log_lines(ui, stream, ["[ab/123456] process > sayHello (4) [100%] 4 of 4 ✔", "Done"])
    expect(log).to_contain_text("4 of 4", timeout=15_000)
    visits.shot(page, "12-run-running-log")
    run_id = page.url.rsplit("/", 1)[-1]
    nextflow_log = b"Nov-25 12:00:00.000 [main] DEBUG nextflow.cli.Launcher\n"
    ui.aws.boto_client("s3").put_object(  # what the head job copies when Nextflow exits
        Bucket=WORK_BUCKET, Key=f"work/batchforge/{run_id}/nextflow.log", Body=nextflow_log
    )
    ui.jobs.set(job_id, "SUCCEEDED", exit_code=0)
    expect(status.locator(".badge")).to_have_text("SUCCEEDED", timeout=15_000)
    with page.expect_download() as download:
        status.get_by_role("link", name="Download nextflow.log").click()
    assert Path(download.value.path()).read_bytes() == nextflow_log
    expect(page.locator("#log-status")).to_contain_text("whole log", timeout=15_000)
    expect(log).to_have_text(re.compile(r"N E X T F L O W.*Done", re.S))
    visits.shot(page, "13-run-succeeded")

    nav(page, "Runs")
    page.get_by_label("Status").select_option("SUCCEEDED")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("link", name="web-hello")).to_be_visible()
    visits.shot(page, "14-runs-list")


def add_secret(page: Page, visits: Visits) -> None:
    nav(page, "Secrets")
    form = page.locator("form[action='/ui/secrets']")
    form.get_by_label("Name", exact=True).fill("API_TOKEN")
    form.get_by_label("Value", exact=True).fill(SECRET_VALUE)
    form.get_by_role("button", name="Add secret").click()
    expect(page.get_by_role("status").filter(has_text="Secret 'API_TOKEN' added")).to_be_visible()
    expect(page.get_by_role("cell", name="API_TOKEN", exact=True)).to_be_visible()
    visits.shot(page, "15-secrets")


def explore_and_upload(page: Page, visits: Visits) -> None:
    nav(page, "Data Explorer")
    visits.shot(page, "16-data-links")
    page.get_by_role("link", name=WORK_BUCKET).click()
    expect(page.get_by_role("heading", name=WORK_BUCKET, level=1)).to_be_visible()
    page.get_by_label("Folder name").fill("inputs")
    page.get_by_role("button", name="Create folder").click()
    expect(page.get_by_role("status").filter(has_text="Folder 'inputs' created")).to_be_visible()
    page.get_by_label("Files", exact=True).set_input_files(
        [
            {"name": "samples.csv", "mimeType": "text/csv", "buffer": b"id,reads\nA,10\nB,20\n"},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello from the UI\n"},
        ]
    )
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status").filter(has_text="Uploaded 2 file(s)")).to_be_visible()
    visits.shot(page, "17-data-browse")
    # Two keys per page: the folder marker "inputs/" (not shown) and notes.txt, then samples.csv
    page.goto(page.url.split("?")[0] + "?path=inputs&size=2")
    table = page.get_by_role("table")
    expect(table.get_by_role("link", name="notes.txt", exact=True)).to_be_visible()
    page.get_by_role("link", name="Next page").click()
    expect(table.get_by_role("link", name="samples.csv", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="notes.txt", exact=True)).to_have_count(0)
    page.get_by_role("link", name="First page").click()
    expect(table.get_by_role("link", name="notes.txt", exact=True)).to_be_visible()
    page.get_by_role("link", name="Next page").click()
    page.get_by_role("link", name="samples.csv", exact=True).click()
    expect(page.get_by_role("columnheader", name="reads")).to_be_visible()
    visits.shot(page, "18-data-preview")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download samples.csv").click()
    assert download.value.suggested_filename == "samples.csv"
    assert Path(download.value.path()).read_bytes() == b"id,reads\nA,10\nB,20\n"


def dispose(page: Page, ui: UiServer, ce_id: str, visits: Visits) -> None:
    page.goto(f"/ui/compute-envs/{ce_id}")
    expect(page.get_by_label("Dispose of them", exact=False)).to_be_checked()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete compute environment").click()
    expect(page.get_by_role("status").filter(has_text="disposing")).to_be_visible()
    visits.keep(page, "19-compute-env-deleting")
    expect(page).to_have_url(re.compile(r"/ui/compute-envs$"), timeout=30_000)
    expect(page.get_by_role("status").filter(has_text="disposed of")).to_be_visible()
    visits.shot(page, "20-compute-env-disposed")
    assert not any(forged_names(ui.aws, ce_id).values())


def test_the_whole_journey_in_a_browser(page: Page, ui: UiServer) -> None:
    visits = Visits()
    keys = fake_keys()
    page.goto("/")
    visits.shot(page, "00-sign-in")
    sign_in(page, ui.token)
    visits.shot(page, "01-overview")
    add_credentials(page, "web-aws", keys)
    visits.shot(page, "02-credentials")
    ce_id = forge_environment(page, visits)
    add_pipeline(page, visits)
    launch_and_watch(page, ui, visits)
    add_secret(page, visits)
    explore_and_upload(page, visits)
    dispose(page, ui, ce_id, visits)
    assert visits.containing(keys.secret_key, SECRET_VALUE, ui.token) == []
