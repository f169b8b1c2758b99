"""Pipeline secret use cases: an encrypted store of named values, per workspace or per user.

An :class:`Owner` is either a workspace (secrets shared by its members) or a user (that user's
own secrets, which override a workspace secret of the same name at launch).  Values are
encrypted with :attr:`AppContext.box`, bound to the row id, and leave this module only through
:func:`resolve_for_launch` — never through a DTO, a log line or an error message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr
from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import Conflict, InvalidInput, NotFound
from batchforge.schemas.secrets import (
    CreatePipelineSecretRequest,
    PipelineSecret,
    UpdatePipelineSecretRequest,
)
from batchforge.services import broken_rows
from batchforge.services.context import AppContext

# Seqera's PipelineSecret.name: a letter or '_', then 1-49 runs of letters/digits or single
# underscores (no '__'), at most 100 characters.  Names become environment variables and
# Nextflow's ``secrets.NAME``.
NAME_PATTERN = re.compile(r"^[a-zA-Z_](?:[0-9A-Za-z]+|(_)(?!\1)){1,49}$")
NAME_MAX = 100
# Secrets Manager's limit for SecretString.
VALUE_MAX_BYTES = 65_536


@dataclass(frozen=True)
class Owner:
    """Whose secrets: a workspace's (``workspace_id``) or a user's (``user_id``)."""

    workspace_id: int | None = None
    user_id: int | None = None

    def __post_init__(self) -> None:
        if (self.workspace_id is None) == (self.user_id is None):
            raise ValueError("a secret owner is a workspace or a user, not both or neither")

    def where(self) -> Any:
        if self.workspace_id is not None:
            return models.PipelineSecret.workspace_id == self.workspace_id
        return models.PipelineSecret.user_id == self.user_id

    @property
    def title(self) -> str:
        return "this workspace" if self.workspace_id is not None else "your user secrets"


def _context(secret_id: int) -> str:
    return f"pipeline-secret:{secret_id}"


def validate_name(name: str | None, field: str = "name") -> str:
    """The name, or :class:`InvalidInput` naming ``field`` and what is wrong."""
    if not name:
        raise InvalidInput(f"{field}: a secret name is required.", field=field)
    if len(name) > NAME_MAX:
        raise InvalidInput(
            f"{field}: '{name[:40]}…' is {len(name)} characters; at most {NAME_MAX}.", field=field
        )
    if not NAME_PATTERN.match(name):
        raise InvalidInput(
            f"{field}: '{name}' is not a valid secret name: start with a letter or '_', then "
            "letters, digits and single underscores (at least 2 characters, no '__').",
            field=field,
        )
    return name


def _value(value: SecretStr | None, field: str = "value") -> str:
    text = value.get_secret_value() if value is not None else ""
    if not text:
        raise InvalidInput(f"{field}: a secret value is required.", field=field)
    if len(text.encode()) > VALUE_MAX_BYTES:
        raise InvalidInput(
            f"{field}: the value is larger than AWS Secrets Manager's {VALUE_MAX_BYTES} bytes.",
            field=field,
        )
    return text


def _to_dto(row: models.PipelineSecret) -> PipelineSecret:
    return PipelineSecret(
        id=row.id,
        name=row.name,
        dateCreated=row.created_at,
        lastUpdated=row.updated_at,
        lastUsed=row.last_used,
    )


def _load(session: Any, owner: Owner, secret_id: int) -> models.PipelineSecret:
    row = session.get(models.PipelineSecret, secret_id)
    if row is None or (row.workspace_id, row.user_id) != (owner.workspace_id, owner.user_id):
        raise NotFound(f"Pipeline secret {secret_id} not found in {owner.title}.")
    return row


def _name_taken(session: Any, owner: Owner, name: str) -> bool:
    query = select(models.PipelineSecret.id).where(
        owner.where(), models.PipelineSecret.name == name
    )
    return session.scalar(query) is not None


def _broken(secret_id: int, reason: str) -> PipelineSecret:
    """How a secret whose row cannot be read is shown (see :mod:`broken_rows`)."""
    text = broken_rows.message(
        "secret",
        secret_id,
        reason,
        f"batchforge secrets delete -i {secret_id}",
        f"DELETE /pipeline-secrets/{secret_id}",
    )
    return PipelineSecret(id=secret_id, name=broken_rows.named(text))


def list_secrets(ctx: AppContext, owner: Owner) -> list[PipelineSecret]:
    """The owner's secrets by name (values never included); one whose row cannot be read
    is listed as broken."""
    query = select(models.PipelineSecret).where(owner.where()).order_by(models.PipelineSecret.name)
    found = broken_rows.rows(ctx, query, models.PipelineSecret.id)
    return broken_rows.each(found, _to_dto, _broken, "secret")


def describe(ctx: AppContext, owner: Owner, secret_id: int) -> PipelineSecret:
    """The secret (never its value); one whose row cannot be read is described as broken."""
    query = select(models.PipelineSecret).where(
        owner.where(), models.PipelineSecret.id == secret_id
    )
    row = broken_rows.load(ctx, query, models.PipelineSecret.id)
    if row is None:
        raise NotFound(f"Pipeline secret {secret_id} not found in {owner.title}.")
    (shown,) = broken_rows.each([row], _to_dto, _broken, "secret")
    return shown


def check_name(ctx: AppContext, owner: Owner, name: str | None) -> None:
    """Seqera's validate: 400 when the name is invalid, 409 when it is taken."""
    validate_name(name)
    with ctx.db.transaction() as session:
        if _name_taken(session, owner, name or ""):
            raise Conflict(
                f"name: a secret named '{name}' already exists in {owner.title}.", field="name"
            )


