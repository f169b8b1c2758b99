"""The Forge journal in the database, and the lease that guards a compute environment's
Forge work when several server replicas run."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.forge.engine import JournalEntry
from batchforge.services.context import AppContext
from batchforge.services.worker_identity import earlier_incarnation

LEASE_SECONDS = 90


class DbJournal:
    """:class:`batchforge.forge.engine.Journal` over the ``forge_resource`` table.  Each
    record is its own short transaction, and renews the lease of its owner."""

    def __init__(self, ctx: AppContext, compute_env_id: str, owner: str | None = None):
        self.ctx = ctx
        self.compute_env_id = compute_env_id
        self.owner = owner

    def load(self) -> dict[str, JournalEntry]:
        with self.ctx.db.transaction() as session:
            rows = session.scalars(
                select(models.ForgeResource).where(
                    models.ForgeResource.compute_env_id == self.compute_env_id
                )
            ).all()
            return {row.key: _entry(row) for row in rows}

    def record(self, entry: JournalEntry) -> None:
        values = asdict(entry)
        with self.ctx.db.transaction() as session:
            row = session.scalars(
                select(models.ForgeResource).where(
                    models.ForgeResource.compute_env_id == self.compute_env_id,
                    models.ForgeResource.key == entry.key,
                )
            ).first()
            if row is None:
                row = models.ForgeResource(compute_env_id=self.compute_env_id, key=entry.key)
                session.add(row)
            for name in (
                "kind",
                "name",
                "wave",
                "status",
                "params",
                "physical_id",
                "arn",
                "attrs",
                "error",
            ):
                setattr(row, name, values[name])
            row.updated_at = utcnow()
        if self.owner:
            renew_lease(self.ctx, self.compute_env_id, self.owner)


def _entry(row: models.ForgeResource) -> JournalEntry:
    return JournalEntry(
        key=row.key,
        kind=row.kind,
        name=row.name,
        wave=row.wave,
        status=row.status,
        params=dict(row.params or {}),
        physical_id=row.physical_id,
        arn=row.arn,
        attrs=dict(row.attrs or {}),
        error=row.error,
    )


def _due() -> Any:
    """The back-off after a failed attempt has passed (or there was none)."""
    return or_(
        models.ComputeEnv.forge_next_at.is_(None), models.ComputeEnv.forge_next_at <= utcnow()
    )


def _claimable(owner: str) -> Any:
    """The lease is free: never taken, expired, or held by an earlier incarnation of
    ``owner``'s worker identity (a restarted server takes its own work back at once)."""
    return or_(
        models.ComputeEnv.lease_until.is_(None),
        models.ComputeEnv.lease_until < utcnow(),
        earlier_incarnation(models.ComputeEnv.lease_owner, owner),
    )


def claim(ctx: AppContext, compute_env_id: str, owner: str) -> bool:
    """Take the lease of an environment with Forge work due (its back-off passed), unless
    someone else holds it (see :func:`_claimable`)."""
    now = utcnow()
    with ctx.db.transaction() as session:
        result = session.execute(
            update(models.ComputeEnv)
            .where(
                models.ComputeEnv.id == compute_env_id,
                models.ComputeEnv.operation.is_not(None),
                _due(),
                or_(_claimable(owner), models.ComputeEnv.lease_owner == owner),
            )
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=LEASE_SECONDS))
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


def renew_lease(ctx: AppContext, compute_env_id: str, owner: str) -> None:
    with ctx.db.transaction() as session:
        session.execute(
            update(models.ComputeEnv)
            .where(models.ComputeEnv.id == compute_env_id, models.ComputeEnv.lease_owner == owner)
            .values(lease_until=utcnow() + timedelta(seconds=LEASE_SECONDS))
        )


def pending(ctx: AppContext, limit: int = 20, owner: str | None = None) -> list[str]:
    """Environments with Forge work due that ``owner`` (default: this process) may claim
    now (oldest first)."""
    with ctx.db.transaction() as session:
        return list(
            session.scalars(
                select(models.ComputeEnv.id)
                .where(
                    models.ComputeEnv.operation.is_not(None),
                    _due(),
                    _claimable(owner or ctx.worker_id),
                )
                .order_by(models.ComputeEnv.updated_at)
                .limit(limit)
            ).all()
        )
