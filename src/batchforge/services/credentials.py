"""Credentials use cases: create (validated first), list, describe, update, delete, validate.

Invariants:
- nothing is stored unless AWS accepted the keys (``sts:GetCallerIdentity``, then
  ``sts:AssumeRole`` when a role is set);
- the secret key is stored only encrypted, bound to the row id, and never leaves this module
  except inside an :class:`AwsAuth` used to call AWS;
- no database transaction is open while AWS is called.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from batchforge.aws.session import AwsAuth, AwsSession, assume_role
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import (
    AwsError,
    Conflict,
    CredentialsInUse,
    CredentialsRejected,
    InvalidInput,
    NotFound,
)
from batchforge.schemas.credentials import (
    CREDENTIALS_NAME_PATTERN,
    AwsKeysIn,
    AwsKeysOut,
    CredentialsIn,
    CredentialsOut,
    CredentialsUpdateIn,
    ValidateCredentialsResponse,
)
from batchforge.services import broken_rows
from batchforge.services.context import AppContext
from batchforge.services.ids import new_id

ACCESS_KEY_PATTERN = re.compile(r"^[A-Z0-9]{16,128}$")
ROLE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
EXTERNAL_ID_PATTERN = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
NAME_PATTERN = re.compile(CREDENTIALS_NAME_PATTERN)


@dataclass(frozen=True)
class AwsKeys:
    """Validated AWS key material (the secret only in memory, never in repr)."""

    mode: str
    access_key: str | None
    secret_key: str | None
    assume_role_arn: str | None
    external_id: str | None

    def auth(self) -> AwsAuth:
        mode = "role" if self.assume_role_arn else ("keys" if self.access_key else "default")
        return AwsAuth(
            mode=mode,  # type: ignore[arg-type]
            access_key=self.access_key,
            secret_key=self.secret_key,
            assume_role_arn=self.assume_role_arn,
            external_id=self.external_id,
        )

    def public(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "accessKey": self.access_key,
            "assumeRoleArn": self.assume_role_arn,
            "externalId": self.external_id,
        }

    def __repr__(self) -> str:
        return f"AwsKeys(mode={self.mode!r}, access_key={self.access_key!r}, ...)"


def _check_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise InvalidInput(
            "credentials.name must be 1-100 letters, digits, '-' or '_'.", field="credentials.name"
        )


def _check_keys(keys: AwsKeysIn, stored_secret: str | None, use_external_id: bool) -> AwsKeys:
    """Field-by-field validation of AWS keys, before any AWS call."""
    field = "credentials.keys"
    secret = keys.secretKey.get_secret_value() if keys.secretKey is not None else None
    secret = secret or stored_secret
    role_arn = (keys.assumeRoleArn or "").strip() or None
    mode = keys.mode or ("role" if role_arn and not keys.accessKey else "keys")
    if keys.accessKey is not None and not ACCESS_KEY_PATTERN.match(keys.accessKey):
        raise InvalidInput(
            f"{field}.accessKey must be an AWS access key id (16-128 capital letters and digits, "
            "e.g. AKIA...).",
            field=f"{field}.accessKey",
        )
    if mode == "keys" and not (keys.accessKey and secret):
        missing = "accessKey" if not keys.accessKey else "secretKey"
        raise InvalidInput(
            f"{field}.{missing} is required in 'keys' mode.", field=f"{field}.{missing}"
        )
    if keys.accessKey and not secret:
        raise InvalidInput(
            f"{field}.secretKey is required with an access key.", field=f"{field}.secretKey"
        )
    if secret is not None and (len(secret) > 128 or any(ch.isspace() for ch in secret)):
        raise InvalidInput(
            f"{field}.secretKey must be at most 128 characters without spaces.",
            field=f"{field}.secretKey",
        )
    if mode == "role" and not role_arn:
        raise InvalidInput(
            f"{field}.assumeRoleArn is required in 'role' mode.", field=f"{field}.assumeRoleArn"
        )
    if role_arn and not ROLE_ARN_PATTERN.match(role_arn):
        raise InvalidInput(
            f"{field}.assumeRoleArn must look like arn:aws:iam::123456789012:role/NAME.",
            field=f"{field}.assumeRoleArn",
        )
    external_id = keys.externalId or None
    if external_id is None and use_external_id and role_arn:
        external_id = new_id(22)
    if external_id is not None:
        if not role_arn:
            raise InvalidInput(
                f"{field}.externalId needs an assumeRoleArn.", field=f"{field}.externalId"
            )
        if not EXTERNAL_ID_PATTERN.match(external_id):
            raise InvalidInput(
                f"{field}.externalId must be 2-1224 characters of letters, digits and +=,.@:/-_.",
                field=f"{field}.externalId",
            )
    return AwsKeys(mode, keys.accessKey or None, secret, role_arn, external_id)


def probe(ctx: AppContext, keys: AwsKeys) -> str:
    """Ask AWS who these keys are: ``sts:GetCallerIdentity``, then ``sts:AssumeRole`` when a
    role is set.  Returns the ARN of the identity batchforge will act as; raises AwsError."""
    source = AwsAuth(
        mode="keys" if keys.access_key else "default",
        access_key=keys.access_key,
        secret_key=keys.secret_key,
    )
    sts = AwsSession(ctx.aws, source, ctx.settings.default_region).client("sts")
    identity = sts.get_caller_identity()["Arn"]
    if not keys.assume_role_arn:
        return str(identity)
    assume_role(sts, keys.auth())
    return keys.assume_role_arn


def _rejected(error: AwsError) -> CredentialsRejected:
    """AWS's refusal as a 400 naming the field it concerns."""
    role_call = error.operation == "AssumeRole"
    field = "credentials.keys.assumeRoleArn" if role_call else "credentials.keys"
    return CredentialsRejected.from_error(error, field)


