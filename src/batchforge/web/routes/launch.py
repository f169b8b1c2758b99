"""Pipelines and launching: the pipeline list, a launch form with a params editor (JSON or
YAML; errors carry line and column), and saving a launch configuration as a pipeline."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import JSONResponse, Response

from batchforge.errors import BatchforgeError, InvalidInput
from batchforge.launch.params import parse_params
from batchforge.schemas.pipelines import CreatePipelineRequest
from batchforge.schemas.workflows import WorkflowLaunchRequest
from batchforge.services import compute_envs, launches, pipelines
from batchforge.services.authz import Permission
from batchforge.web import compute_form, render
from batchforge.web.core import (
    CheckedForm,
    Viewer,
    WebRoute,
    app_ctx,
    checked_header,
    redirect_with,
    viewer_needs,
)
from batchforge.web.forms import FormState, fail_validation
from batchforge.web.secrets_form import secret_choices

router = APIRouter(route_class=WebRoute, include_in_schema=False)

CanReadPipelines = Annotated[Viewer, Depends(viewer_needs(Permission.PIPELINE_READ))]
CanWritePipelines = Annotated[Viewer, Depends(viewer_needs(Permission.PIPELINE_WRITE))]
CanReadLaunch = Annotated[Viewer, Depends(viewer_needs(Permission.LAUNCH_READ))]
CanLaunch = Annotated[Viewer, Depends(viewer_needs(Permission.WORKFLOW_EXECUTE))]

TEXT_FIELDS = ("pipeline", "revision", "runName", "workDir", "computeEnvId")
CODE_FIELDS = ("paramsText", "configText", "preRunScript", "postRunScript")
NUMBER_FIELDS = {"headJobCpus": "Head job CPUs", "headJobMemoryMb": "Head job memory"}
FIELDS = (
    *TEXT_FIELDS,
    *CODE_FIELDS,
    *NUMBER_FIELDS,
    "configProfiles",
    "pullLatest",
    "stubRun",
    "labels",
    "name",
    "description",
    "workspaceSecrets",
    "userSecrets",
)
MULTI = ("workspaceSecrets", "userSecrets")
ALIASES = {"labelIds": "labels", "launch.pipeline": "pipeline"}
WHERE = re.compile(r"line (\d+), column (\d+)")


def _launch_fields(state: FormState) -> dict[str, Any]:
    """The WorkflowLaunchRequest fields the form sets (only those: saved ones stay)."""
    fields: dict[str, Any] = {name: state.optional(name) for name in TEXT_FIELDS}
    fields.update({name: state.raw(name).strip() or None for name in CODE_FIELDS})
    fields.update({name: state.number(name, label) for name, label in NUMBER_FIELDS.items()})
    fields["configProfiles"] = state.words("configProfiles")
    fields["pullLatest"] = state.checked("pullLatest")
    fields["stubRun"] = state.checked("stubRun")
    fields["workspaceSecrets"] = state.many("workspaceSecrets")
    fields["userSecrets"] = state.many("userSecrets")
    return fields


def _state_from_launch(launch: WorkflowLaunchRequest) -> FormState:
    data = launch.model_dump()
    values = {name: str(data[name]) for name in (*TEXT_FIELDS, *CODE_FIELDS) if data.get(name)}
    values.update({k: str(data[k]) for k in NUMBER_FIELDS if data.get(k) is not None})
    values["configProfiles"] = ", ".join(launch.configProfiles)
    for name in MULTI:
        values[name] = list(getattr(launch, name, []) or [])
    for flag in ("pullLatest", "stubRun"):
        if data.get(flag):
            values[flag] = "on"
    return FormState(values=values)


def _envs(request: Request, viewer: Viewer) -> list[tuple[str, str]]:
    found = compute_envs.list_all(app_ctx(request), viewer.workspace_id)
    return [
        (
            env.id,
            f"{env.name} ({env.region})"
            if env.status == "AVAILABLE"
            else f"{env.name} ({env.status})",
        )
        for env in found
        if env.status in ("AVAILABLE", "DISABLED", "CREATING")
    ]


def _page(
    request: Request,
    viewer: Viewer,
    form: FormState,
    *,
    template: str = "launch.html",
    pipeline: Any = None,
    status: int = 200,
) -> Response:
    ctx = app_ctx(request)
    return render.page(
        request,
        template,
        status=status,
        title="Launch a pipeline" if template == "launch.html" else "Add a pipeline",
        section="pipelines",
        form=form,
        envs=_envs(request, viewer),
        pipeline=pipeline,
        secrets=secret_choices(ctx, viewer),
    )


@router.get("/ui/pipelines")
def list_pipelines(
    request: Request, viewer: CanReadPipelines, search: str | None = None
) -> Response:
    items, total = pipelines.list_all(app_ctx(request), viewer.workspace_id, search, 100, 0)
    return render.page(
        request,
        "pipelines.html",
        title="Pipelines",
        section="pipelines",
        items=items,
        total=total,
        search=search or "",
    )


@router.get("/ui/launch")
def launch_form(
    request: Request,
    viewer: CanReadLaunch,
    pipelineId: int | None = None,
    computeEnvId: str | None = None,
) -> Response:
    ctx = app_ctx(request)
    pipeline = None
    if pipelineId is not None:
        pipeline = pipelines.describe(ctx, viewer.workspace_id, pipelineId)
        state = _state_from_launch(pipelines.describe_launch(ctx, viewer.workspace_id, pipelineId))
    else:
        state = FormState()
    if computeEnvId:
        state.values["computeEnvId"] = computeEnvId
    if not state.get("computeEnvId"):
        primary = compute_envs.primary_of(ctx, viewer.workspace_id)
        state.values["computeEnvId"] = primary.id if primary else ""
    return _page(request, viewer, state, pipeline=pipeline)


def _labels(request: Request, viewer: Viewer, state: FormState) -> list[int]:
    tags = compute_form.resource_tags(state)
    return compute_form.ensure_labels(app_ctx(request), viewer.workspace_id, tags) if tags else []


@router.post("/ui/launch")
def launch(request: Request, viewer: CanLaunch, form: CheckedForm) -> Response:
    ctx = app_ctx(request)
    state = FormState.from_form(form, multi=MULTI)
    pipeline_id = state.number("pipelineId", "Pipeline")
    pipeline = pipelines.describe(ctx, viewer.workspace_id, pipeline_id) if pipeline_id else None
    fields = _launch_fields(state)
    if not state.ok:
        return _page(request, viewer, state, pipeline=pipeline, status=400)
    user = viewer.principal
    try:
        fields["labelIds"] = _labels(request, viewer, state)
        if not state.ok:
            return _page(request, viewer, state, pipeline=pipeline, status=400)
        body = WorkflowLaunchRequest(**fields)
        if pipeline_id:
            run_id = pipelines.launch(
                ctx, viewer.workspace_id, pipeline_id, body, user.user_name, user_id=user.user_id
            )
        else:
            run_id = launches.launch(
                ctx, viewer.workspace_id, body, user=user.user_name, user_id=user.user_id
            )
    except ValidationError as problem:
        fail_validation(state, problem, FIELDS, ALIASES)
        return _page(request, viewer, state, pipeline=pipeline, status=400)
    except launches.LaunchFailed as failed:
        return redirect_with(request, f"/ui/runs/{failed.workflow_id}", failed.message, "error")
    except BatchforgeError as problem:
        state.fail(problem, FIELDS, ALIASES)
        return _page(request, viewer, state, pipeline=pipeline, status=problem.status)
    tracker = getattr(request.app.state, "run_tracker", None)
    if tracker is not None:
        tracker.wake()
    return redirect_with(request, f"/ui/runs/{run_id}", "Launched: the head job is submitted.")


@router.post("/ui/launch/params-check")
async def check_params(request: Request) -> Response:
    """The params editor's check: ``{ok, message, line, column}`` (CSRF token in a header)."""
    checked_header(request)
    text = (await request.body()).decode("utf-8", errors="replace")
    try:
        params = parse_params(text, "Parameters")
    except InvalidInput as problem:
        where = WHERE.search(problem.message)
        return JSONResponse(
            {
                "ok": False,
                "message": problem.message,
                "line": int(where.group(1)) if where else None,
                "column": int(where.group(2)) if where else None,
            },
            headers=render.PAGE_HEADERS,
        )
    kind = "JSON" if text.lstrip().startswith("{") else "YAML"
    count = len(params)
    message = f"Valid {kind}: {count} parameter{'s' if count != 1 else ''}."
    return JSONResponse({"ok": True, "message": message}, headers=render.PAGE_HEADERS)


