"""The web UI's session cookie and CSRF tokens.

The cookie is opaque and tamper-proof: a small JSON payload sealed with the server's
AES-256-GCM key (:class:`~batchforge.crypto.SecretBox`, bound to the context
``web-session``).  It holds

- ``csrf``: a random token every POST must echo (form field ``csrf_token`` or header
  ``X-CSRF-Token``), compared in constant time;
- ``sid``: a random session key whose SHA-256 is a ``web_session`` row (migration 0011),
  looked up on every request: signing out deletes the row, so the cookie (or a copy of it)
  signs no one in afterwards; deleting the API token a session signed in with, or disabling
  its user, ends it too;
- ``exp``: the absolute expiry (:data:`SESSION_SECONDS` after sign-in), also kept in the row.

Signed-out visitors get an anonymous session (no ``tok``) so that the sign-in form is
CSRF-protected too.  Signing in issues a new CSRF token (no session fixation).  The cookie is
HttpOnly, SameSite=Lax, and Secure when the server is reached over HTTPS.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from starlette.requests import Request
from starlette.responses import Response

from batchforge.db import models
from batchforge.errors import BatchforgeError, ConfigurationError, Unauthorized
from batchforge.services import accounts
from batchforge.services.context import AppContext, Principal

COOKIE = "bf_session"
FLASH_COOKIE = "bf_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 12 * 3600
ANONYMOUS_SECONDS = 2 * 3600
_CONTEXT = "web-session"
_FLASH_CONTEXT = "web-flash"
_SEALED_PREFIX = "v1:"


class SignInRequired(Exception):
    """The request needs a signed-in session; the UI answers with the sign-in page."""


class CsrfRejected(BatchforgeError):
    """A POST without the session's CSRF token (or from another site)."""

    code = "csrf-rejected"
    status = 403


@dataclass(frozen=True)
class WebSession:
    """What the cookie says.  ``key`` (the server-side session's key) is None for a
    signed-out visitor."""

    csrf: str
    key: str | None
    expires: int

    @property
    def signed_in(self) -> bool:
        return self.key is not None

    @classmethod
    def anonymous(cls) -> WebSession:
        return cls(secrets.token_urlsafe(32), None, int(time.time()) + ANONYMOUS_SECONDS)


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def start(
    ctx: AppContext, user_id: int, *, method: str, api_token_id: int | None = None
) -> WebSession:
    """A new signed-in session (new key, new CSRF token: no session fixation) for ``user_id``,
    recorded server-side.  ``method`` is ``token`` or ``oidc``; a token session names its
    token so that deleting the token ends it."""
    key = secrets.token_urlsafe(32)
    expires = int(time.time()) + SESSION_SECONDS
    with ctx.db.transaction() as session:
        session.execute(
            delete(models.WebSessionRow).where(models.WebSessionRow.expires_at < datetime.now(UTC))
        )
        session.add(
            models.WebSessionRow(
                key_sha256=_key_hash(key),
                user_id=user_id,
                api_token_id=api_token_id,
                method=method,
                expires_at=datetime.fromtimestamp(expires, UTC),
            )
        )
    return WebSession(secrets.token_urlsafe(32), key, expires)


def principal(ctx: AppContext, found: WebSession) -> Principal:
    """The user a signed-in session belongs to; :class:`SignInRequired` when the session was
    signed out, has expired, lost its API token, or its user is disabled."""
    if found.key is None:
        raise SignInRequired()
    with ctx.db.transaction() as session:
        user_id = session.scalars(
            select(models.WebSessionRow.user_id).where(
                models.WebSessionRow.key_sha256 == _key_hash(found.key),
                models.WebSessionRow.expires_at > datetime.now(UTC),
            )
        ).first()
    if user_id is None:
        raise SignInRequired()
    try:
        return accounts.principal_of_user(ctx, user_id)
    except Unauthorized:
        raise SignInRequired() from None


