"""A run's labels in the browser: the run page lists them (a resource label with its value and
no Remove button), adds one of the workspace's plain labels and removes it; the runs list
shows them too."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from batchforge.schemas.labels import CreateLabelRequest
from batchforge.services import labels, run_labels
from tests.trace.conftest import make_run
from tests.web.conftest import UiServer
from tests.web.ui import Visits, sign_in


def test_the_run_page_adds_and_removes_labels(page: Page, ui: UiServer) -> None:
    visits = Visits()
    sign_in(page, ui.token)
    workspace = int(page.locator("#switch-workspace").input_value())
    run = make_run(ui.ctx, workspace)
    tag = CreateLabelRequest(name="project", value="web", resource=True)
    resource = labels.create(ui.ctx, workspace, tag).id
    labels.create(ui.ctx, workspace, CreateLabelRequest(name="qc-passed"))
    with ui.ctx.db.transaction() as session:
        run_labels.record(session, run, [resource])

    page.goto(f"/ui/runs/{run}")
    box = page.locator("#run-labels")
    expect(box.locator(".label-list")).to_contain_text("project=web")
    expect(box.get_by_role("button", name="Remove label project")).to_have_count(0)
    box.get_by_label("Label to add").select_option(label="qc-passed")
    box.get_by_role("button", name="Add label").click()
    expect(page.get_by_role("status").filter(has_text="Label added.")).to_be_visible()
    box = page.locator("#run-labels")
    expect(box.locator(".label-list")).to_contain_text("qc-passed")
    visits.shot(page, "run-labels")
    box.get_by_role("button", name="Remove label qc-passed").click()
    expect(page.get_by_role("status").filter(has_text="Label removed.")).to_be_visible()
    expect(page.locator("#run-labels .label-list")).not_to_contain_text("qc-passed")

    page.goto("/ui/runs")
    row = page.get_by_role("row").filter(has_text=f"run-{run.lower()}")
    expect(row).to_contain_text("project=web")
