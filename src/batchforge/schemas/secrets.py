"""Pipeline secret shapes (Seqera's PipelineSecret and its requests).

The value is write-only: it is accepted in requests (as :class:`pydantic.SecretStr`, so it never
shows in a ``repr`` or a log) and no response shape has a field for it.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import SecretStr

from batchforge.schemas.common import ApiModel


class PipelineSecret(ApiModel):
    id: int | None = None
    name: str
    dateCreated: datetime | None = None
    lastUpdated: datetime | None = None
    lastUsed: datetime | None = None


class ListPipelineSecretsResponse(ApiModel):
    pipelineSecrets: list[PipelineSecret]
    totalSize: int


class CreatePipelineSecretRequest(ApiModel):
    name: str | None = None
    value: SecretStr | None = None


class CreatePipelineSecretResponse(ApiModel):
    secretId: int


class DescribePipelineSecretResponse(ApiModel):
    pipelineSecret: PipelineSecret


class UpdatePipelineSecretRequest(ApiModel):
    value: SecretStr | None = None
