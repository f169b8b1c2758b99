"""``/pipeline-secrets``: workspace and user secrets (values are write-only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from batchforge.schemas.secrets import (
    CreatePipelineSecretRequest,
    CreatePipelineSecretResponse,
    DescribePipelineSecretResponse,
    ListPipelineSecretsResponse,
    UpdatePipelineSecretRequest,
)
from batchforge.server.deps import Ctx, secret_owner
from batchforge.services import pipeline_secrets as service
from batchforge.services.authz import Permission
from batchforge.services.pipeline_secrets import Owner

router = APIRouter(prefix="/pipeline-secrets", tags=["pipeline-secrets"])

CanRead = Annotated[Owner, Depends(secret_owner(Permission.PIPELINE_SECRETS_READ))]
CanWrite = Annotated[Owner, Depends(secret_owner(Permission.PIPELINE_SECRETS_WRITE))]
CanDelete = Annotated[Owner, Depends(secret_owner(Permission.PIPELINE_SECRETS_DELETE))]


@router.get("", response_model=ListPipelineSecretsResponse)
def list_secrets(ctx: Ctx, owner: CanRead) -> ListPipelineSecretsResponse:
    items = service.list_secrets(ctx, owner)
    return ListPipelineSecretsResponse(pipelineSecrets=items, totalSize=len(items))


@router.post("", response_model=CreatePipelineSecretResponse)
def create_secret(
    ctx: Ctx, owner: CanWrite, body: CreatePipelineSecretRequest
) -> CreatePipelineSecretResponse:
    return CreatePipelineSecretResponse(secretId=service.create(ctx, owner, body))


@router.get("/validate", status_code=204, response_class=Response)
def validate_name(ctx: Ctx, owner: CanRead, name: str | None = None) -> Response:
    service.check_name(ctx, owner, name)
    return Response(status_code=204)


@router.get("/{secretId}", response_model=DescribePipelineSecretResponse)
def describe_secret(ctx: Ctx, owner: CanRead, secretId: int) -> DescribePipelineSecretResponse:
    return DescribePipelineSecretResponse(pipelineSecret=service.describe(ctx, owner, secretId))


@router.put("/{secretId}", status_code=204, response_class=Response)
def update_secret(
    ctx: Ctx, owner: CanWrite, secretId: int, body: UpdatePipelineSecretRequest
) -> Response:
    service.update_value(ctx, owner, secretId, body)
    return Response(status_code=204)


@router.delete("/{secretId}", status_code=204, response_class=Response)
def delete_secret(ctx: Ctx, owner: CanDelete, secretId: int) -> Response:
    service.delete(ctx, owner, secretId)
    return Response(status_code=204)
