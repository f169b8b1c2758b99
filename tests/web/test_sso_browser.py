"""Signing in to the web UI with OpenID Connect, in headless Chromium, against a real
provider (``oidc-provider`` on loopback): authorization code + PKCE, the first sign-in creates
the user, groups give the organization role, e-mail domains and groups are enforced, and
signing out ends the session server-side."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from batchforge.db import models
from tests.sso.conftest import PROVIDER_NAME, SsoServer, provider_script, sso
from tests.web.conftest import UI_TIMEOUT_MS

__all__ = ["provider_script", "sso"]  # the provider and the server, from tests/sso


@pytest.fixture
def page(browser: Browser, sso: SsoServer) -> Iterator[Page]:
    """A fresh browser context on the single sign-on server (not ``tests/web``'s ``ui``)."""
    context = browser.new_context(base_url=sso.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(UI_TIMEOUT_MS)
    context.set_default_navigation_timeout(UI_TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


def sign_in_at_provider(page: Page, login: str | None, next_path: str = "/") -> None:
    """Through the provider's own sign-in and consent forms (``login`` None: the browser is
    still signed in at the provider, which sends it straight back)."""
    page.goto(f"/ui/sign-in?next={next_path}")
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    if login is None:
        return
    page.locator('input[name="login"]').fill(login)
    page.locator('input[name="password"]').fill("any-password")
    page.get_by_role("button", name="Sign-in").click()
    consent = page.get_by_role("button", name="Continue")
    consent.wait_for()
    consent.click()


def _user(sso: SsoServer, name: str) -> tuple[models.User, str | None] | None:
    with sso.ctx.db.transaction() as session:
        user = session.scalars(select(models.User).where(models.User.user_name == name)).first()
        if user is None:
            return None
        role = session.scalars(
            select(models.OrgMember.role).where(models.OrgMember.user_id == user.id)
        ).first()
        session.expunge(user)
        return user, role


def _count(sso: SsoServer, model: type) -> int:
    with sso.ctx.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_first_sign_in_creates_an_owner_from_the_admin_group_and_sign_out_revokes(
    page: Page, sso: SsoServer
) -> None:
    sign_in_at_provider(page, "ada", "/ui/secrets")
    expect(page).to_have_url(re.compile(r"/ui/secrets$"))  # back where the user was going
    expect(page.locator("a.who[href='/ui/tokens']")).to_have_text("ada")
    found = _user(sso, "ada")
    assert found is not None
    user, role = found
    assert user.email == "ada@example.org" and role == "owner"
    with sso.ctx.db.transaction() as session:
        identity = session.scalars(select(models.UserIdentity)).one()
        assert (identity.issuer, identity.subject) == (sso.provider.issuer, "ada")
        assert session.scalars(select(models.WebSessionRow.method)).all() == ["oidc"]
    cookie = next(c for c in page.context.cookies() if c["name"] == "bf_session")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    assert _count(sso, models.WebSessionRow) == 0
    page.context.add_cookies([cookie])  # the cookie from before signing out, replayed
    page.goto("/ui/secrets")
    expect(page).to_have_url(re.compile(r"/ui/sign-in"))

    sign_in_at_provider(page, None)  # again (still signed in at the provider): the same user
    expect(page.locator("a.who[href='/ui/tokens']")).to_have_text("ada")
    assert _count(sso, models.UserIdentity) == 1
    assert _count(sso, models.User) == 2  # the bootstrap admin and ada


def test_a_member_group_user_joins_as_member(page: Page, sso: SsoServer) -> None:
    sign_in_at_provider(page, "bob")
    # A member of the organization takes part in no workspace until someone adds them.
    expect(page.locator("main")).to_contain_text(
        re.compile(r"not a (member|participant) of any workspace")
    )
    found = _user(sso, "bob")
    assert found is not None and found[1] == "member"


@pytest.mark.parametrize(
    ("login", "reason"),
    [
        ("eve", "E-mail addresses at 'elsewhere.net' may not sign in to this server."),
        ("dan", "Your account is not in a group allowed to sign in to this server."),
        ("uma", "did not vouch for your e-mail address"),
    ],
)
def test_users_outside_the_allowed_domains_and_groups_are_refused(
    page: Page, sso: SsoServer, login: str, reason: str
) -> None:
    sign_in_at_provider(page, login)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("main")).to_contain_text(reason)
    assert _user(sso, login) is None
    assert _count(sso, models.WebSessionRow) == 0
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/ui/sign-in"))


def test_a_callback_not_started_here_is_refused(page: Page, sso: SsoServer) -> None:
    answer = page.goto("/ui/sso/callback?code=forged&state=forged")
    assert answer is not None and answer.status == 403
    expect(page.locator("main")).to_contain_text("was not started here")
    page.goto("/ui/sign-in")
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    expect(page.locator('input[name="login"]')).to_be_visible()  # now at the provider
    answer = page.goto("/ui/sso/callback?code=forged&state=another")
    assert answer is not None and answer.status == 403
    expect(page.locator("main")).to_contain_text("does not match")
    assert _count(sso, models.WebSessionRow) == 0
