"""Personal API token shapes (Seqera's ``AccessToken`` and its requests).

The token itself appears once, in :class:`CreateAccessTokenResponse` ``accessKey``; no other
shape has a field for it (the server keeps only its SHA-256)."""

from __future__ import annotations

from datetime import datetime

from batchforge.schemas.common import ApiModel


class AccessToken(ApiModel):
    id: int | None = None
    name: str
    lastUsed: datetime | None = None
    dateCreated: datetime | None = None


class ListAccessTokensResponse(ApiModel):
    tokens: list[AccessToken]


class CreateAccessTokenRequest(ApiModel):
    name: str | None = None


class CreateAccessTokenResponse(ApiModel):
    accessKey: str
    token: AccessToken
