"""Per-run tokens: what the head job's nf-tower plugin authenticates with (``TOWER_ACCESS_TOKEN``).

A run token

- is random (256 bits, prefix :data:`PREFIX`), returned once by :func:`issue` and stored only
  as its SHA-256 (like API tokens);
- is valid only for ``/trace/{run_id}/*`` of its own run (the trace router checks the scope;
  every other route refuses it, see ``server/deps.py``);
- is valid only while the run is live, plus :data:`GRACE` after it ended (a late ``complete``
  still lands): :func:`revoke` sets that expiry (server time: the trace ``complete`` revokes),
  and without a revoke :func:`authenticate` refuses it once the run has been over (its
  ``complete``) for longer than the grace.

Reissuing (a relaunch of the same run id) replaces the previous token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import NotFound, Unauthorized
from batchforge.services.context import AppContext

PREFIX = "bfr_"
GRACE = timedelta(minutes=10)


def _hash(token: str) -> str:
    from batchforge.services.accounts import hash_token

    return hash_token(token)


def is_run_token(token: str) -> bool:
    """True for a token of this module's form (the caller then uses :func:`authenticate`)."""
    return token.startswith(PREFIX)


def issue(ctx: AppContext, run_id: str) -> str:
    """A new plaintext token for ``run_id`` (replacing any earlier one); stored hashed."""
    token = PREFIX + secrets.token_urlsafe(32)
    with ctx.db.transaction() as session:
        if session.get(models.Run, run_id) is None:
            raise NotFound(f"Workflow '{run_id}' not found.")
        session.execute(delete(models.RunToken).where(models.RunToken.run_id == run_id))
        session.add(models.RunToken(run_id=run_id, token_sha256=_hash(token)))
    return token


def revoke(ctx: AppContext, run_id: str, grace: timedelta = GRACE) -> None:
    """End the run's token ``grace`` from now (never later than an expiry already set).
    Idempotent; nothing happens for a run without a token."""
    until = utcnow() + grace
    with ctx.db.transaction() as session:
        session.execute(
            update(models.RunToken)
            .where(
                models.RunToken.run_id == run_id,
                (models.RunToken.expires_at.is_(None)) | (models.RunToken.expires_at > until),
            )
            .values(expires_at=until)
        )


@dataclass(frozen=True)
class RunGrant:
    """What a valid run token allows: reporting the trace of ``run_id`` in ``workspace_id``."""

    run_id: str
    workspace_id: int
    user_name: str | None


def authenticate(ctx: AppContext, token: str) -> RunGrant:
    """The run a token is for; :class:`Unauthorized` when unknown, expired, or the run has
    been over for longer than :data:`GRACE` (or was deleted)."""
    now = utcnow()
    with ctx.db.transaction() as session:
        row = session.execute(
            select(
                models.RunToken.expires_at,
                models.Run.id,
                models.Run.workspace_id,
                models.Run.user_name,
                models.Run.active,
                models.Run.complete,
                models.Run.deleted,
            )
            .join(models.Run, models.Run.id == models.RunToken.run_id)
            .where(models.RunToken.token_sha256 == _hash(token))
        ).first()
    if row is None:
        raise Unauthorized("Invalid run token.", hint="A run token is valid for its own run only.")
    expires_at, run_id, workspace_id, user_name, active, complete, deleted = row
    if expires_at is not None:  # revoked: the grace was counted from then (server time)
        over = expires_at < now
    else:  # the run ended without a revoke (e.g. seen ending by the tracker)
        over = not active and (complete is None or complete + GRACE < now)
    if deleted or over:
        raise Unauthorized(
            f"The run token of workflow '{run_id}' has expired: the run has ended.",
            hint="A run token is valid only while its run is live.",
        )
    return RunGrant(run_id, workspace_id, user_name)
