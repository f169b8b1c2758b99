"""Run files: what a run's head job leaves in its folder of the S3 work directory.

When Nextflow exits, the head job copies the Nextflow log to
``<workDir>/batchforge/<runId>/nextflow.log`` (:func:`batchforge.launch.headjob.log_uri`).
That folder is the only place run files are read from: a client names a *file*, never a path,
so no request reaches outside the run's folder (nor another run's).

AWS call budget: a download is one ``GetObject`` whose body is streamed, never held whole
(:func:`batchforge.explorer.target.open_object`); a listing is one ``ListObjectsV2`` page.
Nothing here touches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from batchforge.aws.session import AwsClient
from batchforge.errors import AwsError, InvalidInput, NotFound
from batchforge.explorer.paths import S3Location
from batchforge.explorer.target import NOT_FOUND_CODES, Download, open_object

RUN_DIR = "batchforge"
NEXTFLOW_LOG = "nextflow.log"
MAX_NAME_BYTES = 255
MAX_LISTED = 1000
FIELD = "fileName"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class RunFile:
    name: str
    size: int
    last_modified: datetime | None


def folder_of(work_dir: str, run_id: str) -> S3Location | None:
    """The run's folder, built exactly as the head job builds the log's URI; None when the
    work directory is not in S3 (an EFS or FSx path: its files are on that file system)."""
    uri = f"{work_dir.rstrip('/')}/{RUN_DIR}/{run_id}/"
    if not uri.startswith("s3://"):
        return None
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return S3Location(bucket, prefix) if bucket else None


def seqera_log_name(run_id: str) -> str:
    """The name Seqera clients ask for (``tw runs download --type log``) and save as."""
    return f"nf-{run_id}.log"


def file_name(requested: str | None, run_id: str) -> str:
    """The file a request names: the Nextflow log when none (or Seqera's ``nf-<runId>.log``)
    is given, else a bare file name of the run's folder.  400 naming ``fileName`` for a path,
    ``..``, a control character or an over-long name."""
    if not requested or requested == seqera_log_name(run_id):
        return NEXTFLOW_LOG
    problem = _problem(requested)
    if problem:
        raise InvalidInput(
            f"fileName {problem}.",
            field=FIELD,
            hint=f"Name a file of the run's folder ({RUN_DIR}/{run_id}/ in its work directory), "
            f"e.g. {NEXTFLOW_LOG}; omit fileName for the Nextflow log.",
        )
    return requested


def _problem(name: str) -> str | None:
    if "/" in name or "\\" in name:
        return "must be a file name in the run's folder, not a path (no '/')"
    if ".." in name or name == ".":
        return "must not contain '..' or be '.'"
    if _CONTROL.search(name):
        return "contains a control character"
    if len(name.encode()) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes"
    return None


def open_file(
    s3: AwsClient,
    folder: S3Location,
    name: str,
    byte_range: str | None,
    *,
    run_id: str,
    active: bool,
) -> Download:
    """Start streaming file ``name`` (a checked :func:`file_name`) of the run's folder.

    A file that is not there is a 404 saying it is not written yet (``active``: the run may
    still write it) or was never written; a missing bucket is a 404 naming it; any other AWS
    error is raised as the AWS layer translated it (the call, AWS's code, the permission).
    """
    shown = seqera_log_name(run_id) if name == NEXTFLOW_LOG else name
    try:
        return open_object(s3, folder.bucket, folder.key(name), byte_range, shown)
    except AwsError as error:
        raise _failure(error, folder, name, active) from None


def list_files(s3: AwsClient, folder: S3Location, *, active: bool) -> list[RunFile]:
    """The files directly in the run's folder, by name (one ListObjectsV2 call)."""
    try:
        answer = s3.list_objects_v2(
            Bucket=folder.bucket, Prefix=folder.prefix, Delimiter="/", MaxKeys=MAX_LISTED
        )
    except AwsError as error:
        raise _failure(error, folder, None, active) from None
    found = [
        RunFile(
            obj["Key"][len(folder.prefix) :],
            int(obj.get("Size", 0)),
            obj.get("LastModified"),
        )
        for obj in answer.get("Contents", [])
        if obj["Key"] != folder.prefix
    ]
    return sorted(found, key=lambda f: f.name)


def _failure(error: AwsError, folder: S3Location, name: str | None, active: bool) -> Exception:
    if error.aws_code == "NoSuchBucket":
        return NotFound(
            f"The work directory's bucket '{folder.bucket}' does not exist.",
            hint="It was deleted or renamed after the run; run files cannot be read.",
        )
    if error.aws_code in NOT_FOUND_CODES and name is not None:
        where = f"{folder.ref}/{name}"
        if active:
            return NotFound(
                f"'{name}' is not yet written: the head job copies it when Nextflow exits "
                f"(to {where}).",
                hint="Follow the run's log meanwhile (batchforge runs logs RUN_ID --follow).",
            )
        return NotFound(
            f"'{name}' is not yet written: the head job copies it when Nextflow exits "
            f"(to {where}), and this run is over without it.",
            hint="The head job stopped before Nextflow exited (cancelled, failed to start, "
            "out of memory, spot reclaim): its output is in the run's log "
            "(batchforge runs logs RUN_ID).",
        )
    return error
