"""The web UI's session cookie and CSRF tokens.

The cookie is opaque and tamper-proof: a small JSON payload sealed with the server's
AES-256-GCM key (:class:`~batchforge.crypto.SecretBox`, bound to the context
``web-session``).  It holds

- ``csrf``: a random token every POST must echo (form field ``csrf_token`` or header
  ``X-CSRF-Token``), compared in constant time;
- ``tok``: the SHA-256 of the API token the user signed in with (never the token), looked up
  on every request, so deleting the token ends the session;
- ``exp``: the absolute expiry (:data:`SESSION_SECONDS` after sign-in).

Signed-out visitors get an anonymous session (no ``tok``) so that the sign-in form is
CSRF-protected too.  Signing in issues a new CSRF token (no session fixation).  The cookie is
HttpOnly, SameSite=Lax, and Secure when the server is reached over HTTPS.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from batchforge.errors import BatchforgeError, ConfigurationError
from batchforge.services.context import AppContext

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
    """What the cookie says.  ``token_sha256`` is None for a signed-out visitor."""

    csrf: str
    token_sha256: str | None
    expires: int

    @property
    def signed_in(self) -> bool:
        return self.token_sha256 is not None

    @classmethod
    def anonymous(cls) -> WebSession:
        return cls(secrets.token_urlsafe(32), None, int(time.time()) + ANONYMOUS_SECONDS)

    @classmethod
    def for_token(cls, token_sha256: str) -> WebSession:
        """A fresh session (new CSRF token) for a user who just signed in."""
        return cls(secrets.token_urlsafe(32), token_sha256, int(time.time()) + SESSION_SECONDS)


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
            token_sha256=str(data["tok"]) if data.get("tok") else None,
            expires=int(str(data["exp"])),
        )
    except (KeyError, ValueError):
        return None
    return found if found.expires > time.time() else None


def _secure(ctx: AppContext, request: Request) -> bool:
    return request.url.scheme == "https" or ctx.settings.effective_public_url.startswith("https:")


def write(ctx: AppContext, request: Request, response: Response, session: WebSession) -> None:
    """Set the session cookie on ``response``."""
    payload = {"csrf": session.csrf, "tok": session.token_sha256, "exp": session.expires}
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
