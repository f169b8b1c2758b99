"""Compute environments: list; a Forge / Manual form with AWS drop-downs; a preflight check
(with the IAM policy the configuration needs) before creating; live status while Forge
creates or disposes; delete with the dispose / preserve choice."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from batchforge.errors import BatchforgeError, NotFound
from batchforge.schemas.compute_envs import AwsBatchConfig, ComputeEnvOut
from batchforge.services import compute_envs as service
from batchforge.services import credentials, policies
from batchforge.services.authz import Permission
from batchforge.web import compute_form, render
from batchforge.web import session as web_session
from batchforge.web.core import (
    CheckedForm,
    Viewer,
    WebRoute,
    app_ctx,
    redirect,
    redirect_with,
    viewer_needs,
)
from batchforge.web.forms import FormState

router = APIRouter(prefix="/ui/compute-envs", route_class=WebRoute, include_in_schema=False)

CanRead = Annotated[Viewer, Depends(viewer_needs(Permission.COMPUTE_ENVIRONMENT_READ))]
CanWrite = Annotated[Viewer, Depends(viewer_needs(Permission.COMPUTE_ENVIRONMENT_WRITE))]
CanDelete = Annotated[Viewer, Depends(viewer_needs(Permission.COMPUTE_ENVIRONMENT_DELETE))]
LIVE = ("CREATING", "DELETING")


def _wake_worker(request: Request) -> None:
    worker = getattr(request.app.state, "forge_worker", None)
    if worker is not None:
        worker.wake()


def _policy(request: Request, config: AwsBatchConfig) -> dict[str, Any] | None:
    """The least-privilege policy for ``config``, as pretty JSON documents."""
    try:
        generated = policies.for_compute_env(app_ctx(request), config)
    except BatchforgeError:
        return None
    generated["texts"] = [json.dumps(doc, indent=2) for doc in generated["policies"]]
    return generated


def _form_page(
    request: Request,
    viewer: Viewer,
    form: FormState,
    *,
    status: int = 200,
    checked: service.CheckedConfig | None = None,
) -> Response:
    ctx = app_ctx(request)
    resources = compute_form.load_resources(
        ctx, viewer.workspace_id, form.get("credentialsId"), form.get("region")
    )
    return render.page(
        request,
        "compute_env_new.html",
        status=status,
        title="New compute environment",
        section="compute",
        form=form,
        res=resources,
        credentials=credentials.list_all(ctx, viewer.workspace_id),
        checked=checked,
        summary=compute_form.summary(checked.config) if checked else [],
        policy=_policy(request, checked.config) if checked else None,
    )


def _state_from_query(request: Request, viewer: Viewer) -> FormState:
    """The form as the query gives it: a submitted form (it has ``mode``) as it was, a link
    (``?credentialsId=…``) over the defaults."""
    query = request.query_params
    given = FormState.from_form(FormData(list(query.multi_items())), multi=compute_form.MULTI)
    if "mode" in query:
        return given
    state = compute_form.defaults(app_ctx(request), viewer.workspace_id)
    state.values.update({k: v for k, v in given.values.items() if k in query})
    return state


@router.get("")
def list_envs(request: Request, viewer: CanRead) -> Response:
    ctx = app_ctx(request)
    return render.page(
        request,
        "compute_envs.html",
        title="Compute environments",
        section="compute",
        envs=service.list_all(ctx, viewer.workspace_id),
        names={c.id: c.name for c in credentials.list_all(ctx, viewer.workspace_id)},
    )


@router.get("/new")
def new_env(request: Request, viewer: CanWrite) -> Response:
    return _form_page(request, viewer, _state_from_query(request, viewer))


@router.get("/new/resources")
def resources_fragment(request: Request, viewer: CanWrite) -> Response:
    """The AWS resources fieldset for the chosen credentials and region (the script swaps
    it in when they change)."""
    form = _state_from_query(request, viewer)
    resources = compute_form.load_resources(
        app_ctx(request), viewer.workspace_id, form.get("credentialsId"), form.get("region")
    )
    return render.fragment("_ce_resources.html", form=form, res=resources)


def _checked_request(request: Request, viewer: Viewer, state: FormState) -> Any:
    """The request, labels' tags and the preflight outcome; errors land on ``state``."""
    tags = compute_form.resource_tags(state)
    body = compute_form.build_request(state)
    if body is None or not state.ok:
        return None, tags, None
    try:
        checked = service.check_config(app_ctx(request), viewer.workspace_id, body, tags)
    except BatchforgeError as problem:
        state.fail(problem, compute_form.FIELDS, compute_form.ALIASES)
        return body, tags, None
    return body, tags, checked


@router.post("/check")
def check_env(request: Request, viewer: CanWrite, form: CheckedForm) -> Response:
    state = FormState.from_form(form, multi=compute_form.MULTI)
    _body, _tags, checked = _checked_request(request, viewer, state)
    status = 200 if checked else 400
    return _form_page(request, viewer, state, status=status, checked=checked)


