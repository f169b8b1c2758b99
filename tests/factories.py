"""Test-data factories."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from batchforge.local_aws import LocalAws
from batchforge.schemas.credentials import AwsKeysIn, CredentialsIn


@dataclass
class Keys:
    access_key: str
    secret_key: str
    user_name: str = ""


def fake_keys() -> Keys:
    """Keys of nobody: the emulator accepts any keys while its auth checking is off (the
    default), so most tests need no IAM user (creating the first one costs ~1 s)."""
    alphabet = string.ascii_uppercase + string.digits
    access = "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))
    return Keys(access, secrets.token_urlsafe(30)[:40])


def aws_user(aws: LocalAws) -> Keys:
    """An IAM user with real access keys in the emulator (for tests that turn auth on)."""
    user = aws.create_demo_user(user_name=f"user-{secrets.token_hex(4)}")
    return Keys(user.access_key, user.secret_key, user.user_name)


def keys_credentials(name: str, keys: Keys | None = None, **extra: str) -> CredentialsIn:
    keys = keys or fake_keys()
    return CredentialsIn(
        name=name,
        provider="aws",
        keys=AwsKeysIn(accessKey=keys.access_key, secretKey=keys.secret_key, **extra),
    )
