"""``/pipeline-secrets``: workspace and user secrets (values are write-only)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from batchforge.schemas.secrets import (
    CreatePipelineSecretRequest,
    CreatePipelineSecretResponse,
    DescribePipelineSecretResponse,
    ListPipelineSecretsResponse,
    UpdatePipelineSecretRequest,
)
from batchforge.server.deps import Ctx, SecretOwner
from batchforge.services import pipeline_secrets as service

router = APIRouter(prefix="/pipeline-secrets", tags=["pipeline-secrets"])


@router.get("", response_model=ListPipelineSecretsResponse)
def list_secrets(ctx: Ctx, owner: SecretOwner) -> ListPipelineSecretsResponse:
    items = service.list_secrets(ctx, owner)
    return ListPipelineSecretsResponse(pipelineSecrets=items, totalSize=len(items))


@router.post("", response_model=CreatePipelineSecretResponse)
def create_secret(
    ctx: Ctx, owner: SecretOwner, body: CreatePipelineSecretRequest
) -> CreatePipelineSecretResponse:
    return CreatePipelineSecretResponse(secretId=service.create(ctx, owner, body))


@router.get("/validate", status_code=204, response_class=Response)
def validate_name(ctx: Ctx, owner: SecretOwner, name: str | None = None) -> Response:
    service.check_name(ctx, owner, name)
    return Response(status_code=204)


@router.get("/{secretId}", response_model=DescribePipelineSecretResponse)
def describe_secret(ctx: Ctx, owner: SecretOwner, secretId: int) -> DescribePipelineSecretResponse:
    return DescribePipelineSecretResponse(pipelineSecret=service.describe(ctx, owner, secretId))


@router.put("/{secretId}", status_code=204, response_class=Response)
def update_secret(
    ctx: Ctx, owner: SecretOwner, secretId: int, body: UpdatePipelineSecretRequest
) -> Response:
    service.update_value(ctx, owner, secretId, body)
    return Response(status_code=204)


@router.delete("/{secretId}", status_code=204, response_class=Response)
def delete_secret(ctx: Ctx, owner: SecretOwner, secretId: int) -> Response:
    service.delete(ctx, owner, secretId)
    return Response(status_code=204)