@router.post("")
def create_env(request: Request, viewer: CanWrite, form: CheckedForm) -> Response:
    state = FormState.from_form(form, multi=compute_form.MULTI)
    tags = compute_form.resource_tags(state)
    body = compute_form.build_request(state)
    if body is None or not state.ok:
        return _form_page(request, viewer, state, status=400)
    ctx = app_ctx(request)
    try:
        label_ids = compute_form.ensure_labels(ctx, viewer.workspace_id, tags)
        ce_id = service.create(ctx, viewer.workspace_id, body, label_ids)
    except BatchforgeError as problem:
        state.fail(problem, compute_form.FIELDS, compute_form.ALIASES)
        return _form_page(request, viewer, state, status=problem.status)
    _wake_worker(request)
    what = "Forge is creating its AWS resources" if body.config.forge else "It is ready"
    return redirect_with(
        request, f"/ui/compute-envs/{ce_id}", f"Compute environment '{body.name}' saved. {what}."
    )


def _env_or_none(request: Request, viewer: Viewer, ce_id: str) -> ComputeEnvOut | None:
    try:
        return service.describe(app_ctx(request), viewer.workspace_id, ce_id)
    except NotFound:
        return None


def _ebs(env: ComputeEnvOut) -> str | None:
    """The environment's EBS auto-scaling, as its page says it (None for a Manual one)."""
    forge = env.config.forge
    return compute_form.ebs_auto_scaling(forge) if forge else None


@router.get("/{ce_id}")
def show_env(request: Request, ce_id: str, viewer: CanRead) -> Response:
    env = service.describe(app_ctx(request), viewer.workspace_id, ce_id)
    return render.page(
        request,
        "compute_env.html",
        title=env.name,
        section="compute",
        env=env,
        live=env.status in LIVE,
        ebs=_ebs(env),
        policy=_policy(request, env.config),
        retry=service.retry_info(app_ctx(request), viewer.workspace_id, ce_id),
    )


@router.get("/{ce_id}/status")
def env_status(request: Request, ce_id: str, viewer: CanRead) -> Response:
    """The live part of the page: status, message and forged resources."""
    env = _env_or_none(request, viewer, ce_id)
    if env is None:
        response = render.fragment("_ce_gone.html")
        web_session.set_flash(
            app_ctx(request),
            response,
            "The compute environment is deleted; everything Forge created was disposed of.",
        )
        return response
    return render.fragment(
        "_ce_status.html",
        env=env,
        live=env.status in LIVE,
        ebs=_ebs(env),
        csrf_token=viewer.csrf,
        retry=service.retry_info(app_ctx(request), viewer.workspace_id, ce_id),
    )


@router.post("/{ce_id}/retry")
def retry_env(request: Request, ce_id: str, viewer: CanWrite, form: CheckedForm) -> Response:
    """The Retry button: try failed Forge work again now."""
    try:
        status = service.retry(app_ctx(request), viewer.workspace_id, ce_id)
    except BatchforgeError as problem:
        return redirect_with(request, f"/ui/compute-envs/{ce_id}", problem.message, "error")
    _wake_worker(request)
    return redirect_with(
        request, f"/ui/compute-envs/{ce_id}", f"Retrying now (the environment is {status}).", "info"
    )


@router.post("/{ce_id}/delete")
def delete_env(request: Request, ce_id: str, viewer: CanDelete, form: CheckedForm) -> Response:
    ctx = app_ctx(request)
    env = service.describe(ctx, viewer.workspace_id, ce_id)
    preserve = form.get("resources") == "preserve"
    force = form.get("force") == "on"
    try:
        outcome = service.delete(ctx, viewer.workspace_id, ce_id, force, preserve)
    except BatchforgeError as problem:
        return redirect_with(request, f"/ui/compute-envs/{ce_id}", problem.message, "error")
    _wake_worker(request)
    if outcome == "DELETED":
        kept = " Its AWS resources were kept." if env.config.forge and preserve else ""
        return redirect_with(
            request, "/ui/compute-envs", f"Compute environment '{env.name}' deleted.{kept}"
        )
    return redirect_with(
        request,
        f"/ui/compute-envs/{ce_id}",
        f"Deleting '{env.name}': Forge is disposing of what it created.",
        "info",
    )


@router.post("/{ce_id}/primary")
def make_primary(request: Request, ce_id: str, viewer: CanWrite, form: CheckedForm) -> Response:
    service.make_primary(app_ctx(request), viewer.workspace_id, ce_id)
    return redirect(f"/ui/compute-envs/{ce_id}")


@router.post("/{ce_id}/state")
def set_state(request: Request, ce_id: str, viewer: CanWrite, form: CheckedForm) -> Response:
    wanted = "DISABLED" if form.get("state") == "disable" else "AVAILABLE"
    try:
        service.set_status(app_ctx(request), viewer.workspace_id, ce_id, wanted)
    except BatchforgeError as problem:
        return redirect_with(request, f"/ui/compute-envs/{ce_id}", problem.message, "error")
    return redirect(f"/ui/compute-envs/{ce_id}")
