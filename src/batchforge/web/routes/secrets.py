"""Pipeline secrets: the workspace's and the user's own; add, replace a value, delete.

Values are write-only: they are read from the form, handed to the service, and never put in
a page, a notice or an error (a form with an error comes back without its value)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import SecretStr
from starlette.responses import Response

from batchforge.errors import BatchforgeError, InvalidInput
from batchforge.schemas.secrets import CreatePipelineSecretRequest, UpdatePipelineSecretRequest
from batchforge.services import pipeline_secrets as service
from batchforge.services.authz import Permission
from batchforge.web import render
from batchforge.web.core import (
    CheckedForm,
    CurrentViewer,
    Viewer,
    WebRoute,
    app_ctx,
    redirect_with,
    viewer_needs,
)
from batchforge.web.forms import FormState
from batchforge.web.secrets_form import SCOPES, owner_for

router = APIRouter(prefix="/ui/secrets", route_class=WebRoute, include_in_schema=False)

CanRead = Annotated[Viewer, Depends(viewer_needs(Permission.PIPELINE_SECRETS_READ))]
FIELDS = ("scope", "name", "value")


def _page(
    request: Request,
    viewer: Viewer,
    form: FormState,
    *,
    row_errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    ctx = app_ctx(request)
    lists = {scope: service.list_secrets(ctx, owner_for(viewer, scope)) for scope in SCOPES}
    return render.page(
        request,
        "secrets.html",
        status=status,
        title="Secrets",
        section="secrets",
        form=form,
        lists=lists,
        row_errors=row_errors or {},
    )


def _value(form: CheckedForm) -> SecretStr | None:
    raw = form.get("value")
    return SecretStr(raw) if isinstance(raw, str) and raw else None


def _scope(scope: str) -> str:
    if scope not in SCOPES:
        raise InvalidInput("scope: choose the workspace's secrets or your own.", field="scope")
    return scope


@router.get("")
def list_secrets(request: Request, viewer: CanRead) -> Response:
    return _page(request, viewer, FormState(values={"scope": "workspace"}))


@router.post("")
def add_secret(request: Request, viewer: CurrentViewer, form: CheckedForm) -> Response:
    state = FormState.from_form(form, secret=("value",))
    try:
        scope = _scope(state.get("scope"))
        body = CreatePipelineSecretRequest(name=state.get("name"), value=_value(form))
        service.create(
            app_ctx(request), owner_for(viewer, scope, Permission.PIPELINE_SECRETS_WRITE), body
        )
    except BatchforgeError as problem:
        state.fail(problem, FIELDS)
        return _page(request, viewer, state, status=problem.status)
    where = "your secrets" if scope == "user" else "the workspace's secrets"
    return redirect_with(request, "/ui/secrets", f"Secret '{body.name}' added to {where}.")


@router.post("/{scope}/{secret_id}/value")
def replace_value(
    request: Request, scope: str, secret_id: int, viewer: CurrentViewer, form: CheckedForm
) -> Response:
    ctx, owner = (
        app_ctx(request),
        owner_for(viewer, _scope(scope), Permission.PIPELINE_SECRETS_WRITE),
    )
    found = service.describe(ctx, owner, secret_id)
    try:
        service.update_value(ctx, owner, secret_id, UpdatePipelineSecretRequest(value=_value(form)))
    except BatchforgeError as problem:
        errors = {f"{scope}-{secret_id}": problem.message.removeprefix("value: ")}
        return _page(request, viewer, FormState(), row_errors=errors, status=problem.status)
    return redirect_with(request, "/ui/secrets", f"The value of '{found.name}' was replaced.")


@router.post("/{scope}/{secret_id}/delete")
def delete_secret(
    request: Request, scope: str, secret_id: int, viewer: CurrentViewer, form: CheckedForm
) -> Response:
    ctx, owner = (
        app_ctx(request),
        owner_for(viewer, _scope(scope), Permission.PIPELINE_SECRETS_DELETE),
    )
    found = service.describe(ctx, owner, secret_id)
    service.delete(ctx, owner, secret_id)
    return redirect_with(request, "/ui/secrets", f"Secret '{found.name}' deleted.")
