"""The stand-in's AWS side: boto3 with the head-job role's credentials (from the container's
environment), every call checked against that role's IAM policies and recorded.

- Enforcement: ``batchforge.iam.enforce.Enforcer`` (interfaces.md section 5) built from the role's
  policies (read with the emulator's own identity: that read is the test double's, not a call
  Nextflow makes).  A denied call answers ``AccessDenied``/``AccessDeniedException`` (HTTP 403)
  without reaching the emulator, as AWS would.
- Recording: each call, allowed or denied, is posted to the emulator's stand-in call log
  (``/batchforge-emulator/standin-calls``, read with ``LocalAws.standin_calls()``).
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import httpx

ACCOUNT = "123456789012"
EMULATOR_KEYS = ("testing", "testing")
_DENIED_CODES = {"s3": "AccessDenied", "iam": "AccessDenied", "sts": "AccessDenied"}


class NoEnforcer:
    """Stand-in for a missing ``batchforge.iam.enforce`` (allows everything, says so)."""

    available = False

    def check(self, service: str, operation: str, params: dict[str, Any], region: str) -> None:
        return None


def make_enforcer(principal: str | None, endpoint: str) -> Any:
    """The head-job role's :class:`Enforcer`; :class:`NoEnforcer` without a role or without
    the enforcement module."""
    if not principal:
        return NoEnforcer()
    try:
        from batchforge.iam import enforce
    except ImportError:
        return NoEnforcer()
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=EMULATOR_KEYS[0],
        aws_secret_access_key=EMULATOR_KEYS[1],
        aws_session_token=None,
    )
    policies = enforce.policies_for_principal(iam, principal)
    return enforce.Enforcer(policies, ACCOUNT, principal=principal)


def _printable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(v) for v in value]
    if hasattr(value, "read"):
        return "<stream>"
    return value


class Recorder:
    """Posts each call to the emulator's stand-in call log (never fails the call)."""

    def __init__(self, endpoint: str, principal: str | None) -> None:
        self.url = f"{endpoint.rstrip('/')}/batchforge-emulator/standin-calls"
        self.principal = principal
        self.http = httpx.Client(timeout=10)

    def record(
        self, service: str, operation: str, params: dict[str, Any], region: str, denied: Any
    ) -> None:
        call = {
            "principal": self.principal,
            "service": service,
            "operation": operation,
            "params": json.loads(json.dumps(_printable(params), default=str)),
            "region": region,
            "denied": denied,
        }
        with contextlib.suppress(httpx.HTTPError):
            self.http.post(self.url, json={"call": call})


class _Denied:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""


def attach(client: Any, enforcer: Any, recorder: Recorder) -> None:
    """Check and record every call of ``client``: parameters are caught before they are
    serialised, the decision is made just before the request would be sent."""
    service = client.meta.service_model.service_name
    region = client.meta.region_name
    events = client.meta.events

    def keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["batchforge_params"] = dict(params)

    def check(model: Any, context: dict[str, Any], **_: Any) -> Any:
        params = context.get("batchforge_params", {})
        denied = enforcer.check(service, model.name, params, region)
        recorder.record(service, model.name, params, region, denied)
        if denied is None:
            return None
        try:
            from batchforge.iam.enforce import access_denied
        except ImportError:
            code = _DENIED_CODES.get(service, "AccessDeniedException")
            parsed = {
                "Error": {"Code": code, "Message": denied},
                "ResponseMetadata": {"HTTPStatusCode": 403},
            }
            return _Denied(403), parsed
        return access_denied(service, client.meta.service_model.protocol, denied)

    events.register(f"before-parameter-build.{service}.*", keep_params)
    events.register(f"before-call.{service}.*", check)


class Aws:
    """The head job's AWS clients (default credential chain: the container's role keys)."""

    def __init__(self, region: str) -> None:
        import boto3
        from botocore.config import Config

        self.endpoint = os.environ.get("AWS_ENDPOINT_URL", "")
        self.principal = os.environ.get("BATCHFORGE_STANDIN_PRINCIPAL")
        self.region = region
        self.session = boto3.Session(region_name=region)
        self.config = Config(retries={"max_attempts": 2, "mode": "standard"})
        self.enforcer = make_enforcer(self.principal, self.endpoint)
        self.recorder = Recorder(self.endpoint, self.principal)
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            client = self.session.client(service, config=self.config)
            attach(client, self.enforcer, self.recorder)
            self._clients[service] = client
        return self._clients[service]
