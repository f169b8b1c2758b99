"""Run files (batchforge extension): the files a run's head job left in its work directory."""

from __future__ import annotations

from datetime import datetime

from batchforge.schemas.common import ApiModel


class RunFileDto(ApiModel):
    fileName: str
    size: int
    lastModified: datetime | None = None


class ListRunFilesResponse(ApiModel):
    """``GET /workflow/{workflowId}/files``: each ``fileName`` can be passed to
    ``GET /workflow/{workflowId}/download``."""

    workflowId: str
    folder: str
    """``s3://bucket/<workDir path>/batchforge/<runId>``."""
    files: list[RunFileDto]
