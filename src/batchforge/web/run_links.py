"""Where a run's folder is, and whether the Data Explorer can show it.

A run's head job leaves its files (the Nextflow log) in ``<workDir>/batchforge/<run id>/``.
When that bucket is a data link of the workspace (discovered from its credentials), the run
page also links the folder and each file into the Data Explorer (browse, preview).  Database
reads only: no AWS call.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from batchforge.errors import NotFound
from batchforge.runs import files
from batchforge.schemas.workflows import WorkflowDbDto
from batchforge.services import data_links
from batchforge.services.context import AppContext


@dataclass(frozen=True)
class RunFolder:
    """The run's folder (an S3 URI, or None off S3) and its Data Explorer link, if any."""

    folder_uri: str | None
    link_id: str | None = None
    key: str = ""

    @property
    def browse(self) -> str | None:
        if self.link_id is None:
            return None
        return f"/ui/data/{self.link_id}?path={quote(self.key.rstrip('/'), safe='')}"

    def preview(self, file_name: str) -> str | None:
        if self.link_id is None:
            return None
        return f"/ui/data/{self.link_id}/preview?path={quote(self.key + file_name, safe='')}"


def folder_of(ctx: AppContext, workspace_id: int, run: WorkflowDbDto) -> RunFolder:
    location = files.folder_of(run.workDir, run.id)
    if location is None:
        return RunFolder(None)
    uri = f"s3://{location.bucket}/{location.prefix}"
    link_id = data_links.discovered_id(workspace_id, location.bucket)
    try:
        data_links.describe(ctx, workspace_id, link_id)
    except NotFound:
        return RunFolder(uri)
    return RunFolder(uri, link_id, location.prefix)
