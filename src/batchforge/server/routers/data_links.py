"""``/data-links``: Seqera's Data Explorer API for AWS S3, plus three extensions (preview,
streamed upload, folders).  Thin: parse, call one service, return."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.convertors import Convertor, register_url_convertor

from batchforge.errors import InvalidInput
from batchforge.explorer.content import SAFE_HEADERS, parse_range
from batchforge.schemas.data_links import (
    DataLinkCacheRefreshResponse,
    DataLinkContentResponse,
    DataLinkContentTreeListResponse,
    DataLinkCreateRequest,
    DataLinkDeleteItemRequest,
    DataLinkDeleteItemResponse,
    DataLinkDownloadScriptResponse,
    DataLinkDownloadUrlResponse,
    DataLinkDto,
    DataLinkFinishMultiPartUploadRequest,
    DataLinkFinishResponse,
    DataLinkFolderResponse,
    DataLinkMultiPartUploadRequest,
    DataLinkMultiPartUploadResponse,
    DataLinkResponse,
    DataLinksListResponse,
    DataLinkUpdateRequest,
    DataLinkUploadResult,
)
from batchforge.server.deps import Ctx
from batchforge.services import data_link_content as content
from batchforge.services import data_links as service
from batchforge.services.authz import Permission, needs


class AnyPathConvertor(Convertor[str]):
    """Like Starlette's ``path``, but also matching control characters (``path`` stops at a
    newline and the request would be a bare 404): the service then names the problem."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", AnyPathConvertor())
router = APIRouter(prefix="/data-links", tags=["data-links"])

CanRead = Annotated[int, Depends(needs(Permission.DATA_LINK_READ))]
CanWrite = Annotated[int, Depends(needs(Permission.DATA_LINK_WRITE))]
CanDelete = Annotated[int, Depends(needs(Permission.DATA_LINK_DELETE))]
CanReadObjects = Annotated[int, Depends(needs(Permission.DATA_LINK_OBJECT_READ))]
CanWriteObjects = Annotated[int, Depends(needs(Permission.DATA_LINK_OBJECT_WRITE))]
CanDeleteObjects = Annotated[int, Depends(needs(Permission.DATA_LINK_OBJECT_DELETE))]

CredentialsId = Annotated[str | None, Query(description="Credentials string identifier")]


@router.get("", response_model=DataLinksListResponse)
def list_data_links(
    ctx: Ctx,
    workspace_id: CanRead,
    credentialsId: CredentialsId = None,
    search: str | None = None,
    visibility: str | None = None,
    max: int | None = None,
    offset: int | None = None,
) -> DataLinksListResponse:
    return service.list_links(
        ctx,
        workspace_id,
        credentials_id=credentialsId,
        search=search,
        visibility=visibility,
        max_results=max,
        offset=offset,
    )


@router.post("", response_model=DataLinkDto)
def create_data_link(ctx: Ctx, workspace_id: CanWrite, body: DataLinkCreateRequest) -> DataLinkDto:
    return service.create(ctx, workspace_id, body)


@router.get("/cache/refresh", response_model=DataLinkCacheRefreshResponse)
def refresh_cache(
    ctx: Ctx, workspace_id: CanRead, credentialsId: CredentialsId = None
) -> DataLinkCacheRefreshResponse:
    return service.refresh(ctx, workspace_id, credentialsId)


@router.get("/{dataLinkId}", response_model=DataLinkResponse)
def describe_data_link(
    ctx: Ctx, workspace_id: CanRead, dataLinkId: str, credentialsId: CredentialsId = None
) -> DataLinkResponse:
    return DataLinkResponse(dataLink=service.describe(ctx, workspace_id, dataLinkId))


@router.put("/{dataLinkId}", response_model=DataLinkDto)
def update_data_link(
    ctx: Ctx, workspace_id: CanWrite, dataLinkId: str, body: DataLinkUpdateRequest
) -> DataLinkDto:
    return service.update(ctx, workspace_id, dataLinkId, body)


@router.delete("/{dataLinkId}", status_code=204, response_class=Response)
def delete_data_link(ctx: Ctx, workspace_id: CanDelete, dataLinkId: str) -> Response:
    service.delete(ctx, workspace_id, dataLinkId)
    return Response(status_code=204)


@router.get("/{dataLinkId}/browse", response_model=DataLinkContentResponse)
@router.get("/{dataLinkId}/browse/{path:anypath}", response_model=DataLinkContentResponse)
def browse(
    ctx: Ctx,
    workspace_id: CanReadObjects,
    dataLinkId: str,
    path: str = "",
    credentialsId: CredentialsId = None,
    search: str | None = None,
    nextPageToken: str | None = None,
    pageSize: int | None = None,
) -> DataLinkContentResponse:
    return content.browse(
        ctx,
        workspace_id,
        dataLinkId,
        path,
        search=search,
        token=nextPageToken,
        page_size=pageSize,
        credentials_id=credentialsId,
    )


@router.get("/{dataLinkId}/browse-tree", response_model=DataLinkContentTreeListResponse)
def browse_tree(
    ctx: Ctx,
    workspace_id: CanReadObjects,
    dataLinkId: str,
    credentialsId: CredentialsId = None,
    paths: Annotated[list[str] | None, Query()] = None,
) -> DataLinkContentTreeListResponse:
    return content.tree(ctx, workspace_id, dataLinkId, paths or [], credentialsId)


@router.delete("/{dataLinkId}/content", response_model=DataLinkDeleteItemResponse)
def delete_content(
    ctx: Ctx,
    workspace_id: CanDeleteObjects,
    dataLinkId: str,
    body: DataLinkDeleteItemRequest,
    credentialsId: CredentialsId = None,
) -> DataLinkDeleteItemResponse:
    return content.delete_items(ctx, workspace_id, dataLinkId, body, credentialsId)


