"""A test layer that enforces IAM on every AWS call the product makes, as AWS would.

Installed through ``AwsEnvironment.event_hooks`` (never a patch of the product) by the root
``app_ctx`` fixture.  For each call it finds the calling principal from the client's
credentials and answers AWS's AccessDenied error when that principal's identity policies do
not allow the call (:mod:`batchforge.iam.enforce`, batchforge's own evaluator):

- the emulator's default identity (keys ``testing``, or keys of nobody, which the emulator
  accepts while its authentication is off: it answers ``user/moto``) is the account root:
  everything is allowed;
- keys of an IAM user made in the emulator: that user's inline, managed and group policies;
- assumed-role credentials: the role's policies.

The principal and its policies are read once per access key (``sts:GetCallerIdentity`` and
IAM reads with the emulator's own keys, outside the product's clients).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError

from batchforge.iam.enforce import (
    Enforcer,
    EnforcingHandler,
    policies_for_principal,
    remember_params,
    signer_access_key,
)
from batchforge.local_aws import ACCOUNT_ID, EMULATOR_KEYS, LocalAws

AUTH_REFUSED = {"InvalidClientTokenId", "AccessDenied", "SignatureDoesNotMatch"}
ROOT_ARNS = (f"arn:aws:sts::{ACCOUNT_ID}:user/moto", f"arn:aws:iam::{ACCOUNT_ID}:root")


@dataclass
class IamRules:
    """Install with ``env.event_hooks.extend(rules.hooks())``."""

    aws: LocalAws
    denied: list[tuple[str, str, str]] = field(default_factory=list)
    """(principal ARN, call name, message) of every call answered AccessDenied."""
    checked: int = 0
    _cache: dict[str, Enforcer | None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        handler = EnforcingHandler(self.enforcer_for, on_denied=self._denied)
        return [("provide-client-params.*.*", remember_params), ("before-call.*.*", handler)]

    def forget(self) -> None:
        """Read principals and policies again (after a test changed a principal's policies)."""
        with self._lock:
            self._cache.clear()

    def enforcer_for(self, request_signer: Any) -> Enforcer | None:
        keys = signer_access_key(request_signer)
        if keys is None or keys[0] == EMULATOR_KEYS[0]:
            return None
        with self._lock:
            self.checked += 1
            if keys[0] not in self._cache:
                self._cache[keys[0]] = self._resolve(*keys)
            return self._cache[keys[0]]

    def _resolve(self, access_key: str, secret_key: str, token: str | None) -> Enforcer | None:
        sts = boto3.client(
            "sts",
            endpoint_url=self.aws.url,
            region_name="us-east-1",
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            aws_session_token=token,
        )
        arn = sts.get_caller_identity()["Arn"]
        if arn in ROOT_ARNS:
            return None
        return Enforcer(self._policies(arn), ACCOUNT_ID, principal=arn)

    def _policies(self, arn: str) -> list[dict[str, Any]]:
        """The principal's policies, read with the emulator's own keys.  When a test has
        switched the emulator's authentication on, those keys are refused: it is switched off
        for the read and on again (the test double's read, not a call of the product)."""
        try:
            return policies_for_principal(self.aws.boto_client("iam"), arn)
        except ClientError as error:
            if error.response["Error"]["Code"] not in AUTH_REFUSED:
                raise
        self.aws.set_auth(enabled=False)
        try:
            return policies_for_principal(self.aws.boto_client("iam"), arn)
        finally:
            self.aws.set_auth(enabled=True)

    def _denied(self, service: str, operation: str, message: str) -> None:
        principal = message.split(" is not authorized", 1)[0].removeprefix("User: ")
        self.denied.append((principal, f"{service}:{operation}", message))
