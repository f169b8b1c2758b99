"""S3 helpers that need boto3 itself: cached region-bound clients, presigned URLs and
streaming bodies.

:class:`S3Clients` keeps one :class:`AwsClient` per (environment, identity, region), so a
browse page costs one ``ListObjectsV2`` call and no client construction.  Identities are told
apart by a SHA-256 fingerprint of their key material, held in memory only.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from batchforge.aws.errors import translate
from batchforge.aws.session import AwsAuth, AwsClient, AwsEnvironment, AwsSession

DEFAULT_REGION = "us-east-1"


def region_of_location(constraint: str | None) -> str:
    """The region named by a ``GetBucketLocation`` answer (None/'' is us-east-1, 'EU' the
    legacy name of eu-west-1)."""
    if not constraint:
        return DEFAULT_REGION
    return "eu-west-1" if constraint == "EU" else constraint


def _fingerprint(auth: AwsAuth) -> str:
    material = "\x00".join(
        part or ""
        for part in (
            auth.mode,
            auth.access_key,
            auth.secret_key,
            auth.assume_role_arn,
            auth.external_id,
        )
    )
    return hashlib.sha256(material.encode()).hexdigest()


class Presigner:
    """Presigned URLs (SigV4, whatever the endpoint) for one identity and region.  Local
    computation: no AWS call."""

    def __init__(self, raw: Any):
        self._raw = raw

    def url(self, method: str, params: dict[str, Any], expires: int) -> str:
        """A URL for ``method`` (a boto3 method name such as ``get_object``)."""
        try:
            return str(self._raw.generate_presigned_url(method, Params=params, ExpiresIn=expires))
        except (ClientError, BotoCoreError) as exc:
            operation = self._raw.meta.method_to_api_mapping.get(method, method)
            raise translate(exc, "s3", operation) from None


@dataclass
class _Entry:
    env: AwsEnvironment
    session: AwsSession
    presigners: dict[str, Presigner] = field(default_factory=dict)


class S3Clients:
    """A small LRU cache of S3 clients and presigners per identity; thread-safe."""

    def __init__(self, size: int = 64):
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, str], _Entry] = OrderedDict()

    def _entry(self, env: AwsEnvironment, auth: AwsAuth, region: str) -> _Entry:
        key = (id(env), _fingerprint(auth))
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.env is not env:
                entry = _Entry(env, env.session(auth, region))
                self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return entry

    def client(self, env: AwsEnvironment, auth: AwsAuth, region: str) -> AwsClient:
        """An S3 client for ``auth`` in ``region`` (the bucket's region)."""
        return self._entry(env, auth, region).session.client("s3", region)

    def presigner(self, env: AwsEnvironment, auth: AwsAuth, region: str) -> Presigner:
        """URLs signed with SigV4 for ``region``: botocore would otherwise sign some with the
        deprecated SigV2, which regions opened since 2014 refuse."""
        entry = self._entry(env, auth, region)
        if region not in entry.presigners:
            entry.session.client("s3", region)  # builds the session's credentials
            boto = entry.session._boto
            assert boto is not None
            raw = boto.client(
                "s3",
                region_name=region,
                endpoint_url=env.endpoint_url,
                config=env.config().merge(Config(signature_version="s3v4")),
            )
            with self._lock:
                entry.presigners.setdefault(region, Presigner(raw))
        return entry.presigners[region]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


CLIENTS = S3Clients()


def iter_body(body: Any, chunk_size: int, operation: str = "GetObject") -> Iterator[bytes]:
    """The chunks of a streaming response body; the body is closed at the end, on error, and
    when the consumer stops early.  Read errors become :class:`AwsError`."""
    try:
        for chunk in body.iter_chunks(chunk_size):
            if chunk:
                yield chunk
    except BotoCoreError as exc:
        raise translate(exc, "s3", operation) from None
    finally:
        body.close()


def read_body(body: Any, limit: int, operation: str = "GetObject") -> bytes:
    """At most ``limit`` bytes of a response body, then close it."""
    try:
        return bytes(body.read(limit))
    except BotoCoreError as exc:
        raise translate(exc, "s3", operation) from None
    finally:
        body.close()