def _to_out(row: models.Credentials) -> CredentialsOut:
    return CredentialsOut(
        id=row.id,
        name=row.name,
        description=row.description,
        provider=row.provider,
        status=row.status,  # type: ignore[arg-type]
        message=row.message,
        keys=AwsKeysOut(**{k: v for k, v in row.keys.items() if v is not None}),
        dateCreated=row.created_at,
        lastUpdated=row.updated_at,
        lastUsed=row.last_used,
        lastValidated=row.last_validated,
    )


def _context_for(credentials_id: str) -> str:
    return f"credentials:{credentials_id}"


def _ensure_name_free(ctx: AppContext, workspace_id: int, name: str, except_id: str | None) -> None:
    with ctx.db.transaction() as session:
        existing = session.scalars(
            select(models.Credentials.id).where(
                models.Credentials.workspace_id == workspace_id, models.Credentials.name == name
            )
        ).first()
    if existing is not None and existing != except_id:
        raise Conflict(
            f"Credentials named '{name}' already exist in this workspace.", field="credentials.name"
        )


def create(ctx: AppContext, workspace_id: int, body: CredentialsIn, use_external_id: bool) -> str:
    """Validate against AWS, then store; returns the new id.  Nothing is stored on error."""
    if body.provider != "aws":
        raise InvalidInput(
            f"credentials.provider '{body.provider}' is not supported; use 'aws'.",
            field="credentials.provider",
        )
    _check_name(body.name)
    keys = _check_keys(body.keys, None, use_external_id)
    _ensure_name_free(ctx, workspace_id, body.name, None)
    try:
        probe(ctx, keys)
    except AwsError as error:
        raise _rejected(error) from None
    credentials_id = new_id()
    now = utcnow()
    row = models.Credentials(
        id=credentials_id,
        workspace_id=workspace_id,
        name=body.name,
        description=body.description,
        provider="aws",
        keys=keys.public(),
        secret_encrypted=(
            ctx.box.encrypt(keys.secret_key, _context_for(credentials_id))
            if keys.secret_key
            else None
        ),
        status="AVAILABLE",
        created_at=now,
        updated_at=now,
        last_validated=now,
    )
    try:
        with ctx.db.transaction() as session:
            session.add(row)
    except IntegrityError:
        raise Conflict(
            f"Credentials named '{body.name}' already exist in this workspace.",
            field="credentials.name",
        ) from None
    return credentials_id


def _load(session: Any, workspace_id: int, credentials_id: str) -> models.Credentials:
    row = session.get(models.Credentials, credentials_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"Credentials '{credentials_id}' not found in this workspace.")
    return row


def _broken(credentials_id: str, reason: str) -> CredentialsOut:
    """How credentials whose row cannot be read are shown (see :mod:`broken_rows`)."""
    now = utcnow()
    return CredentialsOut(
        id=credentials_id,
        name=broken_rows.BROKEN_NAME,
        provider="aws",
        status="INVALID",
        message=broken_rows.message(
            "credentials",
            credentials_id,
            reason,
            f"batchforge credentials delete -i {credentials_id}",
            f"DELETE /credentials/{credentials_id}",
        ),
        keys=AwsKeysOut(mode="keys"),
        dateCreated=now,
        lastUpdated=now,
    )


def list_all(ctx: AppContext, workspace_id: int) -> list[CredentialsOut]:
    """The workspace's credentials; one whose row cannot be read is listed as broken."""
    query = (
        select(models.Credentials)
        .where(models.Credentials.workspace_id == workspace_id)
        .order_by(models.Credentials.name)
    )
    found = broken_rows.rows(ctx, query, models.Credentials.id)
    return broken_rows.each(found, _to_out, _broken, "credentials")


