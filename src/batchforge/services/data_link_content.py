"""Data-link content use cases: browse, tree, preview, download, upload, folders, delete.

Each call resolves the link (workspace check, credentials, region: two small reads, no AWS
call once the region is known), then runs one explorer operation.

Invariants:
- no database transaction is open while AWS is called;
- every path is checked before it becomes a key (:mod:`batchforge.explorer.paths`);
- the page token handed out is S3's token sealed (AES-GCM, bound to the link id) together
  with the listing's prefix: a forged, altered or re-used token is a 400 and never reaches AWS;
- what AWS answers about the optional actions (delete, abort) is remembered on the link.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio

from batchforge.aws.s3 import CLIENTS
from batchforge.aws.session import AwsAuth
from batchforge.errors import (
    AwsAccessDenied,
    AwsError,
    ConfigurationError,
    InvalidInput,
    NotFound,
)
from batchforge.explorer import limits, script, uploads
from batchforge.explorer.discovery import bucket_region
from batchforge.explorer.paths import S3Location, clean_name, clean_path
from batchforge.explorer.target import Download, LinkTarget, Preview, check_search, failure
from batchforge.schemas import data_links as schemas
from batchforge.services import data_links as links
from batchforge.services.context import AppContext

T = TypeVar("T")
TOKEN_VERSION = "v1:"


@dataclass(frozen=True)
class Resolved:
    link_id: str
    status: str
    target: LinkTarget


def resolve(
    ctx: AppContext, workspace_id: int, link_id: str, credentials_id: str | None = None
) -> Resolved:
    """The link's S3 target, with the given credentials (one of the link's) or its first."""
    with ctx.db.transaction() as session:
        row = links.load_row(session, workspace_id, link_id)
        creds = [cid for cid, _ in links.credentials_of(session, [row.id])[row.id]]
        name, status, region = row.name, row.status, row.region
        location = S3Location(row.bucket, row.prefix)
    if credentials_id and credentials_id not in creds:
        raise NotFound(
            f"Credentials '{credentials_id}' are not credentials of data link '{name}'.",
            field="credentialsId",
        )
    if not creds:
        raise InvalidInput(
            f"Data link '{name}' has no credentials (they were deleted).",
            field="credentialsId",
            hint="Update the data link with other credentials.",
        )
    auth = links.auth_for(ctx, workspace_id, credentials_id or creds[0])
    if region is None:
        region = _find_region(ctx, auth, location, name)
        links.record_region(ctx, link_id, region)
    s3 = links.s3_client(ctx, auth, region)
    presigner = CLIENTS.presigner(ctx.aws, auth, region)
    return Resolved(link_id, status, LinkTarget(s3, presigner, location, name))


def _find_region(ctx: AppContext, auth: AwsAuth, location: S3Location, name: str) -> str:
    try:
        return bucket_region(links.s3_client(ctx, auth), location.bucket)
    except AwsError as error:
        raise failure(error, location, name) from None


# --- browse ---------------------------------------------------------------------------------


def _seal(ctx: AppContext, link_id: str, prefix: str, token: str) -> str:
    sealed = ctx.box.encrypt(json.dumps({"p": prefix, "t": token}), f"data-link-page:{link_id}")
    return sealed.removeprefix(TOKEN_VERSION)


def _unseal(ctx: AppContext, link_id: str, prefix: str, sealed: str) -> str:
    try:
        data = json.loads(ctx.box.decrypt(TOKEN_VERSION + sealed, f"data-link-page:{link_id}"))
        token, token_prefix = str(data["t"]), str(data["p"])
    except (ConfigurationError, ValueError, TypeError, KeyError):
        raise InvalidInput(
            "nextPageToken is not a token this server gave for this data link.",
            field="nextPageToken",
        ) from None
    if token_prefix != prefix:
        raise InvalidInput(
            "nextPageToken belongs to another listing (the path or search changed).",
            field="nextPageToken",
        )
    return token


def browse(
    ctx: AppContext,
    workspace_id: int,
    link_id: str,
    path: str | None,
    *,
    search: str | None = None,
    token: str | None = None,
    page_size: int | None = None,
    credentials_id: str | None = None,
) -> schemas.DataLinkContentResponse:
    """One page (one ListObjectsV2 call) of the folders and files under ``path``."""
    clean = clean_path(path, "path")
    search = check_search(search)
    size = page_size if page_size is not None else limits.PAGE_SIZE_DEFAULT
    if not 1 <= size <= limits.PAGE_SIZE_MAX:
        raise InvalidInput(f"pageSize must be 1-{limits.PAGE_SIZE_MAX}.", field="pageSize")
    resolved = resolve(ctx, workspace_id, link_id, credentials_id)
    target = resolved.target
    prefix = target.location.dir_prefix(clean) + search
    s3_token = _unseal(ctx, link_id, prefix, token) if token else None
    try:
        page = target.browse(clean, search, size, s3_token)
    except (NotFound, AwsAccessDenied) as error:
        links.record_status(ctx, link_id, "INVALID", str(error))
        raise
    if resolved.status != "VALID":
        links.record_status(ctx, link_id, "VALID", None)
    return schemas.DataLinkContentResponse(
        objects=[
            schemas.DataLinkItem(
                name=item.name,
                type=item.type,
                size=item.size,
                mimeType=item.mime_type,
                lastModified=item.last_modified,
            )
            for item in page.items
        ],
        nextPageToken=_seal(ctx, link_id, prefix, page.next_token) if page.next_token else None,
        originalPath=clean,
    )


def tree(
    ctx: AppContext,
    workspace_id: int,
    link_id: str,
    paths: list[str],
    credentials_id: str | None = None,
) -> schemas.DataLinkContentTreeListResponse:
    """Every file under ``paths`` (at most TREE_MAX_ITEMS)."""
    clean = [clean_path(path, f"paths[{index}]") for index, path in enumerate(paths or [""])]
    target = resolve(ctx, workspace_id, link_id, credentials_id).target
    return schemas.DataLinkContentTreeListResponse(
        items=[schemas.DataLinkSimpleItem(path=p, size=s) for p, s in target.tree(clean)]
    )


# --- read -----------------------------------------------------------------------------------


def preview(
    ctx: AppContext, workspace_id: int, link_id: str, path: str, credentials_id: str | None = None
) -> Preview:
    clean = clean_path(path, "filePath", required=True)
    return resolve(ctx, workspace_id, link_id, credentials_id).target.preview(clean)


def open_download(
    ctx: AppContext,
    workspace_id: int,
    link_id: str,
    path: str,
    byte_range: str | None,
    credentials_id: str | None = None,
) -> Download:
    """The file's stream (the caller iterates ``chunks``; the body closes when they end)."""
    clean = clean_path(path, "filePath", required=True)
    return resolve(ctx, workspace_id, link_id, credentials_id).target.open(clean, byte_range)


