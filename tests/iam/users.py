"""IAM users with chosen policies in the emulator, and its authentication switched on, for
tests that need AWS to judge permissions (preflight, AccessDenied)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from batchforge.aws.session import AwsAuth
from batchforge.iam.generator import generate_policy
from batchforge.local_aws import LocalAws
from tests.iam.seed import seed_full_policy_text

SEED: dict[str, Any] = json.loads(seed_full_policy_text())
READ_EXTRAS: dict[str, Any] = generate_policy(["preflight"], extras=True).document
# The emulator authorises IAM calls against Resource "*" whatever the user or role named:
# the reading extras are granted on "*" here (on AWS the generated resources suffice).
for _statement in READ_EXTRAS["Statement"]:
    _statement["Resource"] = "*"


def without(document: dict[str, Any], action: str) -> dict[str, Any]:
    """``document`` with ``action`` removed from every statement's Action list."""
    out: dict[str, Any] = json.loads(json.dumps(document))
    for st in out["Statement"]:
        if isinstance(st["Action"], list) and action in st["Action"]:
            st["Action"].remove(action)
    out["Statement"] = [st for st in out["Statement"] if st["Action"] not in (action, [])]
    return out


def make_user(
    aws: LocalAws,
    name: str = "alice",
    *,
    inline: dict[str, Any] | None = None,
    managed: dict[str, Any] | None = None,
    group_managed: dict[str, Any] | None = None,
) -> AwsAuth:
    """A user with an inline policy, a managed one and/or a group's managed one; its keys."""
    iam = aws.boto_client("iam")
    iam.create_user(UserName=name)
    if inline:
        iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=json.dumps(inline))
    if managed:
        arn = iam.create_policy(PolicyName=f"{name}-managed", PolicyDocument=json.dumps(managed))
        iam.attach_user_policy(UserName=name, PolicyArn=arn["Policy"]["Arn"])
    if group_managed:
        group = f"{name}-group"
        iam.create_group(GroupName=group)
        iam.add_user_to_group(GroupName=group, UserName=name)
        doc = json.dumps(group_managed)
        arn = iam.create_policy(PolicyName=f"{group}-managed", PolicyDocument=doc)
        iam.attach_group_policy(GroupName=group, PolicyArn=arn["Policy"]["Arn"])
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return AwsAuth(mode="keys", access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])


@contextmanager
def emulator_auth(aws: LocalAws) -> Iterator[None]:
    """The emulator checks keys and policies inside the block (create users before)."""
    aws.set_auth(True)
    try:
        yield
    finally:
        aws.set_auth(False)
