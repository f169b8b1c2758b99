"""Issue #16 item 5 in the browser: a deletion that gave up shows why, what is left and a Retry
button; once the cause is gone, the button finishes the deletion (real server, real worker)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from batchforge.client import BatchforgeClient
from batchforge.forge.waits import Backoff

# Function-scoped request fixtures of the compute tests.  Never import the session-scoped
# ``browser`` fixture into a module outside tests/web: that makes a second sync Playwright,
# which leaves its event loop running in the main thread and breaks every later browser test.
from tests.compute.conftest import (  # noqa: F401  (fixtures)
    credentials_id,
    forge_body,
    forged_names,
    network,
    nothing_left,
    wait_for,
)
from tests.compute.test_forge_retries import Failing
from tests.web.conftest import UiServer
from tests.web.ui import Visits, sign_in


def _status(api: BatchforgeClient, ce_id: str) -> str:
    return api.request("GET", f"/compute-envs/{ce_id}").json()["computeEnv"]["status"]


def test_the_retry_button_finishes_a_deletion_that_gave_up(
    page: Page,
    ui: UiServer,
    api: BatchforgeClient,
    forge_body,  # noqa: F811
) -> None:
    ui.ctx.pacing.backoff = Backoff(base=0.2, cap=0.4, max_attempts=2)
    ce_id = api.request("POST", "/compute-envs", json=forge_body("web-retry")).json()[
        "computeEnvId"
    ]
    wait_for(lambda: _status(api, ce_id) == "AVAILABLE", "the forge")
    failing = Failing("DeleteLaunchTemplate")
    ui.ctx.aws.event_hooks.append(("before-call.ec2.*", failing.hook))
    api.request("DELETE", f"/compute-envs/{ce_id}")
    wait_for(lambda: _status(api, ce_id) == "ERRORED", "the deletion to give up")

    visits = Visits()
    sign_in(page, ui.token)
    page.goto(f"/ui/compute-envs/{ce_id}")
    status = page.locator("#ce-status")
    expect(status.locator(".notice-error")).to_contain_text("Deletion failed after 2 attempts")
    expect(status.locator(".notice-error")).to_contain_text(f"TowerForge-{ce_id}")  # what is left
    expect(page.locator("#retry-note")).to_contain_text("gave up after 2 failed attempts")
    visits.shot(page, "compute-env-retry")
    failing.on = False
    page.get_by_role("button", name="Retry delete now").click()
    expect(page.get_by_text("The compute environment is deleted")).to_be_visible(timeout=120_000)
    assert nothing_left(ui.aws, ce_id), forged_names(ui.aws, ce_id)
