"""Sign-in with an API token, sign-out, and the overview page at ``/``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from batchforge.errors import Unauthorized
from batchforge.services import accounts, compute_envs, credentials, runs, tokens
from batchforge.services.authz import Permission
from batchforge.web import render
from batchforge.web import session as web_session
from batchforge.web.core import (
    CheckedForm,
    Viewer,
    WebRoute,
    app_ctx,
    current_viewer,
    redirect,
    redirect_with,
    safe_next,
    viewer_needs,
)
from batchforge.web.forms import FormState
from batchforge.web.session import SignInRequired

router = APIRouter(route_class=WebRoute, include_in_schema=False)

ViewerCanRead = Annotated[Viewer, Depends(viewer_needs(Permission.WORKSPACE_READ))]


def _sign_in_page(request: Request, form: FormState, status: int = 200) -> Response:
    ctx = app_ctx(request)
    found = web_session.read(ctx, request)
    if found is None or found.signed_in:
        request.state.new_session = web_session.WebSession.anonymous()
    else:
        request.state.new_session = found
    sso_name = ctx.settings.oidc_provider_name if ctx.settings.oidc_enabled else None
    return render.page(
        request, "sign_in.html", status=status, form=form, title="Sign in", sso_name=sso_name
    )


@router.get("/ui/sign-in")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    try:
        current_viewer(request)
    except SignInRequired:
        return _sign_in_page(request, FormState(values={"next": safe_next(next)}))
    return redirect(safe_next(next))  # already signed in


@router.post("/ui/sign-in")
def sign_in(request: Request, form: CheckedForm) -> Response:
    state = FormState.from_form(form, secret=("token",))
    token = form.get("token")
    token = token.strip() if isinstance(token, str) else ""
    ctx = app_ctx(request)
    if not token:
        state.errors["token"] = "Enter your API token."
        return _sign_in_page(request, state, 400)
    try:
        principal = accounts.authenticate(ctx, token)
        token_id = tokens.id_of(ctx, token) if principal.run_id is None else None
        if token_id is None:  # a run token signs no one in
            raise Unauthorized("Not a personal API token.")
    except Unauthorized:
        state.errors["token"] = "This API token is not valid. Check it, or create a new one."
        return _sign_in_page(request, state, 400)
    response = redirect(safe_next(state.get("next")))
    started = web_session.start(ctx, principal.user_id, method="token", api_token_id=token_id)
    web_session.write(ctx, request, response, started)
    return response


@router.post("/ui/sign-out")
def sign_out(request: Request, form: CheckedForm) -> Response:
    web_session.end(app_ctx(request), web_session.read(app_ctx(request), request))
    response = redirect_with(request, "/ui/sign-in", "You are signed out.", "info")
    web_session.clear(response)
    return response


@router.get("/")
def overview(request: Request, viewer: ViewerCanRead) -> Response:
    ctx, workspace_id = app_ctx(request), viewer.workspace_id
    envs = compute_envs.list_all(ctx, workspace_id)
    recent = runs.list_runs(ctx, workspace_id, max_results=5).workflows
    active = runs.list_runs(ctx, workspace_id, status="RUNNING", max_results=100).workflows
    return render.page(
        request,
        "overview.html",
        title="Overview",
        section="overview",
        credentials=credentials.list_all(ctx, workspace_id),
        envs=envs,
        recent=recent,
        running=len(active),
    )


@router.get("/ui")
def ui_root() -> Response:
    return redirect("/")
