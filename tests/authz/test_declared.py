"""Every route of the workspace resources declares the permission it needs (the one
decision is ``services/authz.py``): the API's through ``authz.needs`` / ``secret_owner``,
the UI's pages and forms through ``viewer_needs``.  The few that act in no workspace are
listed here with the reason; a new route must take a side."""

from __future__ import annotations

from fastapi import FastAPI

from batchforge.server.app import create_app
from batchforge.services.context import AppContext
from tests.authz.routes import Served, declared_permissions, served_routes

# Modules whose every route acts in a workspace.
WORKSPACE_MODULES = {
    "batchforge.server.routers.compute_envs",
    "batchforge.server.routers.credentials",
    "batchforge.server.routers.data_links",
    "batchforge.server.routers.labels",
    "batchforge.server.routers.pipeline_secrets",
    "batchforge.server.routers.pipelines",
    "batchforge.server.routers.platforms",
    "batchforge.server.routers.workflows",
    "batchforge.web.routes.compute_envs",
    "batchforge.web.routes.credentials",
    "batchforge.web.routes.data",
    "batchforge.web.routes.run_trace",
    "batchforge.web.routes.runs",
}

# Routes of the same areas that need no workspace role, and why.
NO_WORKSPACE_ROLE = {
    ("GET", "/service-info"): "public, as on Seqera",
    ("GET", "/user-info"): "the caller's own account",
    ("POST", "/policy/generate"): "offline: computes a policy from the request alone",
    ("POST", "/policy/check"): "offline: checks a pasted policy",
    ("POST", "/policy/compute-env"): "offline: the policy of a configuration in the request",
    ("GET", "/ui/sign-in"): "before sign-in",
    ("POST", "/ui/sign-in"): "before sign-in",
    ("POST", "/ui/sign-out"): "the caller's own session",
    ("GET", "/ui"): "a redirect",
    ("GET", "/ui/{rest:path}"): "the not-found page",
    ("GET", "/ui/policy"): "offline policy check (as /policy/check)",
    ("POST", "/ui/policy"): "offline policy check (as /policy/check)",
    ("POST", "/ui/launch/params-check"): "offline: parses the text it is sent",
    # The secrets forms act on the user's own secrets or the workspace's: owner_for applies
    # pipeline_secrets:write/delete for the workspace's (tests/authz/test_ui_roles.py).
    ("POST", "/ui/secrets"): "by scope (secrets_form.owner_for)",
    ("POST", "/ui/secrets/{scope}/{secret_id}/value"): "by scope (secrets_form.owner_for)",
    ("POST", "/ui/secrets/{scope}/{secret_id}/delete"): "by scope (secrets_form.owner_for)",
}


def _key(route: Served) -> list[tuple[str, str]]:
    return [(method, route.path) for method in sorted(route.methods) if method != "HEAD"]


def _app(ctx: AppContext) -> FastAPI:
    return create_app(ctx)


def test_workspace_routes_declare_one_permission(app_ctx: AppContext) -> None:
    routes = served_routes(_app(app_ctx))
    checked = [r for r in routes if r.module in WORKSPACE_MODULES]
    assert len(checked) > 60, len(checked)
    undeclared = [(r.path, sorted(r.methods)) for r in checked if len(declared_permissions(r)) != 1]
    assert not undeclared, undeclared


def test_a_route_taking_workspace_id_declares_a_permission(app_ctx: AppContext) -> None:
    """Any route with a ``?workspaceId`` acts in that workspace, so authz decides; the trace
    receiver's routes are the exception: their run tokens carry their own scope and a user's
    token is checked by ``services/trace.py`` through ``authz.require``."""
    missing = []
    for route in served_routes(_app(app_ctx)):
        names = {param.alias for param in route.route.dependant.query_params}
        for sub in route.route.dependant.dependencies:
            names |= {param.alias for param in sub.query_params}
        if "workspaceId" not in names or route.path.startswith("/trace/"):
            continue
        if not declared_permissions(route):
            missing.append(_key(route))
    assert not missing, missing


def test_the_others_are_listed_with_a_reason(app_ctx: AppContext) -> None:
    known_modules = WORKSPACE_MODULES | {
        "batchforge.server.routers.info",
        "batchforge.server.routers.policy",
        "batchforge.web.routes",
        "batchforge.web.routes.auth",
        "batchforge.web.routes.launch",
        "batchforge.web.routes.policy",
        "batchforge.web.routes.secrets",
    }
    unlisted = []
    for route in served_routes(_app(app_ctx)):
        if route.module not in known_modules or declared_permissions(route):
            continue
        unlisted += [key for key in _key(route) if key not in NO_WORKSPACE_ROLE]
    assert not unlisted, unlisted
