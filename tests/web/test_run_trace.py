"""The run page shows what Nextflow's trace reports, in a real browser: live status cards and
per-process progress while tasks run (no reload), the task table (search, sort, pages; the
same without the script), a task's page, and the metrics as box plots with their numbers.

The run is reported through the real ``/trace/*`` receiver over HTTP, as nf-tower does for a
run launched anywhere with ``-with-tower`` (``tests/tracefeed.py``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.exc import IntegrityError

from batchforge.client import BatchforgeClient
from batchforge.db import models
from batchforge.local_aws import WORK_BUCKET
from batchforge.services import run_tokens
from tests.factories import keys_credentials
from tests.runs.conftest import WORK_QUEUE, manual_env
from tests.tracefeed import FedRun, TraceFeed, batch_task, task_snapshot, workload
from tests.web.conftest import ARTIFACTS, UiServer
from tests.web.ui import Visits, sign_in


@pytest.fixture
def feed(ui: UiServer) -> Iterator[TraceFeed]:
    sender = TraceFeed(ui.url, ui.token)
    yield sender
    sender.close()


def _status(task_id: int) -> str:
    """60 tasks: 44 done, task 5 failed, 5 submitted, 10 running."""
    if task_id == 5:
        return "FAILED"
    if task_id > 50:
        return "RUNNING"
    return "SUBMITTED" if task_id > 45 else "COMPLETED"


def _card(page: Page, label: str) -> object:
    return page.locator("#run-progress .stat", has=page.locator(f"dt:text-is('{label}')")).locator(
        ".stat-value"
    )


def test_a_reported_run_live_then_complete(page: Page, ui: UiServer, feed: TraceFeed) -> None:
    visits = Visits()
    run = feed.create()
    feed.begin(run)
    feed.progress(run, workload(60, _status))
    sign_in(page, ui.token)
    page.goto(f"/ui/runs/{run.run_id}")
    expect(page.get_by_role("heading", name="quirky-hopper", level=1)).to_be_visible()
    expect(page.locator("#run-status .badge")).to_have_text("RUNNING")
    expect(_card(page, "Running")).to_have_text("10")
    expect(_card(page, "Succeeded")).to_have_text("44")
    expect(_card(page, "Failed")).to_have_text("1")
    expect(_card(page, "CPU load")).to_have_text("20")  # 10 running tasks, 2 CPUs each
    align = page.locator(".process", has=page.locator("code", has_text="ALIGN_READS"))
    expect(align.locator(".process-count")).to_have_text("15 of 20 done")
    expect(align.locator(".process-words")).to_have_text("15 succeeded, 3 running, 2 submitted")
    expect(page.locator("#run-tasks tbody tr")).to_have_count(25)
    expect(page.locator("#run-metrics")).to_contain_text("when the run completes")
    expect(page.get_by_text("Nextflow runs this pipeline outside batchforge")).to_be_visible()
    expect(page.get_by_role("heading", name="Head job log")).to_have_count(0)
    visits.shot(page, "50-run-trace-running")

    # tasks finish: the cards, the bars and the table follow without a reload
    finished = [
        task_snapshot(i, t["process"], "COMPLETED", 0)
        for i, t in run.tasks.items()
        if t["status"] in ("RUNNING", "SUBMITTED")
    ]
    for snapshot in finished:
        snapshot |= {
            "tag": run.tasks[snapshot["taskId"]]["tag"],
            "name": run.tasks[snapshot["taskId"]]["name"],
        }
    feed.progress(run, finished)
    expect(_card(page, "Succeeded")).to_have_text("59", timeout=15_000)
    expect(_card(page, "Running")).to_have_text("0")
    expect(align.locator(".process-count")).to_have_text("20 of 20 done")
    expect(page.locator("#announcer")).to_contain_text("Tasks: 59 of 60 done, 1 failed")

    feed.complete(run, success=False)
    expect(page.locator("#run-status .badge")).to_have_text("FAILED", timeout=15_000)
    metrics = page.locator("#run-metrics")
    expect(metrics.locator("svg.boxplot")).to_have_count(6, timeout=15_000)
    cpu = metrics.locator("figure", has=page.get_by_text("CPU usage (% of a core)"))
    svg = cpu.locator("svg")
    expect(svg).to_have_attribute("role", "img")
    expect(svg.locator("desc")).to_contain_text("ALIGN_READS: min")
    expect(svg.locator("g.box")).to_have_count(3)
    io = metrics.locator("figure", has=page.get_by_text("I/O: bytes read and written"))
    expect(io.locator("g.box")).to_have_count(6)  # read and written per process
    cpu.get_by_text("Numbers").click()
    expect(cpu.locator("table tbody tr")).to_have_count(3)
    expect(cpu.locator("table")).to_contain_text("SALMON_QUANT")
    page.locator("#run-metrics").scroll_into_view_if_needed()
    metrics.screenshot(path=str(ARTIFACTS / "52-run-metrics.png"))
    visits.shot(page, "51-run-trace-complete")


def test_task_table_search_sort_pages_and_a_task(page: Page, ui: UiServer, feed: TraceFeed) -> None:
    visits = Visits()
    run = feed.create()
    feed.begin(run)
    feed.progress(run, workload(60))
    feed.complete(run)
    sign_in(page, ui.token)
    page.goto(f"/ui/runs/{run.run_id}")
    table = page.locator("#run-tasks")
    expect(table.locator("tbody tr")).to_have_count(25)
    expect(page.get_by_role("navigation", name="Task pages")).to_contain_text(
        "Tasks 1\u201325 of 60"
    )
    page.get_by_role("navigation", name="Task pages").get_by_role("link", name="Next").click()
    expect(table.locator("tbody tr").first.locator("td").first).to_have_text(re.compile(r"^26"))
    expect(page.get_by_role("navigation", name="Task pages")).to_contain_text(
        "Tasks 26\u201350 of 60"
    )

    # sort by duration, longest first: two clicks on the heading
    table.get_by_role("link", name="Duration").click()
    expect(table.locator("th[aria-sort='ascending']")).to_contain_text("Duration")
    table.get_by_role("link", name="Duration").click()
    expect(table.locator("th[aria-sort='descending']")).to_contain_text("Duration")
    durations = [run.tasks[i]["duration"] for i in run.tasks]
    longest = max(run.tasks, key=lambda i: (run.tasks[i]["duration"], -i))
    assert run.tasks[longest]["duration"] == max(durations)
    expect(table.locator("tbody tr").first.locator("td").first).to_have_text(
        re.compile(rf"^{longest}\b")
    )

    page.get_by_label("Process, name or tag").fill("fastqc")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("navigation", name="Task pages")).to_contain_text("of 20")
    expect(table.locator("tbody tr", has_text="ALIGN_READS")).to_have_count(0)
    page.get_by_label("Process, name or tag").fill("no-such-task")
    page.get_by_role("button", name="Search").click()
    expect(table).to_contain_text("No task matches “no-such-task”.")

    # the failed task's page
    page.goto(f"/ui/runs/{run.run_id}?search=FAILED")
    table.get_by_role("link", name=re.compile(r"^5 ")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Task 5")
    expect(page.locator(".page-head .badge")).to_have_text("FAILED")
    general = page.locator("section", has=page.get_by_role("heading", name="General"))
    expect(general).to_contain_text("NFCORE_RNASEQ:QUANTIFY:SALMON_QUANT")
    expect(general).to_contain_text("job-0005-")
    usage = page.locator("section", has=page.get_by_role("heading", name="Resources usage"))
    expect(usage).to_contain_text("Peak RSS")
    # a run reported from elsewhere has no AWS credentials here: said, not a failure
    expect(
        page.get_by_text("batchforge has no AWS credentials to read the task's log")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Download .command.out")).to_have_count(0)
    expect(page.get_by_role("heading", name="Script")).to_be_visible()
    visits.shot(page, "53-task-detail")


def test_the_task_table_works_without_the_script(
    browser: Browser, ui: UiServer, feed: TraceFeed
) -> None:
    run: FedRun = feed.create()
    feed.begin(run)
    feed.progress(run, workload(30))
    context = browser.new_context(base_url=ui.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, ui.token)
        page.goto(f"/ui/runs/{run.run_id}?sort=process&dir=desc")
        rows = page.locator("#run-tasks tbody tr")
        expect(rows.first).to_contain_text("NFCORE_RNASEQ:QUANTIFY:SALMON_QUANT")
        page.get_by_label("Process, name or tag").fill("sample_3")
        page.get_by_role("button", name="Search").click()
        expect(page).to_have_url(re.compile(r"search=sample_3"))
        expect(page).to_have_url(re.compile(r"sort=process"))
        expect(rows).to_have_count(3)
    finally:
        context.close()


def test_a_launched_runs_task_log_and_files(page: Page, ui: UiServer) -> None:
    """A run batchforge launched reports with its run token (``TOWER_ACCESS_TOKEN``); its
    task's page shows the task job's CloudWatch log and downloads ``.command.out`` from the
    task's work directory, both with the run's credentials."""
    api = BatchforgeClient(ui.url, ui.token)
    env = manual_env(api, ui.aws, api.create_credentials(keys_credentials("trace-aws")))
    run_id = api.launch_workflow(
        {"computeEnvId": env, "pipeline": "https://github.com/nextflow-io/hello"}
    )
    api.close()
    head_job = ui.jobs.job_ids[next(n for n in ui.jobs.job_ids if run_id in n)]
    ui.jobs.set(head_job, "RUNNING")
    job_id = batch_task(ui.aws, ui.jobs, run_id, WORK_QUEUE, ["Hello from the task", "done"])
    workdir = f"s3://{WORK_BUCKET}/work/ab/cdef0123"
    ui.aws.boto_client("s3").put_object(
        Bucket=WORK_BUCKET, Key="work/ab/cdef0123/.command.out", Body=b"task stdout\n"
    )
    feed = TraceFeed(ui.url, run_tokens.issue(ui.ctx, run_id))
    try:
        run = feed.create(workflow_id=run_id)
        feed.begin(run)
        snapshot = task_snapshot(1, "ALIGN_READS", "COMPLETED", 0)
        feed.progress(run, [snapshot | {"nativeId": job_id, "workdir": workdir}])
    finally:
        feed.close()

    sign_in(page, ui.token)
    page.goto(f"/ui/runs/{run_id}")
    expect(page.get_by_role("heading", name="Head job log")).to_be_visible()
    page.locator("#run-tasks").get_by_role("link", name=re.compile(r"^1 ")).click()
    expect(page.locator("#task-log")).to_contain_text("Hello from the task\ndone")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download .command.out").click()
    path = download.value.path()
    assert path is not None and Path(path).read_bytes() == b"task stdout\n"
    Visits().shot(page, "54-task-log")


def test_cost_and_why_a_task_waits(page: Page, ui: UiServer, feed: TraceFeed) -> None:
    """What batchforge adds beyond Seqera reaches the page: the run's cost estimate in the
    cards, a cost column, and why a task still waits (rows as the tracker's health step
    writes them: ``services/run_health.py``, ``services/run_costs.py``)."""
    run = feed.create()
    feed.begin(run)
    feed.progress(run, workload(6, lambda i: "SUBMITTED" if i == 6 else "COMPLETED"))
    reason = "asks 64 CPUs; the largest instance type this environment allows has 16"
    rows = [
        models.RunHealth(run_id=run.run_id, cost=1.25, cost_tasks=5),
        *(models.TaskHealth(run_id=run.run_id, task_id=i, cost=0.25) for i in range(1, 6)),
        models.TaskHealth(
            run_id=run.run_id, task_id=6, waiting_reason=reason, waiting_blocked=True
        ),
    ]
    for attempt in range(5):  # the tracker's own health step may write these rows meanwhile
        try:
            with ui.ctx.db.transaction() as session:
                for row in rows:
                    session.merge(row)
            break
        except IntegrityError:
            assert attempt < 4
    sign_in(page, ui.token)
    page.goto(f"/ui/runs/{run.run_id}")
    expect(_card(page, "Cost")).to_have_text(re.compile(r"^\$\d+\.\d\d$"))
    table = page.locator("#run-tasks")
    expect(table.locator("th", has_text="Cost")).to_have_count(1)
    expect(table.locator("tbody tr").first.locator("td").last).to_have_text(
        re.compile(r"^\$0\.\d{4}$")
    )
    waiting = table.locator("tbody tr", has=page.get_by_role("link", name=re.compile(r"^6 ")))
    expect(waiting).to_contain_text(reason)
    waiting.get_by_role("link", name=re.compile(r"^6 ")).click()
    expect(page.locator(".notice-warn")).to_contain_text(f"Why it waits: {reason}")
    Visits().shot(page, "55-task-waiting")
