"""Browser tests of the web UI: Playwright driving Debian's headless ``chromium``.

- ``browser``: one Chromium for the whole session (``/usr/bin/chromium``, or
  ``BATCHFORGE_TEST_CHROMIUM``); tests skip when it is not installed.  Never downloads one.
- ``ui``: a real uvicorn server on 127.0.0.1 (a free port, in a thread) over the emulator,
  with the server's background workers (Forge, run tracker) polling fast, the real-AWS rules
  layer (Batch resources pass through CREATING/DELETING) and the Batch job layer
  (``tests/batchjobs.py``: head jobs wait in RUNNABLE until the test moves them).
- ``page``: a fresh browser context (cookies) and page per test.

The UI has no SQL of its own (it calls the services, which the rest of the suite runs on
SQLite and PostgreSQL), so these tests run on SQLite only: a browser journey per database
would double the time for no new coverage.  Screenshots go to ``test-artifacts/web/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from batchforge.forge.waits import Pacing
from batchforge.local_aws import LocalAws
from batchforge.server.app import create_app
from batchforge.services.context import AppContext
from batchforge.services.forge_runner import ForgeWorker
from batchforge.services.run_tracker import RunTracker
from tests.awsrules import AwsRules
from tests.batchjobs import BatchJobs
from tests.cli.conftest import serve
from tests.conftest import REPO_ROOT

CHROMIUM = Path(os.environ.get("BATCHFORGE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "web"
WORKER_INTERVAL = 0.25
# Every wait of a browser test (actions, navigations and ``expect`` assertions) waits on a
# condition for up to this long: the CI machine is a busy 2-core box, where a click that
# takes 0.2 s alone can take over 10 s.  Generous, since a passing test never waits it out.
UI_TIMEOUT_MS = 90_000
expect.set_options(timeout=UI_TIMEOUT_MS)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only (see the module docstring)."""
    return f"sqlite:///{tmp_path / 'batchforge.db'}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        message = f"the browser tests need Debian's chromium at {CHROMIUM}"
        if os.environ.get("CI"):  # CI installs it (.ci/run): a missing browser is a failure
            pytest.fail(message)
        pytest.skip(message)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class UiServer:
    url: str
    token: str
    ctx: AppContext
    jobs: BatchJobs
    aws: LocalAws


@pytest.fixture
def ui(app_ctx: AppContext, admin_token: str, local_aws: LocalAws) -> Iterator[UiServer]:
    jobs = BatchJobs()
    app_ctx.aws.event_hooks.extend([*AwsRules().hooks(), *jobs.hooks()])
    app_ctx.pacing = Pacing(interval=0.1, retry_interval=0.05, timeout=600, retry_timeout=120)
    app = create_app(app_ctx)
    workers = [ForgeWorker(app_ctx, WORKER_INTERVAL), RunTracker(app_ctx, WORKER_INTERVAL)]
    app.state.forge_worker, app.state.run_tracker = workers
    for worker in workers:
        worker.start()
    try:
        with serve(app, log_level="warning") as url:
            yield UiServer(url, admin_token, app_ctx, jobs, local_aws)
    finally:
        for worker in workers:
            worker.stop()


@pytest.fixture
def page(browser: Browser, ui: UiServer) -> Iterator[Page]:
    context = browser.new_context(
        base_url=ui.url, viewport={"width": 1366, "height": 900}, accept_downloads=True
    )
    context.set_default_timeout(UI_TIMEOUT_MS)
    context.set_default_navigation_timeout(UI_TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()