def end(ctx: AppContext, found: WebSession | None) -> None:
    """Sign out: the server-side session is deleted (its cookie no longer works anywhere)."""
    if found is None or found.key is None:
        return
    with ctx.db.transaction() as session:
        session.execute(
            delete(models.WebSessionRow).where(
                models.WebSessionRow.key_sha256 == _key_hash(found.key)
            )
        )


def _seal(ctx: AppContext, payload: dict[str, object], context: str) -> str:
    return ctx.box.encrypt(json.dumps(payload, separators=(",", ":")), context).removeprefix(
        _SEALED_PREFIX
    )


def _unseal(ctx: AppContext, value: str, context: str) -> dict[str, object] | None:
    try:
        data = json.loads(ctx.box.decrypt(_SEALED_PREFIX + value, context))
    except (ConfigurationError, ValueError, TypeError):
        return None
    return data if isinstance(data, dict) else None


def read(ctx: AppContext, request: Request) -> WebSession | None:
    """The request's session, or None when absent, forged, altered or expired."""
    value = request.cookies.get(COOKIE)
    if not value:
        return None
    data = _unseal(ctx, value, _CONTEXT)
    if data is None:
        return None
    try:
        found = WebSession(
            csrf=str(data["csrf"]),
            key=str(data["sid"]) if data.get("sid") else None,
            expires=int(str(data["exp"])),
        )
    except (KeyError, ValueError):
        return None
    return found if found.expires > time.time() else None


def _secure(ctx: AppContext, request: Request) -> bool:
    return request.url.scheme == "https" or ctx.settings.effective_public_url.startswith("https:")


def write(ctx: AppContext, request: Request, response: Response, session: WebSession) -> None:
    """Set the session cookie on ``response``."""
    payload = {"csrf": session.csrf, "sid": session.key, "exp": session.expires}
    response.set_cookie(
        COOKIE,
        _seal(ctx, payload, _CONTEXT),
        max_age=max(0, session.expires - int(time.time())),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(ctx, request),
    )


def clear(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")


def check_csrf(session: WebSession | None, given: str | None) -> None:
    """Raise :class:`CsrfRejected` unless ``given`` is the session's CSRF token."""
    if session is None or not given or not hmac.compare_digest(session.csrf, given):
        raise CsrfRejected(
            "This form has expired or did not come from this site. Reload the page and try again.",
            hint="Forms carry a token tied to your session; sign in again if it has ended.",
        )


def check_same_origin(request: Request) -> None:
    """Defence in depth behind the CSRF token: refuse POSTs a browser marks cross-site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site == "cross-site":
        raise CsrfRejected("Cross-site form posts are refused.")
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if origin.split("://", 1)[-1] != host:
            raise CsrfRejected("Cross-site form posts are refused.")


# --- one-time notices ("Credentials saved") across a redirect --------------------------------


def set_flash(ctx: AppContext, response: Response, text: str, kind: str = "success") -> None:
    """A notice shown once by the next page rendered (sealed: no one can forge one)."""
    response.set_cookie(
        FLASH_COOKIE,
        _seal(ctx, {"text": text, "kind": kind}, _FLASH_CONTEXT),
        max_age=120,
        path="/",
        httponly=True,
        samesite="lax",
    )


def pop_flash(ctx: AppContext, request: Request) -> dict[str, str] | None:
    """The pending notice, if any (the caller deletes the cookie on its response)."""
    value = request.cookies.get(FLASH_COOKIE)
    if not value:
        return None
    data = _unseal(ctx, value, _FLASH_CONTEXT)
    if not data or data.get("kind") not in ("success", "error", "info"):
        return None
    return {"text": str(data.get("text", "")), "kind": str(data["kind"])}


# --- short-lived sealed values (the OpenID Connect sign-in's state) -------------------------


def seal(ctx: AppContext, payload: dict[str, object], context: str) -> str:
    """``payload`` encrypted and authenticated for ``context`` (cookie-safe text)."""
    return _seal(ctx, payload, context)


def unseal(ctx: AppContext, value: str, context: str) -> dict[str, object] | None:
    """What :func:`seal` sealed for ``context``; None when forged, altered or another's."""
    return _unseal(ctx, value, context)
