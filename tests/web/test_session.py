"""Sign-in, sign-out, the session cookie, CSRF protection, and secrets kept out of pages."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from batchforge.services import accounts, credentials, pipeline_secrets
from batchforge.services.pipeline_secrets import Owner
from tests.factories import fake_keys
from tests.web.conftest import UiServer
from tests.web.ui import Visits, add_credentials, field_error, nav, sign_in


def session_cookie(page: Page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "bf_session")


def csrf_of(page: Page) -> str:
    return page.locator('meta[name="csrf-token"]').get_attribute("content") or ""


def test_a_bad_token_is_refused_and_signing_out_ends_the_session(page: Page, ui: UiServer) -> None:
    page.goto("/ui/credentials")
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next=%2Fui%2Fcredentials"))
    page.get_by_label("API token").fill("bf_not-a-token")
    page.get_by_role("button", name="Sign in").click()
    expect(field_error(page, "token")).to_contain_text("not valid")
    expect(page.get_by_label("API token")).to_have_value("")
    page.get_by_label("API token").fill(ui.token)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/ui/credentials$"))  # back where the user was going

    signed_in = session_cookie(page)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    assert session_cookie(page) != signed_in  # replaced by a signed-out session
    page.goto("/ui/secrets")
    expect(page).to_have_url(re.compile(r"/ui/sign-in"))
    assert page.request.get("/ui/runs/rows", max_redirects=0).status == 303


def test_the_session_cookie_is_http_only_lax_and_opaque(page: Page, ui: UiServer) -> None:
    sign_in(page, ui.token)
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "bf_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    value = cookie["value"]
    assert ui.token not in value and accounts.hash_token(ui.token) not in value
    assert page.evaluate("document.cookie") == ""  # scripts cannot read it


def test_posts_without_the_session_csrf_token_are_refused(page: Page, ui: UiServer) -> None:
    sign_in(page, ui.token)
    keys = fake_keys()
    fields = {"name": "sneaky", "accessKey": keys.access_key, "secretKey": keys.secret_key}
    missing = page.request.post("/ui/credentials", form=fields)
    assert missing.status == 403 and "Request refused" in missing.text()
    forged = page.request.post("/ui/credentials", form={**fields, "csrf_token": "guess"})
    assert forged.status == 403
    other_site = page.request.post(
        "/ui/credentials",
        form={**fields, "csrf_token": csrf_of(page)},
        headers={"Origin": "http://evil.example"},
    )
    assert other_site.status == 403
    script_call = page.request.post("/ui/launch/params-check", data="a: 1")
    assert script_call.status == 403
    sign_out = page.request.post("/ui/sign-out", form={}, max_redirects=0)
    assert sign_out.status == 403  # not even sign-out: no logout CSRF
    assert credentials.list_all(ui.ctx, 1) == []
    accepted = page.request.post(
        "/ui/credentials", form={**fields, "csrf_token": csrf_of(page)}, max_redirects=0
    )
    assert accepted.status == 303
    assert [c.name for c in credentials.list_all(ui.ctx, 1)] == ["sneaky"]


def test_the_api_keeps_bearer_auth_and_ignores_the_session_cookie(page: Page, ui: UiServer) -> None:
    sign_in(page, ui.token)
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "bf_session"]
    with httpx.Client(
        base_url=ui.url, cookies={"bf_session": cookie["value"]}, timeout=120
    ) as http:
        assert http.get("/credentials").status_code == 401
        bearer = http.get("/credentials", headers={"Authorization": f"Bearer {ui.token}"})
        assert bearer.status_code == 200 and bearer.json() == {"credentials": []}


def test_no_secret_value_ever_reaches_a_page(page: Page, ui: UiServer) -> None:
    visits = Visits()
    keys = fake_keys()
    workspace_value, user_value = "ws-s3cret-0c9b1d", "my-s3cret-4e7a2f"
    sign_in(page, ui.token)
    add_credentials(page, "lab-aws", keys)
    page.goto("/ui/credentials")  # an error re-renders the form: the secret is not in it
    form = page.locator("form[action='/ui/credentials']")
    form.get_by_label("Name", exact=True).fill("lab-aws")
    form.get_by_label("Access key ID").fill(keys.access_key)
    form.get_by_label("Secret access key").fill(keys.secret_key)
    form.get_by_role("button", name="Add and validate").click()
    expect(field_error(page, "name")).to_contain_text("already exist")
    visits.keep(page, "credentials-conflict")
    nav(page, "Secrets")
    for scope, name, value in (
        ("workspace", "WS_KEY", workspace_value),
        ("user", "MY_KEY", user_value),
    ):
        form = page.locator("form[action='/ui/secrets']")
        form.locator(f"#f-scope-{scope}").check()
        form.get_by_label("Name", exact=True).fill(name)
        form.get_by_label("Value", exact=True).fill(value)
        form.get_by_role("button", name="Add secret").click()
        expect(page.get_by_role("status").filter(has_text=f"Secret '{name}' added")).to_be_visible()
    page.get_by_label("New value of WS_KEY").fill("")
    page.get_by_role("button", name="Replace the value of WS_KEY").click()
    expect(page.locator("#e-workspace-1")).to_contain_text("value is required")
    page.get_by_label("New value of WS_KEY").fill(workspace_value + "-2")
    page.get_by_role("button", name="Replace the value of WS_KEY").click()
    expect(page.get_by_role("status").filter(has_text="was replaced")).to_be_visible()
    visits.keep(page, "secrets")
    page.goto("/ui/launch")
    expect(page.get_by_label("Workspace secrets for this run")).to_contain_text("WS_KEY")
    expect(page.get_by_label("Your secrets for this run")).to_contain_text("MY_KEY")
    visits.keep(page, "launch")
    nav(page, "Secrets")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete MY_KEY").click()
    expect(page.get_by_role("status").filter(has_text="Secret 'MY_KEY' deleted")).to_be_visible()
    expect(page.get_by_role("cell", name="MY_KEY", exact=True)).to_have_count(0)
    for path in (
        "/",
        "/ui/credentials",
        "/ui/compute-envs",
        "/ui/compute-envs/new",
        "/ui/pipelines",
        "/ui/pipelines/new",
        "/ui/runs",
        "/ui/runs/rows",
        "/ui/secrets",
        "/ui/data",
        "/ui/policy",
        "/ui/no-such-page",
    ):
        answer = page.request.get(path)
        assert answer.status in (200, 404), path
        visits.pages[path] = answer.text()
    secrets = (keys.secret_key, workspace_value, user_value, ui.token)
    assert visits.containing(*secrets) == []
    owner = Owner(workspace_id=1)
    assert [s.name for s in pipeline_secrets.list_secrets(ui.ctx, owner)] == ["WS_KEY"]
