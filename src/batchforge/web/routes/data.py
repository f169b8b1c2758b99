"""Data Explorer: the workspace's data links, browsing with pages (one ListObjectsV2 call
each), preview, download, folders and uploads (multipart form, streamed to S3 through the
server: works without the script)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from batchforge.errors import BatchforgeError, InvalidInput
from batchforge.explorer import limits
from batchforge.services import data_link_content as content
from batchforge.services import data_links
from batchforge.services.authz import Permission
from batchforge.web import render
from batchforge.web.core import (
    CheckedForm,
    Viewer,
    WebRoute,
    app_ctx,
    redirect_with,
    viewer_needs,
)

router = APIRouter(prefix="/ui/data", route_class=WebRoute, include_in_schema=False)

CanRead = Annotated[Viewer, Depends(viewer_needs(Permission.DATA_LINK_READ))]
CanReadObjects = Annotated[Viewer, Depends(viewer_needs(Permission.DATA_LINK_OBJECT_READ))]
CanWriteObjects = Annotated[Viewer, Depends(viewer_needs(Permission.DATA_LINK_OBJECT_WRITE))]

PAGE_SIZE = 100
PREVIEW_ROWS = 200
READ_CHUNK = 1024 * 1024
# Bytes served from a bucket must never run as a page of this origin.
RAW_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
    "Cache-Control": "private, no-store",
}


def _browse_url(link_id: str, path: str) -> str:
    return f"/ui/data/{link_id}?path={quote(path, safe='')}" if path else f"/ui/data/{link_id}"


def _listing_url(link_id: str, path: str, search: str | None, size: int, token: str | None) -> str:
    """A page of a folder's listing, keeping the filter and page size."""
    query = {"path": path, "search": search, "size": str(size) if size != PAGE_SIZE else None}
    query["token"] = token
    pairs = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items() if v)
    return f"/ui/data/{link_id}" + (f"?{pairs}" if pairs else "")


def _crumbs(link_id: str, path: str) -> list[tuple[str, str]]:
    parts = [p for p in path.split("/") if p]
    return [(name, _browse_url(link_id, "/".join(parts[: i + 1]))) for i, name in enumerate(parts)]


@router.get("")
def list_links(request: Request, viewer: CanRead) -> Response:
    found = data_links.list_links(app_ctx(request), viewer.workspace_id, max_results=200)
    return render.page(
        request,
        "data_links.html",
        title="Data Explorer",
        section="data",
        links=found.dataLinks,
        total=found.totalSize,
    )


@router.post("/refresh")
def refresh(request: Request, viewer: CanRead, form: CheckedForm) -> Response:
    found = data_links.refresh(app_ctx(request), viewer.workspace_id).refreshed
    buckets = sum(r.buckets for r in found)
    problems = [f"{r.credentialsId}: {r.message}" for r in found if r.status != "OK"]
    text = f"Listed the buckets of {len(found)} credentials: {buckets} bucket(s)."
    if problems:
        text += " Problems: " + "; ".join(problems)
    return redirect_with(request, "/ui/data", text, "error" if problems else "success")


@router.get("/{link_id}")
def browse(
    request: Request,
    link_id: str,
    viewer: CanReadObjects,
    path: str = "",
    token: str | None = None,
    search: str | None = None,
    size: int = PAGE_SIZE,
) -> Response:
    ctx = app_ctx(request)
    link = data_links.describe(ctx, viewer.workspace_id, link_id)
    path = path.strip("/")
    page = content.browse(
        ctx,
        viewer.workspace_id,
        link_id,
        path,
        search=search or None,
        token=token or None,
        page_size=size,
    )
    prefix = f"{path}/" if path else ""
    items = [
        {
            "item": item,
            "path": prefix + item.name.rstrip("/"),
        }
        for item in page.objects
    ]
    first_url = _listing_url(link_id, path, search, size, None)
    next_url = None
    if page.nextPageToken:
        next_url = _listing_url(link_id, path, search, size, page.nextPageToken)
    return render.page(
        request,
        "data_browse.html",
        title=f"{link.name} · Data Explorer",
        section="data",
        link=link,
        path=path,
        items=items,
        crumbs=_crumbs(link_id, path),
        root_url=_browse_url(link_id, ""),
        first_url=first_url if token else None,
        next_url=next_url,
        search=search or "",
        quote=quote,
        max_files=limits.UPLOAD_BATCH_MAX_FILES,
    )