def describe(ctx: AppContext, workspace_id: int, credentials_id: str) -> CredentialsOut:
    """The credentials; ones whose row cannot be read are described as broken (INVALID)."""
    query = select(models.Credentials).where(
        models.Credentials.id == credentials_id, models.Credentials.workspace_id == workspace_id
    )
    row = broken_rows.load(ctx, query, models.Credentials.id)
    if row is None:
        raise NotFound(f"Credentials '{credentials_id}' not found in this workspace.")
    (shown,) = broken_rows.each([row], _to_out, _broken, "credentials")
    return shown


def stored_keys(ctx: AppContext, workspace_id: int, credentials_id: str) -> AwsKeys:
    """The decrypted keys of stored credentials, for use cases that call AWS with them."""
    with ctx.db.transaction() as session:
        row = _load(session, workspace_id, credentials_id)
        keys, encrypted = dict(row.keys), row.secret_encrypted
    secret = ctx.box.decrypt(encrypted, _context_for(credentials_id)) if encrypted else None
    return AwsKeys(
        keys.get("mode", "keys"),
        keys.get("accessKey"),
        secret,
        keys.get("assumeRoleArn"),
        keys.get("externalId"),
    )


def update(
    ctx: AppContext,
    workspace_id: int,
    credentials_id: str,
    body: CredentialsUpdateIn,
    use_external_id: bool,
) -> None:
    """Change name, description or keys.  Changed keys are validated against AWS first."""
    current = describe(ctx, workspace_id, credentials_id)
    if body.provider not in (None, "aws"):
        raise InvalidInput("credentials.provider cannot be changed.", field="credentials.provider")
    name = body.name if body.name is not None else current.name
    _check_name(name)
    if name != current.name:
        _ensure_name_free(ctx, workspace_id, name, credentials_id)
    new_keys: AwsKeys | None = None
    if body.keys is not None:
        stored = stored_keys(ctx, workspace_id, credentials_id)
        same_access_key = body.keys.accessKey in (None, stored.access_key)
        merged = body.keys.model_copy(
            update={"accessKey": body.keys.accessKey or stored.access_key}
        )
        new_keys = _check_keys(
            merged, stored.secret_key if same_access_key else None, use_external_id
        )
        try:
            probe(ctx, new_keys)
        except AwsError as error:
            raise _rejected(error) from None
    now = utcnow()
    try:
        with ctx.db.transaction() as session:
            row = _load(session, workspace_id, credentials_id)
            row.name = name
            if body.description is not None:
                row.description = body.description
            if new_keys is not None:
                row.keys = new_keys.public()
                row.secret_encrypted = (
                    ctx.box.encrypt(new_keys.secret_key, _context_for(credentials_id))
                    if new_keys.secret_key
                    else None
                )
                row.status, row.message, row.last_validated = "AVAILABLE", None, now
            row.updated_at = now
    except IntegrityError:
        raise Conflict(
            f"Credentials named '{name}' already exist in this workspace.", field="credentials.name"
        ) from None


def delete(ctx: AppContext, workspace_id: int, credentials_id: str) -> None:
    """Delete credentials no live compute environment uses (409 naming them otherwise)."""
    from batchforge.services.compute_envs import in_use_by

    describe(ctx, workspace_id, credentials_id)
    users = in_use_by(ctx, credentials_id)
    if users:
        names = ", ".join(item["name"] for item in users)
        raise CredentialsInUse(
            f"Credentials are used by compute environment(s) {names}; delete those first.",
            credentials_id=credentials_id,
            conflicts=users,
        )
    with ctx.db.transaction() as session:  # by columns: a row that cannot be read goes too
        session.execute(
            sql_delete(models.Credentials).where(
                models.Credentials.id == credentials_id,
                models.Credentials.workspace_id == workspace_id,
            )
        )


def validate(
    ctx: AppContext, workspace_id: int, credentials_id: str
) -> ValidateCredentialsResponse:
    """Probe AWS again.  A transient failure leaves the stored status unchanged."""
    keys = stored_keys(ctx, workspace_id, credentials_id)
    try:
        identity = probe(ctx, keys)
    except AwsError as error:
        if error.transient:
            current = describe(ctx, workspace_id, credentials_id)
            return ValidateCredentialsResponse(
                status=current.status, message=str(error), transientError=True
            )
        _record_validation(ctx, workspace_id, credentials_id, "INVALID", str(error))
        return ValidateCredentialsResponse(status="INVALID", message=str(error))
    _record_validation(ctx, workspace_id, credentials_id, "AVAILABLE", None)
    return ValidateCredentialsResponse(status="AVAILABLE", identityArn=identity)


def _record_validation(
    ctx: AppContext, workspace_id: int, credentials_id: str, status: str, message: str | None
) -> None:
    with ctx.db.transaction() as session:
        row = _load(session, workspace_id, credentials_id)
        row.status, row.message, row.last_validated = status, message, utcnow()
