"""Hostile requests for the web UI's routes (not in the OpenAPI document): its form posts and
its pages, signed in with a real session and CSRF token.

Routes are read from the app itself, so pages added later are swept too; form field names are
read from the UI's templates (``input(form, 'name', ...)`` and ``name="..."``).  Each POST gets,
per hostile value, a form (urlencoded, and multipart for a sample) whose every known field
holds that value; each page gets hostile path segments and query values.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

import batchforge.web
from tests.server.hostile import BIG, DECOY_ID, PATH_VALUES
from tests.server.hostile_run import leaks_internals

TEMPLATES = Path(batchforge.web.__file__).parent / "templates"
FORM_VALUES = [*BIG[:2], "\x00", "a\x00b", "x" * 100_000, "../../etc/passwd", " ", "-1", ""]
QUERY_NAMES = ["search", "status", "next", "offset", "path", "sort", "dir", "after", "region"]
QUERY_VALUES = [*BIG[:2], "\x00", "x" * 5_000, "../../etc/passwd", " ", "-1"]


def field_names() -> list[str]:
    """Every form field name the UI's templates use."""
    found: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        source = template.read_text()
        found.update(re.findall(r"\(form, ['\"](\w+)['\"]", source))
        found.update(re.findall(r'name="(\w+)"', source))
    found.discard("csrf_token")
    found.discard("viewport")
    return sorted(found)


def ui_routes(app: Any = None) -> list[tuple[str, str]]:
    """(method, path template) of every UI route the app serves (an app with no context is
    enough to read them)."""
    if app is None:
        from batchforge.server.app import create_app

        app = create_app(None)  # type: ignore[arg-type]

    def walk(routes: list[Any]) -> Iterator[Any]:
        for route in routes:
            candidates = getattr(route, "effective_candidates", None)
            if candidates is not None:  # FastAPI's included router
                yield from walk(candidates())
            else:
                yield route

    found = set()
    for route in walk(app.router.routes):
        path = getattr(route, "path", "")
        for method in getattr(route, "methods", None) or ():
            if path.startswith("/ui") and method in ("GET", "POST") and "{rest" not in path:
                found.add((method, path))
    return sorted(found)


def sign_in(ui: httpx.Client, token: str) -> str:
    """A signed-in session on ``ui`` (cookies); the session's CSRF token."""
    page = ui.get("/ui/sign-in")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, page.text[:300]
    signed = ui.post("/ui/sign-in", data={"csrf_token": csrf.group(1), "token": token})
    assert signed.status_code in (200, 303), signed.text[:300]
    home = ui.get("/ui", follow_redirects=True)
    meta = re.search(r'name="csrf-token" content="([^"]+)"', home.text)
    assert meta, home.text[:300]
    return meta.group(1)


def _fill(template: str, known: dict[str, str], override: str | None = None) -> str:
    def value(match: re.Match[str]) -> str:
        if override is not None:
            return override
        return known.get(match.group(1), DECOY_ID)

    return re.sub(r"\{(\w+)(?::\w+)?\}", value, template)


def sweep_ui(ui: httpx.Client, csrf: str, known: dict[str, str]) -> tuple[int, list[str]]:
    """Every case over ``ui``; (requests sent, the 5xx answers)."""
    names = field_names()
    known = {**known, "credentials_id": known.get("credentialsId", "1")}
    known.update(ce_id=known.get("computeEnvId", "1"), run_id=known.get("workflowId", "1"))
    known.update(link_id=known.get("dataLinkId", "1"), secret_id=known.get("secretId", "1"))
    sent, errors = 0, []

    def send(method: str, url: str, **kwargs: Any) -> None:
        nonlocal sent
        sent += 1
        try:
            response = ui.request(method, url, **kwargs)
        except httpx.TransportError:
            return
        if response.status_code >= 500 or leaks_internals(response.text):
            shown = str(kwargs)[:120]
            errors.append(f"{response.status_code} {method} {url[:120]} {shown}")

    routes = ui_routes()
    for method, template in [r for r in routes if r[0] == "GET"]:
        for value in PATH_VALUES if "{" in template else []:
            send(method, _fill(template, known, value))
        for value in QUERY_VALUES:
            send(method, _fill(template, known), params=dict.fromkeys(QUERY_NAMES, value))
    destructive = ("/delete", "/state", "/cancel", "/sign-out")
    posts = [r for r in routes if r[0] == "POST"]
    posts.sort(key=lambda route: any(part in route[1] for part in destructive))
    for method, template in posts:
        url = _fill(template, known)
        for value in FORM_VALUES:
            form = {name: value for name in names}
            send(method, url, data={**form, "csrf_token": csrf})
        files = {name: (None, "\x00") for name in names[:20]}
        send(method, url, files={**files, "csrf_token": (None, csrf)})
        for value in PATH_VALUES[:6] if "{" in template else []:
            send(method, _fill(template, known, value), data={"csrf_token": csrf})
    return sent, errors
