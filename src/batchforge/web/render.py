"""Jinja2 rendering for the web UI: one environment, filters, and the response headers every
page carries (a strict Content-Security-Policy: no inline script or style, nothing from other
origins)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from batchforge import __version__
from batchforge.units import format_duration, format_size, format_time
from batchforge.web import session as web_session

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
STATIC_PREFIX = "/ui/static"

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
STATUS_TONES = {
    "AVAILABLE": "ok",
    "VALID": "ok",
    "SUCCEEDED": "ok",
    "CREATING": "busy",
    "DELETING": "busy",
    "SUBMITTED": "busy",
    "RUNNING": "busy",
    "DISABLED": "muted",
    "CANCELLED": "muted",
    "DELETED": "muted",
    "UNKNOWN": "warn",
    "ERRORED": "bad",
    "INVALID": "bad",
    "FAILED": "bad",
}


def status_tone(status: str | None) -> str:
    return STATUS_TONES.get((status or "").upper(), "muted")


@cache
def _static_version() -> str:
    """A cache-busting suffix for static files: changes whenever one of them does."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(STATIC_DIR.iterdir()):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def static_url(name: str) -> str:
    return f"{STATIC_PREFIX}/{name}?v={_static_version()}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=format_time, duration=format_duration, size=format_size, tone=status_tone
    )
    env.globals.update(static=static_url, version=__version__)
    return env


def render_text(template: str, **data: Any) -> str:
    return environment().get_template(template).render(**data)


def page(
    request: Request,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **data: Any,
) -> HTMLResponse:
    """A full page: the viewer, the CSRF token and a pending notice are added for the base
    template; a new anonymous session (sign-in page) is set on the response."""
    ctx = request.app.state.ctx
    viewer = getattr(request.state, "viewer", None)
    anonymous = getattr(request.state, "new_session", None)
    session = viewer.session if viewer is not None else anonymous
    if session is None:
        session = web_session.read(ctx, request)
    flash = web_session.pop_flash(ctx, request)
    html = render_text(
        template,
        request=request,
        viewer=viewer,
        csrf_token=session.csrf if session is not None else "",
        flash=flash,
        **data,
    )
    response = HTMLResponse(html, status_code=status, headers={**PAGE_HEADERS, **(headers or {})})
    if request.cookies.get(web_session.FLASH_COOKIE):
        response.delete_cookie(web_session.FLASH_COOKIE, path="/")
    if anonymous is not None:
        web_session.write(ctx, request, response, anonymous)
    return response


def fragment(template: str, *, status: int = 200, **data: Any) -> HTMLResponse:
    """A piece of a page fetched by the UI's script (live status, table rows)."""
    return HTMLResponse(render_text(template, **data), status_code=status, headers=PAGE_HEADERS)


def no_store(response: Response) -> Response:
    response.headers.update(PAGE_HEADERS)
    return response