@router.get("/ui/pipelines/new")
def new_pipeline(request: Request, viewer: CanWritePipelines) -> Response:
    primary = compute_envs.primary_of(app_ctx(request), viewer.workspace_id)
    state = FormState(values={"computeEnvId": primary.id if primary else ""})
    return _page(request, viewer, state, template="pipeline_new.html")


@router.post("/ui/pipelines")
def add_pipeline(request: Request, viewer: CanWritePipelines, form: CheckedForm) -> Response:
    state = FormState.from_form(form, multi=MULTI)
    fields = _launch_fields(state)
    try:
        fields["labelIds"] = _labels(request, viewer, state)
        if not state.ok:
            return _page(request, viewer, state, template="pipeline_new.html", status=400)
        body = CreatePipelineRequest(
            name=state.get("name"),
            description=state.optional("description"),
            launch=WorkflowLaunchRequest(**fields),
        )
        created = pipelines.create(
            app_ctx(request), viewer.workspace_id, body, viewer.principal.user_name
        )
    except ValidationError as problem:
        fail_validation(state, problem, FIELDS, ALIASES)
        return _page(request, viewer, state, template="pipeline_new.html", status=400)
    except BatchforgeError as problem:
        state.fail(problem, FIELDS, ALIASES)
        return _page(request, viewer, state, template="pipeline_new.html", status=problem.status)
    return redirect_with(request, "/ui/pipelines", f"Pipeline '{created.name}' added.")
