"""Personal API tokens (Seqera's ``/tokens``): each user lists, creates and deletes their own.

A token is 256 random bits shown once, at creation; the database keeps only its SHA-256
(:func:`batchforge.services.accounts.hash_token`).  ``last_used`` is recorded by
:func:`batchforge.services.accounts.authenticate`.  Deleting a token ends the web sessions
signed in with it (``web_session.api_token_id`` cascades).
"""

from __future__ import annotations

import re

from sqlalchemy import delete, select, update

from batchforge.db import models
from batchforge.errors import Conflict, InvalidInput, NotFound
from batchforge.schemas.tokens import AccessToken, CreateAccessTokenResponse
from batchforge.services import accounts, broken_rows
from batchforge.services.context import AppContext

NAME_MAX = 50
# Seqera's rule for token names: letters, digits, '-' and '_', 1 to 50 characters.
NAME_RULE = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


def to_dto(row: models.ApiToken) -> AccessToken:
    return AccessToken(id=row.id, name=row.name, lastUsed=row.last_used, dateCreated=row.created_at)


def check_name(name: str | None) -> str:
    """The token name, or :class:`InvalidInput` naming ``name`` and the rule."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("name: a token needs a name.", field="name")
    if not NAME_RULE.match(name):
        raise InvalidInput(
            f"name: up to {NAME_MAX} letters, digits, '-' and '_' (no spaces).",
            field="name",
            hint="For example 'laptop' or 'ci-runner'.",
        )
    return name


def list_tokens(ctx: AppContext, user_id: int) -> list[AccessToken]:
    """The user's tokens, newest first (never the token values: only their hashes are kept)."""
    query = (
        select(models.ApiToken)
        .where(models.ApiToken.user_id == user_id)
        .order_by(models.ApiToken.created_at.desc(), models.ApiToken.id.desc())
    )
    found = broken_rows.rows(ctx, query, models.ApiToken.id)
    return broken_rows.each(found, to_dto, _broken, "token")


def _broken(token_id: int, reason: str) -> AccessToken:
    """How a token whose row cannot be read is listed (see :mod:`broken_rows`)."""
    text = broken_rows.message(
        "token",
        token_id,
        reason,
        f"batchforge tokens delete {token_id}",
        f"DELETE /tokens/{token_id}",
    )
    return AccessToken(id=token_id, name=broken_rows.named(text))


def create(ctx: AppContext, user_id: int, name: str | None) -> CreateAccessTokenResponse:
    """A new token for ``user_id``; the only time its value is returned.  409 when the user
    already has a token of that name."""
    name = check_name(name)
    value = accounts.new_token()
    with ctx.db.transaction() as session:
        # Lock the user's row first (PostgreSQL row lock; SQLite write lock): two requests
        # creating the same name cannot both pass the check below.
        session.execute(
            update(models.User)
            .where(models.User.id == user_id)
            .values(last_access=models.User.last_access)
        )
        taken = session.scalars(
            select(models.ApiToken.id).where(
                models.ApiToken.user_id == user_id, models.ApiToken.name == name
            )
        ).first()
        if taken is not None:
            raise Conflict(
                f"name: you already have a token named '{name}'.",
                field="name",
                hint="Pick another name, or delete the old token first.",
            )
        row = models.ApiToken(user_id=user_id, name=name, token_sha256=accounts.hash_token(value))
        session.add(row)
        session.flush()
        return CreateAccessTokenResponse(accessKey=value, token=to_dto(row))


def delete_token(ctx: AppContext, user_id: int, token_id: int) -> None:
    """Delete one of the user's tokens; 404 for another user's or an unknown one."""
    with ctx.db.transaction() as session:
        deleted = session.execute(
            delete(models.ApiToken).where(
                models.ApiToken.id == token_id, models.ApiToken.user_id == user_id
            )
        ).rowcount
    if not deleted:
        raise NotFound(f"Token {token_id} not found.", field="tokenId")


def delete_all(ctx: AppContext, user_id: int) -> int:
    """Delete every token of the user (the one in use included); how many were deleted."""
    with ctx.db.transaction() as session:
        return session.execute(
            delete(models.ApiToken).where(models.ApiToken.user_id == user_id)
        ).rowcount


def id_of(ctx: AppContext, token: str) -> int | None:
    """The id of the API token ``token`` (None when unknown)."""
    with ctx.db.transaction() as session:
        return session.scalars(
            select(models.ApiToken.id).where(
                models.ApiToken.token_sha256 == accounts.hash_token(token)
            )
        ).first()