@router.get("/{dataLinkId}/download/{filePath:anypath}", response_class=StreamingResponse)
def download(
    ctx: Ctx,
    workspace_id: CanReadObjects,
    dataLinkId: str,
    filePath: str,
    credentialsId: CredentialsId = None,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
) -> StreamingResponse:
    """The file, streamed (HTTP Range supported: 206 with Content-Range)."""
    opened = content.open_download(
        ctx, workspace_id, dataLinkId, filePath, parse_range(range_header), credentialsId
    )
    return StreamingResponse(
        opened.chunks, status_code=opened.status, headers={**opened.headers, **SAFE_HEADERS}
    )


@router.get("/{dataLinkId}/preview/{filePath:anypath}", response_class=Response)
def preview(
    ctx: Ctx,
    workspace_id: CanReadObjects,
    dataLinkId: str,
    filePath: str,
    credentialsId: CredentialsId = None,
) -> Response:
    """*Extension*: text, CSV/TSV, JSON or image content up to 10 MB; the kind is in
    ``X-Preview-Kind`` and the object's size in ``X-Object-Size``."""
    shown = content.preview(ctx, workspace_id, dataLinkId, filePath, credentialsId)
    headers = {
        **SAFE_HEADERS,
        "X-Preview-Kind": shown.detected.kind,
        "X-Object-Size": str(shown.size),
    }
    return Response(shown.data, media_type=shown.detected.media_type, headers=headers)


@router.get("/{dataLinkId}/generate-download-url", response_model=DataLinkDownloadUrlResponse)
def generate_download_url(
    ctx: Ctx,
    workspace_id: CanReadObjects,
    dataLinkId: str,
    filePath: str | None = None,
    credentialsId: CredentialsId = None,
    preview: bool = False,
    resolveSymlink: bool = False,
) -> DataLinkDownloadUrlResponse:
    return content.download_url(ctx, workspace_id, dataLinkId, filePath, preview, credentialsId)


@router.get("/{dataLinkId}/script/download", response_model=DataLinkDownloadScriptResponse)
def download_script(
    ctx: Ctx,
    workspace_id: CanReadObjects,
    dataLinkId: str,
    credentialsId: CredentialsId = None,
    dirs: Annotated[list[str] | None, Query()] = None,
    files: Annotated[list[str] | None, Query()] = None,
) -> DataLinkDownloadScriptResponse:
    return content.download_script(
        ctx, workspace_id, dataLinkId, dirs or [], files or [], credentialsId
    )


UploadOrFinish = DataLinkFinishMultiPartUploadRequest | DataLinkMultiPartUploadRequest


@router.post("/{dataLinkId}/upload/finish", response_model=None)
@router.post("/{dataLinkId}/upload/finish/{dirPath:anypath}", response_model=None)
def finish_upload(
    ctx: Ctx,
    workspace_id: CanWriteObjects,
    dataLinkId: str,
    body: UploadOrFinish,
    dirPath: str = "",
    credentialsId: CredentialsId = None,
) -> DataLinkFinishResponse | DataLinkMultiPartUploadResponse:
    """Complete or abort an upload.  (A body without ``uploadId`` is an upload into a folder
    named ``finish``: the spec's paths overlap there.)"""
    if isinstance(body, DataLinkMultiPartUploadRequest):
        folder = "finish/" + dirPath if dirPath else "finish"
        return content.start_upload(ctx, workspace_id, dataLinkId, folder, body, credentialsId)
    return content.finish_upload(ctx, workspace_id, dataLinkId, dirPath, body, credentialsId)


UploadResponse = DataLinkMultiPartUploadResponse


@router.post("/{dataLinkId}/upload", response_model=UploadResponse)
@router.post("/{dataLinkId}/upload/{dirPath:anypath}", response_model=UploadResponse)
def start_upload(
    ctx: Ctx,
    workspace_id: CanWriteObjects,
    dataLinkId: str,
    body: DataLinkMultiPartUploadRequest,
    dirPath: str = "",
    credentialsId: CredentialsId = None,
) -> DataLinkMultiPartUploadResponse:
    """A multipart upload with one presigned URL per part; then ``/upload/finish``."""
    return content.start_upload(ctx, workspace_id, dataLinkId, dirPath, body, credentialsId)


@router.put("/{dataLinkId}/content/{filePath:anypath}", response_model=DataLinkUploadResult)
async def upload_content(
    request: Request,
    ctx: Ctx,
    workspace_id: CanWriteObjects,
    dataLinkId: str,
    filePath: str,
    credentialsId: CredentialsId = None,
) -> DataLinkUploadResult:
    """*Extension*: upload the request body through the server (streamed, multipart)."""
    length = request.headers.get("content-length")
    if length is not None and not length.isdigit():
        raise InvalidInput("Content-Length must be a number of bytes.", field="Content-Length")
    return await content.upload_stream(
        ctx,
        workspace_id,
        dataLinkId,
        filePath,
        request.stream(),
        length=int(length) if length is not None else None,
        content_type=request.headers.get("content-type"),
        credentials_id=credentialsId,
    )


@router.post("/{dataLinkId}/folder/{dirPath:anypath}", response_model=DataLinkFolderResponse)
def create_folder(
    ctx: Ctx,
    workspace_id: CanWriteObjects,
    dataLinkId: str,
    dirPath: str,
    credentialsId: CredentialsId = None,
) -> DataLinkFolderResponse:
    """*Extension*: an empty folder (a ``path/`` marker object)."""
    return content.make_folder(ctx, workspace_id, dataLinkId, dirPath, credentialsId)
