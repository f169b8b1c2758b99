"""The encryption key's check value: a replica with another key refuses to start.

Every replica of an installation must hold the same encryption key (``BATCHFORGE_ENCRYPTION_KEY``
or ``DATA_DIR/encryption.key``); one with another key would take runs' leases and fail to use
their credentials.  The database keeps a *check value*: a constant sealed with the key
(AES-256-GCM with a random nonce, bound to its own context), which reveals nothing about the
key.  At start-up (under the start-up lock, before any background work):

- check value present: the key must open it, else :class:`ConfigurationError`;
- absent (a new database, or one from before the check existed): the key must open one
  already stored secret (credentials, pipeline secrets) when there is one, else
  :class:`ConfigurationError`; then the check value is written.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from batchforge.crypto import KEY_FILE_NAME, SecretBox
from batchforge.db import models
from batchforge.db.engine import Database
from batchforge.db.models import utcnow
from batchforge.errors import ConfigurationError
from batchforge.services.credentials import _context_for as credentials_context
from batchforge.services.pipeline_secrets import _context as pipeline_secret_context

KEY_CHECK = "key_check"
_CONSTANT = "batchforge encryption key check v1"
_CONTEXT = "server-meta:key-check"


def mismatch(what: str) -> ConfigurationError:
    """The refusal: what the key could not open, and how to fix it."""
    return ConfigurationError(
        f"This server's encryption key does not open {what}: it is not the key the other "
        "servers of this installation use. The server did not start.",
        hint="Set BATCHFORGE_ENCRYPTION_KEY to the key the other replicas use, or copy their "
        f"DATA_DIR/{KEY_FILE_NAME} into this server's data dir (replacing its own).",
    )


def _stored_secret(session: Session) -> tuple[str, str] | None:
    """One encrypted value already in the database and its context, if any."""
    credential = session.execute(
        select(models.Credentials.id, models.Credentials.secret_encrypted)
        .where(models.Credentials.secret_encrypted.is_not(None))
        .limit(1)
    ).first()
    if credential is not None:
        return credential[1], credentials_context(credential[0])
    secret = session.execute(
        select(models.PipelineSecret.id, models.PipelineSecret.value_encrypted).limit(1)
    ).first()
    if secret is not None:
        return secret[1], pipeline_secret_context(secret[0])
    return None


def _opens_check(box: SecretBox, stored: str) -> bool:
    return box.opens(stored, _CONTEXT) and box.decrypt(stored, _CONTEXT) == _CONSTANT


def verify(db: Database, box: SecretBox) -> Literal["verified", "written"]:
    """Check ``box``'s key against the database (see the module docstring); raises
    :class:`ConfigurationError` when it is not the installation's key."""
    with db.transaction() as session:
        row = session.get(models.ServerMeta, KEY_CHECK)
        if row is not None:
            if not _opens_check(box, row.value):
                raise mismatch("the key check value stored in the database")
            return "verified"
        sample = _stored_secret(session)
        if sample is not None and not box.opens(*sample):
            raise mismatch("the secrets already stored in the database")
        session.add(
            models.ServerMeta(
                name=KEY_CHECK, value=box.encrypt(_CONSTANT, _CONTEXT), updated_at=utcnow()
            )
        )
        return "written"
