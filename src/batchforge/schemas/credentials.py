"""Credentials shapes (Seqera's Credentials / AwsSecurityKeys)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, SecretStr

from batchforge.schemas.common import ApiModel

CREDENTIALS_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"


class AwsKeysIn(ApiModel):
    """AWS keys as sent by a client.  ``secretKey`` is write-only."""

    discriminator: Literal["aws"] | None = "aws"
    mode: Literal["keys", "role"] | None = None
    accessKey: str | None = None
    secretKey: SecretStr | None = None
    assumeRoleArn: str | None = None
    externalId: str | None = None


class AwsKeysOut(ApiModel):
    """AWS keys as returned: never the secret key."""

    discriminator: Literal["aws"] = "aws"
    mode: Literal["keys", "role"]
    accessKey: str | None = None
    assumeRoleArn: str | None = None
    externalId: str | None = None


class CredentialsIn(ApiModel):
    name: str = Field(max_length=100)
    provider: str = Field(max_length=16)
    description: str | None = Field(default=None, max_length=1000)
    keys: AwsKeysIn = Field(default_factory=AwsKeysIn)


class CredentialsUpdateIn(ApiModel):
    """An update: every field optional; an absent secretKey keeps the stored one."""

    id: str | None = None
    name: str | None = Field(default=None, max_length=100)
    provider: str | None = Field(default=None, max_length=16)
    description: str | None = Field(default=None, max_length=1000)
    keys: AwsKeysIn | None = None


class CredentialsOut(ApiModel):
    id: str
    name: str
    description: str | None = None
    provider: str
    baseUrl: str | None = None
    category: str | None = None
    deleted: bool = False
    status: Literal["AVAILABLE", "INVALID"]
    message: str | None = None
    keys: AwsKeysOut
    dateCreated: datetime
    lastUpdated: datetime
    lastUsed: datetime | None = None
    lastValidated: datetime | None = None


class CreateCredentialsRequest(ApiModel):
    credentials: CredentialsIn


class CreateCredentialsResponse(ApiModel):
    credentialsId: str


class UpdateCredentialsRequest(ApiModel):
    credentials: CredentialsUpdateIn


class DescribeCredentialsResponse(ApiModel):
    credentials: CredentialsOut


class ListCredentialsResponse(ApiModel):
    credentials: list[CredentialsOut]


class ValidateCredentialsResponse(ApiModel):
    status: Literal["AVAILABLE", "INVALID"]
    message: str | None = None
    transientError: bool = False
    identityArn: str | None = None
