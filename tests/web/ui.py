"""Helpers for the browser tests: sign in, screenshots, page texts, scripted log lines."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Page, expect

from tests.factories import Keys
from tests.web.conftest import ARTIFACTS, UiServer

AUDIT = """() => {
  const problems = [];
  for (const el of document.querySelectorAll(
      "input:not([type=hidden]), select, textarea, button, a[href]")) {
    if (el.closest("[hidden]")) continue;
    const label = el.labels && el.labels.length ? el.labels[0].textContent
      : (el.getAttribute("aria-label") || (el.matches("button, a") ? el.textContent : ""));
    if (!label || !label.trim()) problems.push("no accessible name: " + el.outerHTML.slice(0, 90));
  }
  const seen = new Set();
  for (const el of document.querySelectorAll("[id]")) {
    if (seen.has(el.id)) problems.push("duplicate id: " + el.id);
    seen.add(el.id);
  }
  if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one h1");
  for (const landmark of ["main", "header", "footer"]) {
    if (!document.querySelector(landmark)) problems.push("no " + landmark + " landmark");
  }
  for (const img of document.images) if (!img.hasAttribute("alt")) problems.push("img without alt");
  if (!document.documentElement.lang) problems.push("no lang");
  return problems;
}"""
"""A small accessibility audit run on every page the tests screenshot: every control and
link has an accessible name, ids are unique, one h1, the landmarks, alt texts, a language."""


class Visits:
    """Every page's HTML as the browser had it, to check no secret ever reached one."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}

    def shot(self, page: Page, name: str) -> None:
        """Screenshot ``name`` (test-artifacts/web/<name>.png) and keep the page's HTML."""
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        self.keep(page, name)
        assert page.evaluate(AUDIT) == [], f"accessibility problems on {name}"

    def keep(self, page: Page, name: str) -> None:
        self.pages[name] = page.content()

    def containing(self, *needles: str) -> list[str]:
        return [name for name, html in self.pages.items() if any(n in html for n in needles)]


def sign_in(page: Page, token: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/ui/sign-in"))
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()


def add_credentials(page: Page, name: str, keys: Keys) -> None:
    page.goto("/ui/credentials")
    form = page.locator("form[action='/ui/credentials']")
    form.get_by_label("Name", exact=True).fill(name)
    form.get_by_label("Access key ID").fill(keys.access_key)
    form.get_by_label("Secret access key").fill(keys.secret_key)
    form.get_by_role("button", name="Add and validate").click()
    expect(
        page.get_by_role("status").filter(has_text=f"Credentials '{name}' saved")
    ).to_be_visible()


def field_error(page: Page, name: str) -> Any:
    """The error shown next to form field ``name``."""
    return page.locator(f"#e-{name}")


def put_log_lines(ui: UiServer, stream: str, lines: list[str]) -> None:
    """Write ``lines`` to the head job's CloudWatch stream (the emulator runs no job)."""
    logs = ui.aws.boto_client("logs")
    group = "/aws/batch/job"
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        logs.create_log_group(logGroupName=group)
    if not logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=stream)["logStreams"]:
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    logs.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": now + i, "message": line} for i, line in enumerate(lines)],
    )


def nav(page: Page, name: str) -> None:
    """Follow a link of the main navigation."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()