def download_url(
    ctx: AppContext,
    workspace_id: int,
    link_id: str,
    path: str | None,
    preview_url: bool = False,
    credentials_id: str | None = None,
) -> schemas.DataLinkDownloadUrlResponse:
    clean = clean_path(path, "filePath", required=True)
    target = resolve(ctx, workspace_id, link_id, credentials_id).target
    url, mime = target.download_url(clean, preview_url)
    return schemas.DataLinkDownloadUrlResponse(url=url, resolvedPath=clean, resolvedMimeType=mime)


def download_script(
    ctx: AppContext,
    workspace_id: int,
    link_id: str,
    dirs: list[str],
    files: list[str],
    credentials_id: str | None = None,
) -> schemas.DataLinkDownloadScriptResponse:
    """A shell script fetching the files (and everything under the folders) with presigned
    URLs; at most TREE_MAX_ITEMS files."""
    selected = [clean_path(d, f"dirs[{i}]", required=True) for i, d in enumerate(dirs)]
    selected += [clean_path(f, f"files[{i}]", required=True) for i, f in enumerate(files)]
    if not selected:
        raise InvalidInput("Name at least one file (files) or folder (dirs).", field="files")
    target = resolve(ctx, workspace_id, link_id, credentials_id).target
    entries: list[tuple[str, str]] = []
    for chosen in selected:
        for path, _size in target.tree([chosen]):
            url = target.presigned_get(path)
            entries.append((script.local_name(chosen, path), url))
            if len(entries) > limits.TREE_MAX_ITEMS:
                raise InvalidInput(
                    f"More than {limits.TREE_MAX_ITEMS} files selected; select fewer.",
                    field="dirs",
                )
    text = script.render(target.name, target.location.ref, entries)
    return schemas.DataLinkDownloadScriptResponse(script=text)


# --- write ----------------------------------------------------------------------------------


def _tracked(ctx: AppContext, link_id: str, action: str, call: Callable[[], T]) -> T:
    """Run ``call``, remembering whether AWS granted the optional ``action``."""
    try:
        result = call()
    except AwsAccessDenied as error:
        links.record_extra(ctx, link_id, action, error.hint or str(error))
        raise
    links.record_extra(ctx, link_id, action, None)
    return result


