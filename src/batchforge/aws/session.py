"""Sessions and clients built from stored credentials.

:class:`AwsAuth` says *who* calls AWS: access keys, access keys plus a role to assume (with an
external id), a role assumed from the server's own default credential chain, or the default
chain alone.  :class:`AwsEnvironment` says *where*: endpoint (the emulator, or None for AWS),
retry policy, the call recorder and any extra botocore event hooks (tests use those to add
real-AWS rules the emulator lacks).  :meth:`AwsEnvironment.session` joins the two.

Clients returned by :meth:`AwsSession.client` are wrapped: every API method raises
:class:`batchforge.errors.AwsError` instead of botocore exceptions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import boto3
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError, InvalidRegionError
from botocore.loaders import Loader, create_loader
from botocore.parsers import ResponseParserError
from botocore.session import Session as BotocoreSession
from botocore.session import get_session

from batchforge.aws.errors import translate
from batchforge.aws.recorder import CallRecorder
from batchforge.errors import InvalidInput

AuthMode = Literal["keys", "role", "default"]
EventHook = tuple[str, Callable[..., Any]]

ROLE_SESSION_NAME = "batchforge"
ASSUMED_ROLE_SECONDS = 3600


@dataclass(frozen=True)
class AwsAuth:
    """Who calls AWS.  ``secret_key`` is excluded from ``repr`` so it never reaches a log."""

    mode: AuthMode = "default"
    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    assume_role_arn: str | None = None
    external_id: str | None = field(default=None, repr=False)

    @property
    def has_keys(self) -> bool:
        return bool(self.access_key and self.secret_key)


@dataclass
class AwsEnvironment:
    """Where and how AWS is called; shared by every session of a server process."""

    endpoint_url: str | None = None
    default_region: str = "us-east-1"
    recorder: CallRecorder | None = None
    event_hooks: list[EventHook] = field(default_factory=list)
    max_attempts: int = 8
    # Source credentials for AwsAuth(mode="default"/"role") without keys; None = boto3's chain.
    default_keys: tuple[str, str] | None = None
    # One loader for every session: AWS's service models are parsed once per process.
    _loader: Loader = field(default_factory=create_loader, repr=False)

    def botocore_session(self) -> BotocoreSession:
        """A fresh botocore session sharing this environment's model loader."""
        session = get_session()
        session.register_component("data_loader", self._loader)
        return session

    def config(self) -> Config:
        return Config(
            retries={"mode": "adaptive", "max_attempts": self.max_attempts},
            connect_timeout=5,
            read_timeout=60,
            user_agent_extra="batchforge",
        )

    def session(self, auth: AwsAuth, region: str | None = None) -> AwsSession:
        return AwsSession(self, auth, region or self.default_region)


class AwsSession:
    """Clients for one identity and region.  Thread-safe; clients are cached per service."""

    def __init__(self, env: AwsEnvironment, auth: AwsAuth, region: str):
        self.env = env
        self.auth = auth
        self.region = region
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], AwsClient] = {}
        self._boto: boto3.Session | None = None

    def client(self, service: str, region: str | None = None) -> AwsClient:
        key = (service, region or self.region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = AwsClient(self._make_client(*key))
            return self._clients[key]

    def _make_client(self, service: str, region: str) -> Any:
        if self._boto is None:
            self._boto = self._build_boto_session()
        try:
            client = self._boto.client(
                service,
                region_name=region,
                endpoint_url=self.env.endpoint_url,
                config=self.env.config(),
            )
        except InvalidRegionError:  # user input reaches here: a 400, not a crash
            raise InvalidInput(
                "region: not an AWS region name (like us-east-1).", field="region"
            ) from None
        if self.env.recorder is not None:
            self.env.recorder.attach(client)
        for event_name, handler in self.env.event_hooks:
            client.meta.events.register(event_name, handler)
        return client

    def _source_session(self) -> boto3.Session:
        keys: tuple[str | None, str | None] = (None, None)
        if self.auth.has_keys:
            keys = (self.auth.access_key, self.auth.secret_key)
        elif self.env.default_keys:
            keys = self.env.default_keys
        return boto3.Session(
            aws_access_key_id=keys[0],
            aws_secret_access_key=keys[1],
            region_name=self.region,
            botocore_session=self.env.botocore_session(),
        )

    def _build_boto_session(self) -> boto3.Session:
        source = self._source_session()
        if not self.auth.assume_role_arn:
            return source
        source_sts = AwsSession(self.env, self.auth, self.region)
        source_sts._boto = source

        def refresh() -> dict[str, str]:
            return assume_role(source_sts.client("sts"), self.auth)

        credentials = RefreshableCredentials.create_from_metadata(
            metadata=refresh(), refresh_using=refresh, method="sts-assume-role"
        )
        botocore_session = self.env.botocore_session()
        botocore_session._credentials = credentials
        return boto3.Session(botocore_session=botocore_session, region_name=self.region)


def assume_role(sts: AwsClient, auth: AwsAuth) -> dict[str, str]:
    """Assume ``auth.assume_role_arn``; the result in botocore's refreshable-metadata form."""
    kwargs: dict[str, Any] = {
        "RoleArn": auth.assume_role_arn,
        "RoleSessionName": ROLE_SESSION_NAME,
        "DurationSeconds": ASSUMED_ROLE_SECONDS,
    }
    if auth.external_id:
        kwargs["ExternalId"] = auth.external_id
    creds = sts.assume_role(**kwargs)["Credentials"]
    expiration = creds["Expiration"]
    if isinstance(expiration, datetime):
        expiration = expiration.astimezone(UTC).isoformat()
    return {
        "access_key": creds["AccessKeyId"],
        "secret_key": creds["SecretAccessKey"],
        "token": creds["SessionToken"],
        "expiry_time": str(expiration),
    }


class AwsClient:
    """A boto3 client whose API methods raise :class:`AwsError` instead of botocore errors.

    Attribute access is delegated to the boto3 client; ``paginate`` iterates a paginator with
    the same translation.  ``raw`` is the underlying client (for waiters and ``meta``).
    """

    def __init__(self, client: Any):
        self.raw = client
        self.service = client.meta.service_model.service_name

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.raw, name)
        if not callable(attr) or name.startswith(("get_paginator", "get_waiter", "can_paginate")):
            return attr
        operation = self.raw.meta.method_to_api_mapping.get(name)
        if operation is None:
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            except (ClientError, BotoCoreError, ResponseParserError) as exc:
                raise translate(exc, self.service, operation) from None

        return call

    def paginate(self, method: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Pages of ``method`` (a boto3 method name such as ``list_objects_v2``)."""
        operation = self.raw.meta.method_to_api_mapping[method]
        try:
            yield from self.raw.get_paginator(method).paginate(**kwargs)
        except (ClientError, BotoCoreError, ResponseParserError) as exc:
            raise translate(exc, self.service, operation) from None


def available_regions(service: str) -> list[str]:
    """Regions where ``service`` exists, from botocore's bundled endpoint data (no AWS call)."""
    return sorted(boto3.session.Session().get_available_regions(service))
