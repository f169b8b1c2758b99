"""Shapes used across the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """Base of every API shape: unknown fields are ignored, as Seqera clients send extras."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ErrorResponse(ApiModel):
    message: str
    code: str | None = None
    hint: str | None = None
    field: str | None = None


class ServiceInfo(ApiModel):
    version: str
    apiVersion: str
    commitId: str = "unknown"
    authTypes: list[str] = ["token"]
    forgePrefix: str
    seqeraCloud: bool = False
    waveEnabled: bool = False
    llmEnabled: bool = False
    userWorkspaceEnabled: bool = False
    allowInstanceCredentials: bool = True
    awsMode: str
    awsEndpoint: str | None = None


class ServiceInfoResponse(ApiModel):
    serviceInfo: ServiceInfo


class UserResponseDto(ApiModel):
    id: int
    userName: str
    email: str = ""
    dateCreated: datetime | None = None
    lastAccess: datetime | None = None
    deleted: bool = False


class DescribeUserResponse(ApiModel):
    user: UserResponseDto
    defaultWorkspaceId: int | None = None
    needConsent: bool = False
