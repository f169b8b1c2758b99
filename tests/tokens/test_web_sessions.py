"""Web sessions are kept server-side (``web_session``, migration 0011): signing out deletes
the session, so a copy of the cookie taken before signs no one in; deleting the API token a
session signed in with ends it; the cookie never holds the token or its hash."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from batchforge.db import models
from batchforge.server.app import create_app
from batchforge.services import accounts, tokens
from batchforge.services.context import AppContext


def _csrf(html: str) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert found, "no CSRF meta tag"
    return found.group(1)


def _signed_in(app_ctx: AppContext, token: str) -> TestClient:
    browser = TestClient(create_app(app_ctx), base_url="http://batchforge.test")
    form = browser.get("/ui/sign-in")
    answer = browser.post(
        "/ui/sign-in",
        data={"token": token, "csrf_token": _csrf(form.text), "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    return browser


def _sessions(app_ctx: AppContext) -> int:
    with app_ctx.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(models.WebSessionRow)) or 0


def test_signing_out_revokes_the_session_server_side(app_ctx: AppContext, admin_token: str) -> None:
    browser = _signed_in(app_ctx, admin_token)
    cookie = browser.cookies["bf_session"]
    assert admin_token not in cookie and accounts.hash_token(admin_token) not in cookie
    assert _sessions(app_ctx) == 1
    page = browser.get("/", follow_redirects=False)
    assert page.status_code == 200
    out = browser.post(
        "/ui/sign-out", data={"csrf_token": _csrf(page.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    assert _sessions(app_ctx) == 0

    replay = TestClient(create_app(app_ctx), base_url="http://batchforge.test")
    replay.cookies.set("bf_session", cookie)  # the cookie as it was before signing out
    again = replay.get("/", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/ui/sign-in")


def test_deleting_the_token_ends_its_sessions_and_a_disabled_user_is_signed_out(
    app_ctx: AppContext, admin_token: str
) -> None:
    created = tokens.create(app_ctx, 1, "browser")
    browser = _signed_in(app_ctx, created.accessKey)
    other = _signed_in(app_ctx, admin_token)
    assert browser.get("/", follow_redirects=False).status_code == 200
    assert created.token.id is not None
    tokens.delete_token(app_ctx, 1, created.token.id)
    assert browser.get("/", follow_redirects=False).status_code == 303
    assert other.get("/", follow_redirects=False).status_code == 200  # its own token lives on
    with app_ctx.db.transaction() as session:
        user = session.get(models.User, 1)
        assert user is not None
        user.disabled = True
    assert other.get("/", follow_redirects=False).status_code == 303
