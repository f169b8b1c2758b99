"""The UI's routers, one module per area (the catch-all "not found" page last)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from batchforge.web.core import CurrentViewer, WebRoute, error_page
from batchforge.web.routes import (
    auth,
    compute_envs,
    credentials,
    data,
    launch,
    orgs,
    policy,
    run_trace,
    runs,
    secrets,
    sso,
    tokens,
    workspaces,
)

not_found = APIRouter(route_class=WebRoute, include_in_schema=False)


@not_found.get("/ui/{rest:path}")
def unknown_page(request: Request, rest: str, viewer: CurrentViewer) -> Response:
    return error_page(request, 404, "Not found", "There is no such page.")


ROUTERS: list[APIRouter] = [
    auth.router,
    sso.router,
    tokens.router,
    workspaces.router,
    orgs.router,
    credentials.router,
    compute_envs.router,
    launch.router,
    runs.router,
    run_trace.router,
    secrets.router,
    data.router,
    policy.router,
    not_found,
]
