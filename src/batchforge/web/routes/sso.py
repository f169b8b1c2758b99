"""Single sign-on (OpenID Connect) for the web UI: ``/ui/sso/start`` sends the browser to the
provider, ``/ui/sso/callback`` signs the user in (a server-side session, as a token sign-in
makes).  The protocol is :mod:`batchforge.web.oidc`; who may sign in,
:mod:`batchforge.services.sso`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from batchforge.errors import NotFound
from batchforge.services import sso
from batchforge.web import oidc
from batchforge.web import session as web_session
from batchforge.web.core import WebRoute, app_ctx, redirect, safe_next

router = APIRouter(route_class=WebRoute, include_in_schema=False)

CALLBACK = "/ui/sso/callback"


def _redirect_uri(request: Request) -> str:
    settings = app_ctx(request).settings
    base = settings.public_url.rstrip("/") if settings.public_url else str(request.base_url)
    return base.rstrip("/") + CALLBACK


def _require_sso(request: Request) -> None:
    if not app_ctx(request).settings.oidc_enabled:
        raise NotFound("Single sign-on is not configured on this server.")


def _secure(request: Request) -> bool:
    return _redirect_uri(request).startswith("https:")


@router.get("/ui/sso/start")
def start(request: Request, next: str | None = None) -> Response:
    _require_sso(request)
    ctx = app_ctx(request)
    url, pending = oidc.begin(ctx.settings, _redirect_uri(request), safe_next(next))
    response = redirect(url)
    sealed = web_session.seal(ctx, pending.__dict__, oidc.STATE_CONTEXT)
    response.set_cookie(
        oidc.STATE_COOKIE,
        sealed,
        max_age=oidc.STATE_SECONDS,
        path="/ui/sso",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


def _pending(request: Request) -> oidc.Pending | None:
    value = request.cookies.get(oidc.STATE_COOKIE)
    data = web_session.unseal(app_ctx(request), value, oidc.STATE_CONTEXT) if value else None
    if not data:
        return None
    try:
        return oidc.Pending(
            state=str(data["state"]),
            nonce=str(data["nonce"]),
            verifier=str(data["verifier"]),
            next=safe_next(str(data["next"])),
            expires=int(str(data["expires"])),
        )
    except (KeyError, ValueError):
        return None


@router.get(CALLBACK)
def callback(request: Request) -> Response:
    _require_sso(request)
    ctx = app_ctx(request)
    pending = _pending(request)
    params = {key: value for key, value in request.query_params.items()}
    identity = oidc.finish(ctx.settings, pending, params, _redirect_uri(request))
    user_id = sso.sign_in(ctx, identity)
    assert pending is not None  # finish() refused otherwise
    response = redirect(pending.next)
    web_session.write(ctx, request, response, web_session.start(ctx, user_id, method="oidc"))
    response.delete_cookie(oidc.STATE_COOKIE, path="/ui/sso", httponly=True, samesite="lax")
    return response
