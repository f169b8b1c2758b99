"""Carries out Forge work in the background: fetch → lease → work → guarded apply.

An environment with ``operation`` set ("create" or "delete") is claimed by one process (a
lease in its row, renewed while working), worked on, and released.  A crash leaves the lease
to expire; the next claim resumes from the journal: a create continues (adopting what exists)
and a delete continues (tolerating what is gone).  A failed create is rolled back; if the
rollback itself fails, the environment stays ERRORED with ``operation="delete"`` and the
runner keeps trying to dispose of what the journal names.  Once a deletion's disposal is done,
the head job definitions only its runs used are deregistered when the credentials may
(:mod:`batchforge.services.head_jobdefs`); a refusal is a note on the deleted environment.
"""

from __future__ import annotations

import logging

from sqlalchemy import update

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import BatchforgeError
from batchforge.forge.engine import ForgeEngine
from batchforge.services import compute_envs, forge_journal, head_jobdefs
from batchforge.services.background import BackgroundLoop
from batchforge.services.context import AppContext

log = logging.getLogger("batchforge.forge")


def _finish(ctx: AppContext, ce_id: str, owner: str, **values: object) -> None:
    """Apply the outcome only if we still hold the lease (guarded apply)."""
    with ctx.db.transaction() as session:
        session.execute(
            update(models.ComputeEnv)
            .where(models.ComputeEnv.id == ce_id, models.ComputeEnv.lease_owner == owner)
            .values(lease_owner=None, lease_until=None, updated_at=utcnow(), **values)
        )


def _describe_error(error: Exception) -> str:
    if isinstance(error, BatchforgeError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def run_one(ctx: AppContext, ce_id: str, owner: str | None = None) -> bool:
    """Claim ``ce_id`` and do its pending Forge work.  False when someone else holds it."""
    owner = owner or ctx.worker_id
    if not forge_journal.claim(ctx, ce_id, owner):
        return False
    with ctx.db.transaction() as session:
        row = session.get(models.ComputeEnv, ce_id)
        assert row is not None
        operation, state, workspace_id = row.operation, dict(row.forge_state), row.workspace_id
        credentials_id, region = row.credentials_id, row.region
    journal = forge_journal.DbJournal(ctx, ce_id, owner)
    try:
        aws = compute_envs.aws_session(ctx, workspace_id, credentials_id or "", region)
    except BatchforgeError as error:
        _finish(ctx, ce_id, owner, status="ERRORED", message=f"Credentials unusable: {error}")
        return True
    engine = ForgeEngine(aws, journal, ctx.pacing)
    if operation == compute_envs.FORGE_CREATE:
        _create(ctx, ce_id, owner, engine, state)
    else:
        _dispose(ctx, ce_id, owner, engine)
    return True


def _create(ctx: AppContext, ce_id: str, owner: str, engine: ForgeEngine, state: dict) -> None:
    spec = compute_envs.spec_from_state(state)
    try:
        engine.create(spec, state.get("subnet_zones") or {})
    except Exception as error:
        reason = _describe_error(error)
        log.warning("forge of %s failed, rolling back: %s", ce_id, reason)
        try:
            engine.dispose()
        except Exception as rollback_error:
            _finish(
                ctx,
                ce_id,
                owner,
                status="ERRORED",
                operation=compute_envs.FORGE_DELETE,
                message=f"{reason} Rollback incomplete, will retry: "
                f"{_describe_error(rollback_error)}",
            )
            return
        _finish(
            ctx,
            ce_id,
            owner,
            status="ERRORED",
            operation=None,
            message=f"{reason} Everything created so far was deleted.",
        )
        return
    warnings = "; ".join(state.get("warnings") or []) or None
    _finish(ctx, ce_id, owner, status="AVAILABLE", operation=None, message=warnings)


def _dispose(ctx: AppContext, ce_id: str, owner: str, engine: ForgeEngine) -> None:
    with ctx.db.transaction() as session:
        row = session.get(models.ComputeEnv, ce_id)
        assert row is not None
        deleting = row.status == "DELETING"
    try:
        engine.dispose()
    except Exception as error:
        _finish(
            ctx, ce_id, owner, message=f"Disposal incomplete, will retry: {_describe_error(error)}"
        )
        return
    if deleting:
        note = _retire_definitions(ctx, ce_id, engine)
        _finish(
            ctx,
            ce_id,
            owner,
            status="DELETED",
            deleted=True,
            operation=None,
            primary=False,
            message=note,
        )
    else:  # a failed create's rollback finished
        _finish(ctx, ce_id, owner, operation=None)


def _retire_definitions(ctx: AppContext, ce_id: str, engine: ForgeEngine) -> str | None:
    """Deregister the head job definitions only this environment's runs used (when granted);
    the note to keep on the environment.  Housekeeping: an AWS refusal or unusable
    credentials never fail the disposal."""
    try:
        return head_jobdefs.retire_for_disposal(ctx, ce_id, engine.aws)
    except BatchforgeError as error:  # e.g. credentials unusable now: the definitions stay
        note = f"Head job definitions kept: {error}"
        log.warning("compute environment %s: %s", ce_id, note)
        return note


def run_pending(ctx: AppContext, owner: str | None = None) -> int:
    """Do all Forge work that is free to claim now; the number of environments worked on."""
    worked = 0
    for ce_id in forge_journal.pending(ctx, owner=owner):
        worked += run_one(ctx, ce_id, owner)
    return worked


class ForgeWorker(BackgroundLoop):
    """The server's background thread: runs pending Forge work, woken by new requests."""

    name = "forge-worker"

    def __init__(self, ctx: AppContext, interval: float = 5.0):
        super().__init__(interval)
        self.ctx = ctx

    def cycle(self) -> float:
        run_pending(self.ctx)
        return self.interval
