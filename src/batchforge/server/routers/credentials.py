"""``/credentials``: Seqera's credentials API for provider ``aws``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from batchforge.schemas.credentials import (
    CreateCredentialsRequest,
    CreateCredentialsResponse,
    DescribeCredentialsResponse,
    ListCredentialsResponse,
    UpdateCredentialsRequest,
    ValidateCredentialsResponse,
)
from batchforge.server.deps import Ctx
from batchforge.services import credentials as service
from batchforge.services.authz import Permission, needs

router = APIRouter(prefix="/credentials", tags=["credentials"])

CanRead = Annotated[int, Depends(needs(Permission.CREDENTIALS_READ))]
CanWrite = Annotated[int, Depends(needs(Permission.CREDENTIALS_WRITE))]
CanDelete = Annotated[int, Depends(needs(Permission.CREDENTIALS_DELETE))]


@router.get("", response_model=ListCredentialsResponse)
def list_credentials(
    ctx: Ctx, workspace_id: CanRead, platformId: str | None = None
) -> ListCredentialsResponse:
    items = service.list_all(ctx, workspace_id)
    if platformId and platformId not in ("aws", "aws-batch"):
        items = []
    return ListCredentialsResponse(credentials=items)


@router.post("", response_model=CreateCredentialsResponse)
def create_credentials(
    ctx: Ctx,
    workspace_id: CanWrite,
    body: CreateCredentialsRequest,
    useExternalId: bool = False,
) -> CreateCredentialsResponse:
    new_id = service.create(ctx, workspace_id, body.credentials, useExternalId)
    return CreateCredentialsResponse(credentialsId=new_id)


@router.get("/{credentialsId}", response_model=DescribeCredentialsResponse)
def describe_credentials(
    ctx: Ctx, workspace_id: CanRead, credentialsId: str
) -> DescribeCredentialsResponse:
    return DescribeCredentialsResponse(
        credentials=service.describe(ctx, workspace_id, credentialsId)
    )


@router.put("/{credentialsId}", status_code=204, response_class=Response)
def update_credentials(
    ctx: Ctx,
    workspace_id: CanWrite,
    credentialsId: str,
    body: UpdateCredentialsRequest,
    useExternalId: bool = False,
) -> Response:
    service.update(ctx, workspace_id, credentialsId, body.credentials, useExternalId)
    return Response(status_code=204)


@router.delete("/{credentialsId}", status_code=204, response_class=Response)
def delete_credentials(
    ctx: Ctx, workspace_id: CanDelete, credentialsId: str, checked: bool = False
) -> Response:
    service.delete(ctx, workspace_id, credentialsId)
    return Response(status_code=204)


@router.post("/{credentialsId}/validate", response_model=ValidateCredentialsResponse)
def validate_credentials(
    ctx: Ctx, workspace_id: CanWrite, credentialsId: str, force: bool = False
) -> ValidateCredentialsResponse:
    return service.validate(ctx, workspace_id, credentialsId)
