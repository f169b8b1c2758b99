"""Rules about the test suite itself that, broken, fail far from where they were broken."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

TESTS = REPO_ROOT / "tests"
# ``from tests.web.conftest import ... browser`` or a second ``sync_playwright()``.
SECOND_BROWSER = re.compile(
    r"from tests\.web\.conftest import[^\n]*\bbrowser\b|sync_playwright\(", re.MULTILINE
)


def test_one_browser_per_session_only_tests_web_starts_it() -> None:
    """Browser tests live in tests/web and share its one session-scoped ``browser``.

    A module elsewhere that imports that fixture (or calls ``sync_playwright()``) makes a second
    sync Playwright for the session; its event loop stays running in the main thread, and every
    later browser test then errors with "using Playwright Sync API inside the asyncio loop"
    (CI, stop 19: 26 errors).  Playwright: sync_api/_context_manager.py refuses a running loop.
    """
    offenders = [
        str(path.relative_to(REPO_ROOT))
        for path in TESTS.rglob("*.py")
        if path != TESTS / "web" / "conftest.py"
        and path != TESTS / "test_suite_rules.py"
        and SECOND_BROWSER.search(path.read_text())
    ]
    assert offenders == [], "move these browser tests into tests/web: " + ", ".join(offenders)
