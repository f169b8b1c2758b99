"""Encryption of secrets at rest (AWS secret keys, pipeline secret values).

AES-256-GCM with a random 96-bit nonce per value.  Each ciphertext is bound to a *context*
string (for example ``credentials:<id>``) through GCM's associated data, so a ciphertext copied
into another row does not decrypt.  Stored form: ``v1:`` + urlsafe base64(nonce || ciphertext).
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from batchforge.errors import ConfigurationError

_PREFIX = "v1:"
KEY_FILE_NAME = "encryption.key"


class SecretBox:
    """Encrypts and decrypts short secrets with one 32-byte key."""

    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ConfigurationError("The encryption key must be 32 bytes (base64 encoded).")
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, stored: str, context: str) -> str:
        if not stored.startswith(_PREFIX):
            raise ConfigurationError("A stored secret has an unknown format.")
        raw = base64.urlsafe_b64decode(stored[len(_PREFIX) :])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag:
            raise ConfigurationError(
                "A stored secret could not be decrypted.",
                hint="The encryption key differs from the one the secret was stored with.",
            ) from None

    def opens(self, stored: str, context: str) -> bool:
        """Whether this key decrypts ``stored`` (sealed for ``context``)."""
        try:
            self.decrypt(stored, context)
        except (ConfigurationError, ValueError):
            return False
        return True


def decode_key(text: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except ValueError:
        raise ConfigurationError("The encryption key is not valid base64.") from None
    if len(key) != 32:
        raise ConfigurationError("The encryption key must decode to 32 bytes.")
    return key


def load_or_create_key(data_dir: Path, configured: str | None) -> bytes:
    """The configured key, else the key file in ``data_dir``, created (0600) when absent."""
    if configured:
        return decode_key(configured)
    path = data_dir / KEY_FILE_NAME
    if path.exists():
        return decode_key(path.read_text())
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return decode_key(path.read_text())
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.urlsafe_b64encode(key).decode() + "\n")
    return key
