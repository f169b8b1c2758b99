"""The personal tokens page in headless Chromium: create (shown once), refuse a bad name next
to the field, delete; deleting the token the browser signed in with ends the session."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.conftest import UiServer
from tests.web.ui import field_error, sign_in


def test_create_show_once_refuse_bad_names_and_delete(page: Page, ui: UiServer) -> None:
    sign_in(page, ui.token)
    page.get_by_role("link", name="admin").click()
    expect(page.get_by_role("heading", name="Your API tokens", level=1)).to_be_visible()
    form = page.locator("form[action='/ui/tokens']")

    form.get_by_label("Name").fill("has space")
    form.get_by_role("button", name="Create token").click()
    expect(field_error(page, "name")).to_contain_text("letters, digits")

    form.get_by_label("Name").fill("laptop")
    form.get_by_role("button", name="Create token").click()
    shown = page.get_by_label("New API token")
    expect(shown).to_have_value(re.compile(r"^bf_"))
    value = shown.input_value()
    rows = page.get_by_role("row")
    expect(rows.filter(has_text="laptop")).to_contain_text("never")

    page.goto("/ui/tokens")  # never shown again
    expect(page.get_by_role("row").filter(has_text="laptop")).to_be_visible()
    assert value not in page.content()
    assert page.request.get("/user-info", headers={"Authorization": f"Bearer {value}"}).ok

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete laptop").click()
    expect(page.get_by_role("status")).to_have_text("Token 'laptop' deleted.")
    expect(page.get_by_role("row").filter(has_text="laptop")).to_have_count(0)
    gone = page.request.get("/user-info", headers={"Authorization": f"Bearer {value}"})
    assert gone.status == 401


def test_deleting_the_token_signed_in_with_ends_the_session(page: Page, ui: UiServer) -> None:
    sign_in(page, ui.token)
    page.goto("/ui/tokens")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete admin").click()
    expect(page).to_have_url(re.compile(r"/ui/sign-in"))
