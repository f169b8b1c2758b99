"""Run-file use cases: download a file of a run's folder in its work directory, list them.

Each call reads the run (one small query, no AWS call), then makes one S3 call with the run's
credentials in the run's region -- the work directory's bucket is in that region: the
compute environment's preflight checked it.  No database transaction is open while AWS is
called.
"""

from __future__ import annotations

from dataclasses import dataclass

from batchforge.aws.s3 import CLIENTS
from batchforge.aws.session import AwsClient
from batchforge.db import models
from batchforge.errors import NotFound
from batchforge.explorer.paths import S3Location
from batchforge.explorer.target import Download
from batchforge.runs import files
from batchforge.schemas.run_files import ListRunFilesResponse, RunFileDto
from batchforge.services import credentials
from batchforge.services.context import AppContext


@dataclass(frozen=True)
class _Place:
    run_id: str
    active: bool
    folder: S3Location
    s3: AwsClient


def _place(ctx: AppContext, workspace_id: int, run_id: str) -> _Place:
    """The run's folder and an S3 client for it; 404 for an unknown run or a work directory
    that is not in S3."""
    with ctx.db.transaction() as session:
        row = session.get(models.Run, run_id)
        if row is None or row.workspace_id != workspace_id or row.deleted:
            raise NotFound(f"Workflow '{run_id}' not found in this workspace.")
        work_dir, active = row.work_dir, row.active
        credentials_id, region = row.credentials_id or "", row.region
    folder = files.folder_of(work_dir, run_id)
    if folder is None:
        raise NotFound(
            f"Run files are read from S3 work directories; this run's work directory is "
            f"{work_dir}.",
            hint="Its files are on the file system the head job mounted.",
        )
    auth = credentials.stored_keys(ctx, workspace_id, credentials_id).auth()
    return _Place(run_id, active, folder, CLIENTS.client(ctx.aws, auth, region))


def open_file(
    ctx: AppContext,
    workspace_id: int,
    run_id: str,
    file_name: str | None,
    byte_range: str | None = None,
) -> Download:
    """Stream a run file (default: the Nextflow log); the caller iterates ``chunks``.

    400 naming ``fileName`` for anything but a file name of the run's folder; 404 for an
    unknown run, or a file not written (yet).
    """
    name = files.file_name(file_name, run_id)
    place = _place(ctx, workspace_id, run_id)
    return files.open_file(
        place.s3, place.folder, name, byte_range, run_id=run_id, active=place.active
    )


def list_files(ctx: AppContext, workspace_id: int, run_id: str) -> ListRunFilesResponse:
    """The files in the run's folder (empty until the head job wrote one)."""
    place = _place(ctx, workspace_id, run_id)
    found = files.list_files(place.s3, place.folder, active=place.active)
    return ListRunFilesResponse(
        workflowId=run_id,
        folder=place.folder.ref,
        files=[
            RunFileDto(fileName=f.name, size=f.size, lastModified=f.last_modified) for f in found
        ],
    )