def start_upload(
    ctx: AppContext,
    workspace_id: int,
    link_id: str,
    dir_path: str | None,
    body: schemas.DataLinkMultiPartUploadRequest,
    credentials_id: str | None = None,
) -> schemas.DataLinkMultiPartUploadResponse:
    """Seqera's upload: a multipart upload and one presigned URL per part."""
    directory = clean_path(dir_path, "dirPath")
    name = clean_name(body.fileName, "fileName")
    uploads.plan_parts(body.contentLength)  # the limits, before any AWS call
    target = resolve(ctx, workspace_id, link_id, credentials_id).target
    started = uploads.start_presigned(
        target, _join(directory, name), body.contentLength, body.contentType
    )
    return schemas.DataLinkMultiPartUploadResponse(
        uploadId=started.upload_id, uploadUrls=started.urls, partSize=started.part_size
    )


def finish_upload(
    ctx: AppContext,
    workspace_id: int,
    link_id: str,
    dir_path: str | None,
    body: schemas.DataLinkFinishMultiPartUploadRequest,
    credentials_id: str | None = None,
) -> schemas.DataLinkFinishResponse:
    """Complete the upload, or abort it when the client reports an error (``withError``)."""
    directory = clean_path(dir_path, "dirPath")
    name = clean_name(body.fileName, "fileName")
    if not body.uploadId:
        raise InvalidInput("uploadId is required.", field="uploadId")
    target = resolve(ctx, workspace_id, link_id, credentials_id).target
    tags = [(tag.eTag, tag.partNumber) for tag in body.tags]
    done = uploads.finish_presigned(
        target, _join(directory, name), body.uploadId, tags, body.withError
    )
    if body.withError:
        links.record_extra(ctx, link_id, "s3:AbortMultipartUpload", done.get("message"))
    return schemas.DataLinkFinishResponse(**done)


async def upload_stream(
    ctx: AppContext,
    workspace_id: int,
    link_id: str,
    path: str,
    chunks: AsyncIterator[bytes],
    *,
    length: int | None,
    content_type: str | None,
    credentials_id: str | None = None,
) -> schemas.DataLinkUploadResult:
    """Upload a request body streamed through the server: one part in memory at a time,
    visible only once complete (PutObject when it fits in one part)."""
    clean = clean_name(path, "filePath")
    part_size = uploads.stream_part_size(length)
    if content_type and content_type.startswith("application/octet-stream"):
        content_type = None  # say nothing rather than "binary": the name tells more
    resolved = await anyio.to_thread.run_sync(
        lambda: resolve(ctx, workspace_id, link_id, credentials_id)
    )
    upload = uploads.StreamedUpload(resolved.target, clean, content_type, part_size)
    done = await upload.run(chunks)
    return schemas.DataLinkUploadResult(path=clean, size=done["size"], parts=done["parts"])


def make_folder(
    ctx: AppContext,
    workspace_id: int,
    link_id: str,
    path: str,
    credentials_id: str | None = None,
) -> schemas.DataLinkFolderResponse:
    clean = clean_path(path, "dirPath", required=True)
    resolve(ctx, workspace_id, link_id, credentials_id).target.make_folder(clean)
    return schemas.DataLinkFolderResponse(path=clean + "/")


def delete_items(
    ctx: AppContext,
    workspace_id: int,
    link_id: str,
    body: schemas.DataLinkDeleteItemRequest,
    credentials_id: str | None = None,
) -> schemas.DataLinkDeleteItemResponse:
    """Delete files and folders (an extra: needs ``s3:DeleteObject``)."""
    files = [clean_path(f, f"files[{i}]", required=True) for i, f in enumerate(body.files)]
    dirs = [clean_path(d, f"dirs[{i}]", required=True) for i, d in enumerate(body.dirs)]
    if not files and not dirs:
        raise InvalidInput("Name at least one file (files) or folder (dirs).", field="files")
    target = resolve(ctx, workspace_id, link_id, credentials_id).target
    failures = _tracked(ctx, link_id, "s3:DeleteObject", lambda: target.delete(files, dirs))
    denied = next((f.message for f in failures if f.message.startswith("AccessDenied")), None)
    if denied:
        links.record_extra(ctx, link_id, "s3:DeleteObject", denied)
    return schemas.DataLinkDeleteItemResponse(
        deletionFailures=[
            schemas.DataLinkItemDeletionFailure(
                dataLinkItem=schemas.DataLinkItem(name=f.path, type=f.type),
                errorMessage=f.message,
            )
            for f in failures
        ]
    )


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name
