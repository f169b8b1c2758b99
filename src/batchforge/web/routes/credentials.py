"""Credentials: list, add (validated by AWS before anything is stored), validate, delete.

The secret key is a write-only field: it is never rendered back, not even after an error.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import Response

from batchforge.errors import BatchforgeError
from batchforge.schemas.credentials import AwsKeysIn, CredentialsIn
from batchforge.services import credentials as service
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
from batchforge.web.forms import FormState, fail_validation

router = APIRouter(prefix="/ui/credentials", route_class=WebRoute, include_in_schema=False)

CanRead = Annotated[Viewer, Depends(viewer_needs(Permission.CREDENTIALS_READ))]
CanWrite = Annotated[Viewer, Depends(viewer_needs(Permission.CREDENTIALS_WRITE))]
CanDelete = Annotated[Viewer, Depends(viewer_needs(Permission.CREDENTIALS_DELETE))]

FIELDS = ("name", "description", "accessKey", "secretKey", "assumeRoleArn", "externalId")
ALIASES = {"credentials.keys": "accessKey", "keys": "accessKey"}


def _page(request: Request, viewer: CurrentViewer, form: FormState, status: int = 200) -> Response:
    items = service.list_all(app_ctx(request), viewer.workspace_id)
    return render.page(
        request,
        "credentials.html",
        status=status,
        title="Credentials",
        section="credentials",
        items=items,
        form=form,
    )


@router.get("")
def list_credentials(request: Request, viewer: CanRead) -> Response:
    return _page(request, viewer, FormState())


@router.post("")
def add_credentials(request: Request, viewer: CanWrite, form: CheckedForm) -> Response:
    state = FormState.from_form(form, secret=("secretKey",))
    secret = form.get("secretKey")
    try:
        body = CredentialsIn(
            name=state.get("name"),
            provider="aws",
            description=state.optional("description"),
            keys=AwsKeysIn(
                accessKey=state.optional("accessKey"),
                secretKey=secret.strip() if isinstance(secret, str) and secret.strip() else None,
                assumeRoleArn=state.optional("assumeRoleArn"),
                externalId=state.optional("externalId"),
            ),
        )
    except ValidationError as problem:
        fail_validation(state, problem, FIELDS, ALIASES)
        return _page(request, viewer, state, 400)
    try:
        service.create(app_ctx(request), viewer.workspace_id, body, state.checked("useExternalId"))
    except BatchforgeError as problem:
        state.fail(problem, FIELDS, ALIASES)
        return _page(request, viewer, state, problem.status)
    checked = "sts:GetCallerIdentity" + (", sts:AssumeRole" if body.keys.assumeRoleArn else "")
    return redirect_with(
        request,
        "/ui/credentials",
        f"Credentials '{body.name}' saved: AWS accepted them ({checked}).",
    )


@router.post("/{credentials_id}/validate")
def validate_credentials(
    request: Request, credentials_id: str, viewer: CanWrite, form: CheckedForm
) -> Response:
    ctx = app_ctx(request)
    found = service.describe(ctx, viewer.workspace_id, credentials_id)
    result = service.validate(ctx, viewer.workspace_id, credentials_id)
    if result.status == "AVAILABLE":
        text = f"Credentials '{found.name}' are valid: AWS identifies them as {result.identityArn}."
        return redirect_with(request, "/ui/credentials", text)
    text = f"Credentials '{found.name}' were refused: {result.message}"
    return redirect_with(request, "/ui/credentials", text, "error")


@router.post("/{credentials_id}/delete")
def delete_credentials(
    request: Request, credentials_id: str, viewer: CanDelete, form: CheckedForm
) -> Response:
    ctx = app_ctx(request)
    found = service.describe(ctx, viewer.workspace_id, credentials_id)
    try:
        service.delete(ctx, viewer.workspace_id, credentials_id)
    except BatchforgeError as problem:
        return redirect_with(request, "/ui/credentials", problem.message, "error")
    return redirect_with(request, "/ui/credentials", f"Credentials '{found.name}' deleted.")
