"""The data-links part of the typed client (mixed into :class:`BatchforgeClient`).

Transfers:
- downloads stream through the server into a file, resuming with HTTP Range after a broken
  connection;
- uploads use Seqera's flow — ``/upload`` gives presigned part URLs, parts go straight to S3
  (retried), ``/upload/finish`` completes or, after a failure, aborts — or, with
  ``via_server``, stream the file through the server (``PUT .../content/{path}``).

Paths are percent-encoded segment by segment, ``.`` and ``..`` included, so the server sees
exactly the path given (and rejects ``..``) instead of httpx resolving it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

import httpx

from batchforge.client.transfer import (
    CHUNK,
    RETRIES,
    TRANSIENT_STATUS,
    as_api_error,
    backoff,
    download_file,
)
from batchforge.schemas.data_links import (
    DataLinkCacheRefreshResponse,
    DataLinkContentResponse,
    DataLinkCreateRequest,
    DataLinkDeleteItemResponse,
    DataLinkDownloadScriptResponse,
    DataLinkDownloadUrlResponse,
    DataLinkDto,
    DataLinkFinishResponse,
    DataLinkFolderResponse,
    DataLinkMultiPartUploadResponse,
    DataLinkResponse,
    DataLinkSimpleItem,
    DataLinksListResponse,
    DataLinkUpdateRequest,
    DataLinkUploadResult,
)

if TYPE_CHECKING:
    from batchforge.client.api import ApiError


def encode_path(path: str) -> str:
    """``path`` percent-encoded per segment; dot segments encoded too (never resolved)."""
    segments = []
    for segment in path.split("/"):
        encoded = quote(segment, safe="")
        segments.append(encoded.replace(".", "%2E") if segment in (".", "..") else encoded)
    return "/".join(segments)


def _suffix(path: str | None) -> str:
    return "/" + encode_path(path) if path else ""


class DataLinksClientMixin:
    """Data-link methods; needs ``request``, ``_http`` and ``workspace_id`` of the client."""

    if TYPE_CHECKING:
        _http: httpx.Client
        workspace_id: int | None

        def request(
            self,
            method: str,
            path: str,
            *,
            json: Any = None,
            params: dict[str, Any] | None = None,
            workspace: bool = True,
        ) -> httpx.Response: ...

    # --- links ----------------------------------------------------------------------------

    def list_data_links(
        self,
        credentials_id: str | None = None,
        search: str | None = None,
        visibility: str | None = None,
        max_results: int | None = None,
        offset: int | None = None,
    ) -> DataLinksListResponse:
        params = {
            "credentialsId": credentials_id,
            "search": search,
            "visibility": visibility,
            "max": max_results,
            "offset": offset,
        }
        response = self.request("GET", "/data-links", params=params)
        return DataLinksListResponse.model_validate(response.json())

    def create_data_link(self, body: DataLinkCreateRequest) -> DataLinkDto:
        payload = body.model_dump(mode="json", exclude_none=True)
        response = self.request("POST", "/data-links", json=payload)
        return DataLinkDto.model_validate(response.json())

    def describe_data_link(self, link_id: str) -> DataLinkDto:
        response = self.request("GET", f"/data-links/{quote(link_id, safe='')}")
        return DataLinkResponse.model_validate(response.json()).dataLink

    def update_data_link(self, link_id: str, body: DataLinkUpdateRequest) -> DataLinkDto:
        payload = body.model_dump(mode="json", exclude_none=True)
        response = self.request("PUT", f"/data-links/{quote(link_id, safe='')}", json=payload)
        return DataLinkDto.model_validate(response.json())

    def delete_data_link(self, link_id: str) -> None:
        self.request("DELETE", f"/data-links/{quote(link_id, safe='')}")

    def refresh_data_links(self, credentials_id: str | None = None) -> DataLinkCacheRefreshResponse:
        params = {"credentialsId": credentials_id}
        response = self.request("GET", "/data-links/cache/refresh", params=params)
        return DataLinkCacheRefreshResponse.model_validate(response.json())

    def find_data_link(self, name_or_id: str, credentials_id: str | None = None) -> DataLinkDto:
        """A link by id, or else by name (hidden links included)."""
        if name_or_id.startswith("v1-"):
            return self.describe_data_link(name_or_id)
        found = self.list_data_links(credentials_id, visibility="all").dataLinks
        matches = [link for link in found if link.name == name_or_id]
        if len(matches) == 1:
            return matches[0]
        from batchforge.client.api import ApiError

        problem = "No data link" if not matches else f"{len(matches)} data links"
        raise ApiError(
            f"{problem} named '{name_or_id}' in this workspace.",
            code="not-found" if not matches else "conflict",
            status=404 if not matches else 409,
            hint="Use the data link's id (batchforge data-links list).",
        )

    # --- content --------------------------------------------------------------------------

    def _link_path(self, link_id: str, action: str, path: str | None = None) -> str:
        return f"/data-links/{quote(link_id, safe='')}/{action}{_suffix(path)}"

    def browse_data_link(
        self,
        link_id: str,
        path: str = "",
        *,
        search: str | None = None,
        token: str | None = None,
        page_size: int | None = None,
        credentials_id: str | None = None,
    ) -> DataLinkContentResponse:
        params = {
            "search": search,
            "nextPageToken": token,
            "pageSize": page_size,
            "credentialsId": credentials_id,
        }
        response = self.request("GET", self._link_path(link_id, "browse", path), params=params)
        return DataLinkContentResponse.model_validate(response.json())

    def data_link_tree(
        self, link_id: str, paths: list[str], credentials_id: str | None = None
    ) -> list[DataLinkSimpleItem]:
        params = {"paths": paths, "credentialsId": credentials_id}
        response = self.request("GET", self._link_path(link_id, "browse-tree"), params=params)
        return [DataLinkSimpleItem.model_validate(item) for item in response.json()["items"]]

    def preview_data_link_file(self, link_id: str, path: str) -> tuple[bytes, str, str]:
        """(content, kind, content type) of a previewable file."""
        response = self.request("GET", self._link_path(link_id, "preview", path))
        kind = response.headers.get("x-preview-kind", "text")
        return response.content, kind, response.headers.get("content-type", "")

    def data_link_download_url(
        self, link_id: str, path: str, preview: bool = False
    ) -> DataLinkDownloadUrlResponse:
        params = {"filePath": path, "preview": "true" if preview else None}
        url = self._link_path(link_id, "generate-download-url")
        return DataLinkDownloadUrlResponse.model_validate(
            self.request("GET", url, params=params).json()
        )

    def data_link_download_script(
        self, link_id: str, dirs: list[str] | None = None, files: list[str] | None = None
    ) -> str:
        params = {"dirs": dirs or None, "files": files or None}
        url = self._link_path(link_id, "script/download")
        response = self.request("GET", url, params=params)
        return DataLinkDownloadScriptResponse.model_validate(response.json()).script

    def create_data_link_folder(self, link_id: str, path: str) -> str:
        response = self.request("POST", self._link_path(link_id, "folder", path))
        return DataLinkFolderResponse.model_validate(response.json()).path

    def delete_data_link_content(
        self, link_id: str, files: list[str] | None = None, dirs: list[str] | None = None
    ) -> DataLinkDeleteItemResponse:
        body = {"files": files or [], "dirs": dirs or []}
        response = self.request("DELETE", self._link_path(link_id, "content"), json=body)
        return DataLinkDeleteItemResponse.model_validate(response.json())

    # --- transfers ------------------------------------------------------------------------

    def _query(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        query = {k: v for k, v in (extra or {}).items() if v is not None}
        if self.workspace_id is not None:
            query["workspaceId"] = self.workspace_id
        return query

    def download_data_link_file(self, link_id: str, path: str, target: Path) -> int:
        """Stream a file into ``target`` (via ``target.part``), resuming with a Range request
        after a broken connection; returns the bytes written."""
        url = self._link_path(link_id, "download", path)
        return download_file(self._http, url, self._query(), target)

    def upload_data_link_file(
        self,
        link_id: str,
        dir_path: str,
        source: Path,
        *,
        name: str | None = None,
        via_server: bool = False,
    ) -> int:
        """Upload ``source`` into folder ``dir_path`` of the link; returns its size."""
        file_name = name or source.name
        if via_server:
            return self._upload_via_server(link_id, f"{dir_path}/{file_name}".lstrip("/"), source)
        size = source.stat().st_size
        started = self.request(
            "POST",
            self._link_path(link_id, "upload", dir_path),
            json={"fileName": file_name, "contentLength": size},
        )
        plan = DataLinkMultiPartUploadResponse.model_validate(started.json())
        finish = self._link_path(link_id, "upload/finish", dir_path)
        body: dict[str, Any] = {"fileName": file_name, "uploadId": plan.uploadId}
        try:
            tags = _put_parts(source, plan)
        except BaseException:
            self.request("POST", finish, json={**body, "withError": True})
            raise
        done = self.request("POST", finish, json={**body, "tags": tags})
        DataLinkFinishResponse.model_validate(done.json())
        return size

    def _upload_via_server(self, link_id: str, path: str, source: Path) -> int:
        from batchforge.client.api import _error_from

        size = source.stat().st_size
        url = self._link_path(link_id, "content", path)
        for attempt in range(RETRIES + 1):
            with source.open("rb") as handle:
                try:
                    response = self._http.put(
                        url,
                        params=self._query(),
                        content=_read_chunks(handle),
                        headers={"Content-Length": str(size)},
                    )
                except httpx.HTTPError as exc:
                    if attempt == RETRIES:
                        raise as_api_error(exc) from None
                    backoff(attempt)
                    continue
            if response.status_code in TRANSIENT_STATUS and attempt < RETRIES:
                backoff(attempt)
                continue
            if response.status_code >= 400:
                raise _error_from(response)
            return DataLinkUploadResult.model_validate(response.json()).size
        return size


def _read_chunks(handle: BinaryIO) -> Iterator[bytes]:
    while chunk := handle.read(CHUNK):
        yield chunk


def _put_parts(source: Path, plan: DataLinkMultiPartUploadResponse) -> list[dict[str, Any]]:
    """PUT each part to its presigned URL (no batchforge token: S3 would refuse it),
    retrying each part; returns the ETags for ``/upload/finish``."""
    tags: list[dict[str, Any]] = []
    with httpx.Client(timeout=120.0) as s3, source.open("rb") as handle:
        for number, url in enumerate(plan.uploadUrls, start=1):
            handle.seek((number - 1) * plan.partSize)
            data = handle.read(plan.partSize)
            tags.append({"partNumber": number, "eTag": _put_part(s3, url, data)})
    return tags


def _put_part(s3: httpx.Client, url: str, data: bytes) -> str:
    for attempt in range(RETRIES + 1):
        try:
            response = s3.put(url, content=data)
        except httpx.HTTPError as exc:
            if attempt == RETRIES:
                raise as_api_error(exc) from None
            backoff(attempt)
            continue
        if response.status_code < 300 and response.headers.get("etag"):
            return response.headers["etag"]
        if response.status_code not in TRANSIENT_STATUS or attempt == RETRIES:
            break
        backoff(attempt)
    raise _part_error(response.status_code, response.text[:300])


def _part_error(status: int, text: str) -> ApiError:
    from batchforge.client.api import ApiError

    return ApiError(
        f"S3 refused an upload part (HTTP {status}).",
        code="upload-failed",
        status=status or 502,
        hint="The upload was aborted; try again. " + (text if "<Code>" in text else ""),
    )
