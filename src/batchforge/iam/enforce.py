"""Enforce identity policies on AWS calls, with batchforge's own evaluator.

The local emulator authorises almost nothing (its IAM enforcement ignores resource ARNs and
conditions), so this module plays AWS's authoriser for the test layer and for the emulator's
Nextflow stand-in:

* :class:`Enforcer` decides one call: the call is mapped to the IAM requests AWS makes for it
  (:func:`batchforge.iam.requests.iam_requests`: action, resource ARN, context keys such as
  ``iam:PassedToService``, dependent actions) and every request is evaluated against the
  principal's identity policies (:class:`batchforge.iam.evaluator.PolicyEvaluator`);
* :func:`policies_for_principal` reads a user's or role's policies from IAM (inline, attached
  managed at their default version, and a user's groups');
* :func:`botocore_hook` / :func:`botocore_hooks` answer AWS's AccessDenied error instead of
  calling AWS, so error translation sees exactly what AWS would send.

Rules (IAM User Guide, "Policy evaluation logic"; STS API reference for GetCallerIdentity):
``sts:GetCallerIdentity`` needs no permission; anything else needs an Allow and no Deny.  A call
the mapping cannot map is **denied** (never silently allowed) with a message naming it.
Resource policies, trust policies, SCPs and permission boundaries are not evaluated.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from batchforge.aws.recorder import AwsCall
from batchforge.iam.calls import NO_PERMISSION_NEEDED
from batchforge.iam.evaluator import Decision, PolicyEvaluator
from batchforge.iam.parse import parse_policy
from batchforge.iam.requests import CallContext, IamRequest, Unmapped, iam_requests

PARAMS_KEY = "batchforge_api_params"
"""Where :func:`remember_params` keeps a call's API parameters in botocore's request context."""

EC2_DENIED = "UnauthorizedOperation"
QUERY_DENIED = "AccessDenied"  # IAM, STS (query protocol), S3 (rest-xml)
JSON_DENIED = "AccessDeniedException"  # Batch, Logs, Secrets Manager, SSM, EFS, FSx


def denied_code(service: str, protocol: str) -> str:
    """The error code AWS answers an unauthorised call with, by service and protocol.

    EC2: ``UnauthorizedOperation`` (EC2 API reference, "Error codes"); query and rest-xml
    services (IAM, STS, S3): ``AccessDenied``; JSON services: ``AccessDeniedException``.
    """
    if service == "ec2":
        return EC2_DENIED
    return JSON_DENIED if protocol in ("json", "rest-json") else QUERY_DENIED


class Enforcer:
    """Decide AWS calls for one principal whose identity policies are ``policies``.

    ``policies`` are policy documents (dicts, as IAM returns them); ``account`` fills ARNs.
    ``principal`` is the caller's ARN, named in denial messages as AWS does.
    """

    def __init__(
        self, policies: Sequence[dict[str, Any]], account: str, principal: str | None = None
    ) -> None:
        parsed = []
        for document in policies:
            result = parse_policy(json.dumps(document), validate_actions=False)
            if result.policy is None:
                raise ValueError(f"unparseable policy for {principal or 'the principal'}")
            parsed.append(result.policy)
        self.account = account
        self.principal = principal or f"arn:aws:iam::{account}:user/unknown"
        self._evaluator = PolicyEvaluator.for_policies(parsed)
        self._profile_roles: dict[str, str] = {}
        self._lock = threading.Lock()

    def requests(
        self, service: str, operation: str, params: dict[str, Any], region: str
    ) -> list[IamRequest]:
        """The IAM requests AWS makes for the call (raises :class:`Unmapped`)."""
        call = AwsCall(service, operation, region, params, started=0.0)
        with self._lock:
            if call.name == "iam:AddRoleToInstanceProfile":
                profile = str(params.get("InstanceProfileName"))
                self._profile_roles[profile] = str(params.get("RoleName"))
            ctx = CallContext(self.account, dict(self._profile_roles))
        return iam_requests(call, ctx)

    def check(
        self, service: str, operation: str, params: dict[str, Any], region: str
    ) -> str | None:
        """None when AWS would allow the call; else the AccessDenied message, naming the
        action and the resource (``service``/``operation`` are boto3 names)."""
        name = f"{service}:{operation}"
        if name in NO_PERMISSION_NEEDED:
            return None
        try:
            requests = self.requests(service, operation, params, region)
        except Unmapped as error:
            return (
                f"User: {self.principal} is not authorized to perform: {name} (batchforge's "
                f"enforcement cannot map this operation to IAM requests, so it is denied: "
                f"{error})"
            )
        for request in requests:
            denial = self._decide(request, region)
            if denial is not None:
                return denial
        return None

    def _decide(self, request: IamRequest, region: str) -> str | None:
        context = {
            "aws:PrincipalArn": self.principal,
            "aws:PrincipalAccount": self.account,
            "aws:RequestedRegion": region,
            **dict(request.context),
        }
        if ":user/" in self.principal:
            context["aws:username"] = self.principal.rsplit("/", 1)[-1]
        found = self._evaluator.evaluate(
            request.action, request.resource, context, resource_is_pattern=False
        )
        if found.allowed:
            return None
        why = (
            "with an explicit deny in an identity-based policy"
            if found.decision is Decision.EXPLICIT_DENY
            else f"because no identity-based policy allows the {request.action} action"
        )
        via = f" (needed for {request.parent}: {request.why})" if request.parent else ""
        return (
            f"User: {self.principal} is not authorized to perform: {request.action} on "
            f"resource: {request.resource} {why}{via}"
        )


def _document(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return dict(json.loads(unquote(value)))
    return dict(value)


def _managed(iam: Any, arn: str) -> dict[str, Any]:
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    found = iam.get_policy_version(PolicyArn=arn, VersionId=version)
    return _document(found["PolicyVersion"]["Document"])


def _entity_policies(iam: Any, kind: str, name: str) -> list[dict[str, Any]]:
    """Inline and attached managed policies of a ``user``, ``role`` or ``group``."""
    cap = kind.capitalize()
    key = {f"{cap}Name": name}
    out = []
    for page in iam.get_paginator(f"list_{kind}_policies").paginate(**key):
        for policy_name in page["PolicyNames"]:
            got = getattr(iam, f"get_{kind}_policy")(**key, PolicyName=policy_name)
            out.append(_document(got["PolicyDocument"]))
    for page in iam.get_paginator(f"list_attached_{kind}_policies").paginate(**key):
        out += [_managed(iam, p["PolicyArn"]) for p in page["AttachedPolicies"]]
    return out


def policies_for_principal(iam_client: Any, principal_arn: str) -> list[dict[str, Any]]:
    """Identity policies of a user (with its groups'), a role, or an assumed-role session
    (``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``: the role's)."""
    resource = principal_arn.split(":", 5)[5]
    kind, _, rest = resource.partition("/")
    name = rest.rsplit("/", 1)[-1]
    if kind == "assumed-role":
        return _entity_policies(iam_client, "role", rest.split("/", 1)[0])
    if kind == "role":
        return _entity_policies(iam_client, "role", name)
    if kind == "user":
        out = _entity_policies(iam_client, "user", name)
        for page in iam_client.get_paginator("list_groups_for_user").paginate(UserName=name):
            for group in page["Groups"]:
                out += _entity_policies(iam_client, "group", group["GroupName"])
        return out
    raise ValueError(f"not a user, role or assumed-role ARN: {principal_arn}")


# --- botocore hooks ------------------------------------------------------------------------


@dataclass
class DeniedHttp:
    """The HTTP response botocore sees for an answered-locally error."""

    status_code: int
    headers: dict[str, str] = field(default_factory=dict)


def access_denied(service: str, protocol: str, message: str) -> tuple[DeniedHttp, dict[str, Any]]:
    """A ``before-call`` answer: AWS's AccessDenied error for ``service``."""
    code = denied_code(service, protocol)
    status = 400 if protocol == "json" else 403
    return DeniedHttp(status), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": 0},
    }


def remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    """``provide-client-params`` handler: keep the API parameters for the ``before-call``
    handler (which otherwise sees only the serialised request)."""
    context[PARAMS_KEY] = dict(params)


def _params_from_request(request: dict[str, Any], protocol: str) -> dict[str, Any]:
    """Best-effort API parameters from a serialised request (when :func:`remember_params`
    was not installed): JSON bodies, query bodies, and S3's path-style bucket and key."""
    body = request.get("body")
    if protocol in ("json", "rest-json") and body:
        text = body.decode() if isinstance(body, bytes) else str(body)
        return dict(json.loads(text or "{}"))
    if protocol in ("query", "ec2") and isinstance(body, dict):
        return dict(body)
    if protocol == "rest-xml":
        path = urlsplit(str(request.get("url", ""))).path.lstrip("/")
        bucket, _, key = path.partition("/")
        out: dict[str, Any] = {"Bucket": unquote(bucket)} if bucket else {}
        if key:
            out["Key"] = unquote(key)
        return out
    return {}


Select = Callable[[Any], Enforcer | None]
"""Picks the enforcer for a call from its ``request_signer`` (None: allow everything)."""


class EnforcingHandler:
    """``before-call`` handler: answers AccessDenied when the selected enforcer denies.
    ``on_denied(service, operation, message)`` is told of every denial."""

    def __init__(
        self,
        select: Select,
        region: str | None = None,
        on_denied: Callable[[str, str, str], None] | None = None,
    ) -> None:
        self.select = select
        self.region = region
        self.on_denied = on_denied

    def __call__(
        self,
        model: Any,
        params: dict[str, Any],
        context: dict[str, Any] | None = None,
        request_signer: Any = None,
        **_: Any,
    ) -> tuple[DeniedHttp, dict[str, Any]] | None:
        enforcer = self.select(request_signer)
        if enforcer is None:
            return None
        service = model.service_model.service_name
        protocol = model.service_model.protocol
        context = context or {}
        api_params = context.get(PARAMS_KEY)
        if api_params is None:
            api_params = _params_from_request(params, protocol)
        region = self.region or context.get("client_region") or "us-east-1"
        denial = enforcer.check(service, model.name, api_params, region)
        if denial is None:
            return None
        if self.on_denied is not None:
            self.on_denied(service, model.name, denial)
        return access_denied(service, protocol, denial)


def botocore_hook(enforcer: Enforcer, region: str | None = None) -> tuple[str, EnforcingHandler]:
    """``("before-call.*.*", handler)`` enforcing ``enforcer`` on every call of a client.

    Register :func:`remember_params` on ``provide-client-params.*.*`` too (or use
    :func:`botocore_hooks`) so the handler sees the exact API parameters; without it they are
    recovered from the serialised request (JSON and query bodies, S3 bucket and key).
    ``region`` overrides the client's region in ARNs (None: the client's).
    """
    return ("before-call.*.*", EnforcingHandler(lambda _signer: enforcer, region))


def botocore_hooks(
    enforcer: Enforcer, region: str | None = None
) -> list[tuple[str, Callable[..., Any]]]:
    """Both hooks: :func:`remember_params` and :func:`botocore_hook`."""
    return [("provide-client-params.*.*", remember_params), botocore_hook(enforcer, region)]


def signer_access_key(request_signer: Any) -> tuple[str, str, str | None] | None:
    """(access key, secret key, session token) the client signs with, or None (unsigned)."""
    credentials = getattr(request_signer, "_credentials", None)
    if credentials is None:
        return None
    frozen = credentials.get_frozen_credentials()
    return frozen.access_key, frozen.secret_key, frozen.token


__all__ = [
    "Enforcer",
    "EnforcingHandler",
    "access_denied",
    "botocore_hook",
    "botocore_hooks",
    "denied_code",
    "policies_for_principal",
    "remember_params",
    "signer_access_key",
]