def _table(data: bytes, delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace")), delimiter=delimiter)
    rows = []
    for row in reader:
        rows.append(row)
        if len(rows) > PREVIEW_ROWS:
            break
    return rows


@router.get("/{link_id}/preview")
def preview(request: Request, link_id: str, viewer: CanReadObjects, path: str) -> Response:
    ctx = app_ctx(request)
    link = data_links.describe(ctx, viewer.workspace_id, link_id)
    shown = content.preview(ctx, viewer.workspace_id, link_id, path)
    kind = shown.detected.kind
    data: dict[str, Any] = {"kind": kind, "size": shown.size}
    if kind in ("csv", "tsv"):
        data["rows"] = _table(shown.data, "," if kind == "csv" else "\t")
    elif kind != "image":
        data["text"] = shown.data.decode("utf-8", errors="replace")
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    return render.page(
        request,
        "data_preview.html",
        title=f"{path} · Data Explorer",
        section="data",
        link=link,
        path=path,
        name=path.rsplit("/", 1)[-1],
        crumbs=_crumbs(link_id, folder),
        root_url=_browse_url(link_id, ""),
        folder_url=_browse_url(link_id, folder),
        quoted=quote(path, safe=""),
        **data,
    )


@router.get("/{link_id}/raw")
def raw_image(request: Request, link_id: str, viewer: CanReadObjects, path: str) -> Response:
    """An image for the preview page (images only: nothing else is served inline)."""
    shown = content.preview(app_ctx(request), viewer.workspace_id, link_id, path)
    if shown.detected.kind != "image":
        raise InvalidInput("Only images are shown inline.", field="path")
    return Response(shown.data, media_type=shown.detected.media_type, headers=RAW_HEADERS)


@router.get("/{link_id}/download")
def download(request: Request, link_id: str, viewer: CanReadObjects, path: str) -> Response:
    opened = content.open_download(app_ctx(request), viewer.workspace_id, link_id, path, None)
    return StreamingResponse(
        opened.chunks, status_code=opened.status, headers={**opened.headers, **RAW_HEADERS}
    )


@router.post("/{link_id}/folder")
def make_folder(
    request: Request, link_id: str, viewer: CanWriteObjects, form: CheckedForm
) -> Response:
    path = str(form.get("path") or "").strip("/")
    name = str(form.get("name") or "").strip().strip("/")
    back = _browse_url(link_id, path)
    if not name:
        return redirect_with(request, back, "Enter a folder name.", "error")
    target = f"{path}/{name}" if path else name
    try:
        content.make_folder(app_ctx(request), viewer.workspace_id, link_id, target)
    except BatchforgeError as problem:
        return redirect_with(request, back, problem.message, "error")
    return redirect_with(request, _browse_url(link_id, target), f"Folder '{name}' created.")


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while True:
        chunk = await upload.read(READ_CHUNK)
        if not chunk:
            return
        yield chunk


async def _upload_all(
    request: Request, viewer: Viewer, link_id: str, path: str, files: list[UploadFile]
) -> list[str]:
    done = []
    for upload in files:
        name = (upload.filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
        if not name:
            continue
        await content.upload_stream(
            app_ctx(request),
            viewer.workspace_id,
            link_id,
            f"{path}/{name}" if path else name,
            _chunks(upload),
            length=upload.size,
            content_type=upload.content_type,
        )
        done.append(name)
    return done


@router.post("/{link_id}/upload")
async def upload(
    request: Request, link_id: str, viewer: CanWriteObjects, form: CheckedForm
) -> Response:
    path = str(form.get("path") or "").strip("/")
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    back = _browse_url(link_id, path)
    if not files:
        return redirect_with(request, back, "Choose one or more files to upload.", "error")
    if len(files) > limits.UPLOAD_BATCH_MAX_FILES:
        text = f"Upload at most {limits.UPLOAD_BATCH_MAX_FILES} files at once."
        return redirect_with(request, back, text, "error")
    try:
        done = await _upload_all(request, viewer, link_id, path, files)
    except BatchforgeError as problem:
        return redirect_with(request, back, problem.message, "error")
    finally:
        for f in files:
            await f.close()
    return redirect_with(request, back, f"Uploaded {len(done)} file(s): {', '.join(done)}.")
