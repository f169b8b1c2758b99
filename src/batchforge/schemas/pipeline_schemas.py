"""Seqera's pipeline schema shapes (``/pipeline-schemas``, ``/pipelines/{id}/schema``)."""

from __future__ import annotations

from pydantic import Field

from batchforge.schemas.common import ApiModel


class CreatePipelineSchemaRequest(ApiModel):
    """The schema document as JSON text (a JSON Schema object, nf-core style)."""

    content: str | None = None


class PipelineSchemaDbDto(ApiModel):
    id: int
    content: str


class CreatePipelineSchemaResponse(ApiModel):
    pipelineSchema: PipelineSchemaDbDto


class PipelineSchemaResponse(ApiModel):
    """A pipeline's saved schema (``schema``) and its parameters (``params``: the launch's
    ``paramsText``); each left out when ``attributes`` does not ask for it."""

    schema_: str | None = Field(default=None, alias="schema")
    params: str | None = None
