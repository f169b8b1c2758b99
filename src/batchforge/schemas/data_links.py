"""Data-link shapes (Seqera's DataLink* schemas).

Fields marked *extension* are batchforge additions; Seqera clients ignore them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from batchforge.schemas.common import ApiModel

DataLinkStatus = Literal["VALID", "INVALID"]
DataLinkItemType = Literal["FOLDER", "FILE", "FUSION_SYMLINK_FILE"]
Visibility = Literal["visible", "hidden", "all"]


class DataLinkCredentials(ApiModel):
    id: str
    name: str
    provider: str = "aws"


class DataLinkExtra(ApiModel):
    """*Extension*: an optional permission and whether the link's credentials have it
    (``unknown`` until AWS answered a call that needs it)."""

    action: str
    purpose: str
    status: Literal["granted", "denied", "unknown"]
    hint: str | None = None


class DataLinkDto(ApiModel):
    id: str
    name: str
    description: str | None = None
    resourceRef: str
    type: Literal["bucket"] = "bucket"
    provider: str = "aws"
    region: str | None = None
    credentials: list[DataLinkCredentials] = []
    status: DataLinkStatus
    message: str | None = None
    hidden: bool = False
    publicAccessible: bool = False
    creationSource: Literal["discovered", "custom"]
    """*Extension*: found by listing the credentials' buckets, or added by hand."""
    extras: list[DataLinkExtra] = []
    """*Extension*: the optional permissions (delete, abort) and what is known of them."""


class DataLinksListResponse(ApiModel):
    dataLinks: list[DataLinkDto]
    totalSize: int


class DataLinkResponse(ApiModel):
    dataLink: DataLinkDto


class DataLinkCreateRequest(ApiModel):
    name: str = Field(max_length=255)
    description: str | None = Field(default=None, max_length=1000)
    resourceRef: str = Field(max_length=1100)
    type: Literal["bucket"] = "bucket"
    provider: str = "aws"
    credentialsId: str | None = None
    publicAccessible: bool = False
    region: str | None = Field(default=None, max_length=32)
    """*Extension*: the bucket's region; looked up (GetBucketLocation) when absent."""
    hidden: bool = False
    """*Extension*."""


class DataLinkUpdateRequest(ApiModel):
    name: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=1000)
    credentialsId: str | None = None
    hidden: bool | None = None
    """*Extension*: hide or show a link (discovered links too)."""


class DataLinkItem(ApiModel):
    name: str
    type: DataLinkItemType
    size: int = 0
    mimeType: str | None = None
    lastModified: datetime | None = None
    """*Extension*."""


class DataLinkContentResponse(ApiModel):
    objects: list[DataLinkItem]
    nextPageToken: str | None = None
    originalPath: str | None = None


class DataLinkSimpleItem(ApiModel):
    path: str
    size: int


class DataLinkContentTreeListResponse(ApiModel):
    items: list[DataLinkSimpleItem]


class DataLinkDownloadUrlResponse(ApiModel):
    url: str
    resolvedPath: str | None = None
    resolvedMimeType: str | None = None
    warning: str | None = None


class DataLinkDownloadScriptResponse(ApiModel):
    script: str


class DataLinkMultiPartUploadRequest(ApiModel):
    fileName: str = Field(max_length=1024)
    contentLength: int
    contentType: str | None = Field(default=None, max_length=255)


class DataLinkMultiPartUploadResponse(ApiModel):
    uploadId: str
    uploadUrls: list[str]
    partSize: int
    """*Extension*: part ``n`` (from 1) is bytes ``(n-1)*partSize`` up to ``n*partSize``."""


class UploadEtag(ApiModel):
    eTag: str | None = None
    partNumber: int | None = None


class DataLinkFinishMultiPartUploadRequest(ApiModel):
    fileName: str = Field(max_length=1024)
    uploadId: str = Field(max_length=1024)
    tags: list[UploadEtag] = Field(default_factory=list, max_length=10_000)
    withError: bool = False


class DataLinkFinishResponse(ApiModel):
    """*Extension* (the spec's body is an untyped object): what finishing did."""

    completed: bool = False
    parts: int | None = None
    aborted: bool | None = None
    message: str | None = None


class DataLinkDeleteItemRequest(ApiModel):
    files: list[str] = Field(default_factory=list, max_length=1000)
    dirs: list[str] = Field(default_factory=list, max_length=100)


class DataLinkItemDeletionFailure(ApiModel):
    dataLinkItem: DataLinkItem
    errorMessage: str


class DataLinkDeleteItemResponse(ApiModel):
    deletionFailures: list[DataLinkItemDeletionFailure] = []


class DataLinkDiscoveryResult(ApiModel):
    credentialsId: str
    status: Literal["OK", "DENIED", "FAILED"]
    buckets: int = 0
    message: str | None = None


class DataLinkCacheRefreshResponse(ApiModel):
    """*Extension* (the spec answers 200 without a body): one result per credentials."""

    refreshed: list[DataLinkDiscoveryResult]


class DataLinkFolderResponse(ApiModel):
    """*Extension*: the folder created (``POST /data-links/{id}/folder/{path}``)."""

    path: str


class DataLinkUploadResult(ApiModel):
    """*Extension*: an upload streamed through the server (``PUT .../content/{path}``)."""

    path: str
    size: int
    parts: int