def create(ctx: AppContext, owner: Owner, body: CreatePipelineSecretRequest) -> int:
    """Store a new secret; its id.  A taken name is a 400 naming ``name``."""
    name = validate_name(body.name)
    value = _value(body.value)
    duplicate = InvalidInput(
        f"name: a secret named '{name}' already exists in {owner.title}.", field="name"
    )
    try:
        with ctx.db.transaction() as session:
            if _name_taken(session, owner, name):
                raise duplicate
            row = models.PipelineSecret(
                workspace_id=owner.workspace_id,
                user_id=owner.user_id,
                name=name,
                value_encrypted="",
            )
            session.add(row)
            session.flush()  # the id binds the ciphertext to this row
            row.value_encrypted = ctx.box.encrypt(value, _context(row.id))
            return row.id
    except IntegrityError:  # a concurrent create of the same name won the race
        raise duplicate from None


def update_value(
    ctx: AppContext, owner: Owner, secret_id: int, body: UpdatePipelineSecretRequest
) -> None:
    """Replace a secret's value (runs already launched keep the value they were given)."""
    value = _value(body.value)
    with ctx.db.transaction() as session:
        row = _load(session, owner, secret_id)
        row.value_encrypted = ctx.box.encrypt(value, _context(row.id))
        row.updated_at = utcnow()


def delete(ctx: AppContext, owner: Owner, secret_id: int) -> None:
    """Delete by columns alone, so that a secret whose row cannot be read goes too."""
    with ctx.db.transaction() as session:
        done = session.execute(
            sql_delete(models.PipelineSecret).where(
                owner.where(), models.PipelineSecret.id == secret_id
            )
        ).rowcount  # type: ignore[attr-defined]
    if not done:
        raise NotFound(f"Pipeline secret {secret_id} not found in {owner.title}.")


def resolve_for_launch(
    ctx: AppContext,
    workspace_id: int,
    user_id: int | None,
    workspace_names: list[str],
    user_names: list[str],
    field_prefix: str = "launch",
) -> dict[str, str]:
    """Name → clear value for a launch: the named workspace secrets, then the named user
    secrets over them.  An unknown name is a 400 naming the list and the secret; nothing is
    decrypted before every name is found.  Marks the secrets used."""
    if not workspace_names and not user_names:
        return {}  # most launches: no database work at all
    lists: list[tuple[Owner, list[str], str]] = [
        (Owner(workspace_id=workspace_id), workspace_names, f"{field_prefix}.workspaceSecrets")
    ]
    if user_names:
        field = f"{field_prefix}.userSecrets"
        if user_id is None:
            raise InvalidInput(f"{field}: user secrets need a signed-in user.", field=field)
        lists.append((Owner(user_id=user_id), user_names, field))
    values: dict[str, str] = {}
    now = utcnow()
    with ctx.db.transaction() as session:
        found: list[models.PipelineSecret] = []
        for owner, names, field in lists:  # one query per owner
            if not names:
                continue
            rows = session.scalars(
                select(models.PipelineSecret).where(
                    owner.where(), models.PipelineSecret.name.in_(names)
                )
            ).all()
            by_name = {row.name: row for row in rows}
            for name in dict.fromkeys(names):
                if name not in by_name:
                    raise InvalidInput(
                        f"{field}: no secret named '{name}' in {owner.title}.", field=field
                    )
                found.append(by_name[name])
        for row in found:  # workspace first, then the user's: the user's win
            values[row.name] = ctx.box.decrypt(row.value_encrypted, _context(row.id))
            row.last_used = now
    return values
