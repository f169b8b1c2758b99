"""Carries out Forge work in the background: fetch → lease → work → guarded apply.

An environment with ``operation`` set ("create", "delete", or "rollback" of a failed create)
is claimed by one process (a lease in its row, renewed while working), worked on, and
released.  A crash leaves the lease to expire (or to the same server after a restart, at
once); the next claim resumes from the journal: a create continues (adopting what exists) and
a disposal continues (tolerating what is gone).

- **The user's latest intent wins.**  Every outcome is applied only while the environment still
  wants the operation that was worked on: a delete asked during a create stops the create
  before its next wave (or makes its outcome void) and the same worker goes on to dispose of
  everything the journal names; the environment ends DELETED.
- **Failures back off and end.**  A failed create is rolled back at once.  A disposal or
  rollback that fails is tried again after an exponential, jittered, capped delay
  (:class:`batchforge.forge.waits.Backoff`; ``forge_attempts`` / ``forge_next_at`` in the row);
  after ``max_attempts`` failures the environment is ERRORED with the error, what the journal
  says is left in AWS, and how to retry (:func:`batchforge.services.compute_envs.retry`, or
  deleting again).
- Once a deletion's disposal is done, the head job definitions only its runs used are
  deregistered when the credentials may (:mod:`batchforge.services.head_jobdefs`); a refusal
  is a note on the deleted environment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import BatchforgeError
from batchforge.forge.engine import DELETED, ForgeEngine, ForgeInterrupted
from batchforge.services import compute_envs, forge_journal, head_jobdefs
from batchforge.services.background import BackgroundLoop
from batchforge.services.compute_envs import FORGE_CREATE, FORGE_DELETE, FORGE_ROLLBACK
from batchforge.services.context import AppContext

log = logging.getLogger("batchforge.forge")

HANDOVERS = 3
"""How many times one claim goes on with a changed intent before leaving it to a later cycle."""

_WHAT = {
    FORGE_CREATE: "Creation",
    FORGE_DELETE: "Deletion",
    FORGE_ROLLBACK: "Rollback of the failed creation",
}
_RESET = {"forge_attempts": 0, "forge_next_at": None, "forge_failed": None}


@dataclass(frozen=True)
class _Work:
    operation: str
    state: dict[str, Any]
    workspace_id: int
    credentials_id: str | None
    region: str


def _apply(ctx: AppContext, ce_id: str, owner: str, working: str, **values: object) -> bool:
    """Guarded apply: only while we hold the lease and the environment still wants the
    operation we were ``working`` on; the lease is released.  False when the intent changed
    meanwhile."""
    with ctx.db.transaction() as session:
        result = session.execute(
            update(models.ComputeEnv)
            .where(
                models.ComputeEnv.id == ce_id,
                models.ComputeEnv.lease_owner == owner,
                models.ComputeEnv.operation == working,
            )
            .values(lease_owner=None, lease_until=None, updated_at=utcnow(), **values)
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


def _release(ctx: AppContext, ce_id: str, owner: str) -> None:
    with ctx.db.transaction() as session:
        session.execute(
            update(models.ComputeEnv)
            .where(models.ComputeEnv.id == ce_id, models.ComputeEnv.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )


def _current(ctx: AppContext, ce_id: str, owner: str) -> _Work | None:
    """The work we hold the lease for, as the row says now; None (lease released) when
    there is none left."""
    with ctx.db.transaction() as session:
        row = session.get(models.ComputeEnv, ce_id)
        if row is not None and row.lease_owner == owner and row.operation is not None:
            return _Work(
                row.operation,
                dict(row.forge_state),
                row.workspace_id,
                row.credentials_id,
                row.region,
            )
    _release(ctx, ce_id, owner)
    return None


def _wants(ctx: AppContext, ce_id: str, operation: str) -> bool:
    with ctx.db.transaction() as session:
        row = session.get(models.ComputeEnv, ce_id)
        return row is not None and row.operation == operation


def _describe_error(error: Exception) -> str:
    if isinstance(error, BatchforgeError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def left_in_aws(ctx: AppContext, ce_id: str) -> list[str]:
    """What the journal says may still exist in AWS ("kind name (id)")."""
    entries = forge_journal.DbJournal(ctx, ce_id).load().values()
    left = []
    for entry in sorted(entries, key=lambda e: (e.wave, e.key)):
        if entry.status == DELETED:
            continue
        shown = f"{entry.kind} {entry.name}"
        if entry.physical_id and entry.physical_id != entry.name:
            shown += f" ({entry.physical_id})"
        left.append(shown)
    return left


def run_one(ctx: AppContext, ce_id: str, owner: str | None = None) -> bool:
    """Claim ``ce_id`` and do its pending Forge work, going on with the new intent when it
    changes meanwhile.  False when someone else holds it (or its back-off has not passed)."""
    owner = owner or ctx.worker_id
    if not forge_journal.claim(ctx, ce_id, owner):
        return False
    for _ in range(HANDOVERS):
        work = _current(ctx, ce_id, owner)
        if work is None or _do(ctx, ce_id, owner, work):
            return True
        log.info("compute environment %s: the intent changed during %s", ce_id, work.operation)
    _release(ctx, ce_id, owner)
    return True


def _do(ctx: AppContext, ce_id: str, owner: str, work: _Work) -> bool:
    """One attempt at ``work``; False when its outcome was void (the intent changed)."""
    try:
        aws = compute_envs.aws_session(
            ctx, work.workspace_id, work.credentials_id or "", work.region
        )
    except BatchforgeError as error:
        return _attempt_failed(ctx, ce_id, owner, work.operation, f"Credentials unusable: {error}")
    engine = ForgeEngine(
        aws,
        forge_journal.DbJournal(ctx, ce_id, owner),
        ctx.pacing,
        still_wanted=lambda: _wants(ctx, ce_id, work.operation),
    )
    if work.operation == FORGE_CREATE:
        return _create(ctx, ce_id, owner, engine, work.state)
    return _dispose(ctx, ce_id, owner, engine, work)


def _create(ctx: AppContext, ce_id: str, owner: str, engine: ForgeEngine, state: dict) -> bool:
    spec = compute_envs.spec_from_state(state)
    try:
        engine.create(spec, state.get("subnet_zones") or {})
    except ForgeInterrupted:
        return False
    except Exception as error:
        if not _wants(ctx, ce_id, FORGE_CREATE):
            return False  # deleted meanwhile: the deletion disposes of everything
        reason = _describe_error(error)
        log.warning("forge of %s failed, rolling back: %s", ce_id, reason)
        try:
            engine.dispose()
        except Exception as rollback_error:
            return _attempt_failed(
                ctx,
                ce_id,
                owner,
                FORGE_CREATE,
                _describe_error(rollback_error),
                then=FORGE_ROLLBACK,
                failure=reason,
            )
        message = f"{reason} Everything created so far was deleted."
        return _apply(
            ctx, ce_id, owner, FORGE_CREATE, status="ERRORED", operation=None, message=message
        )
    warnings = "; ".join(state.get("warnings") or []) or None
    return _apply(
        ctx,
        ce_id,
        owner,
        FORGE_CREATE,
        status="AVAILABLE",
        operation=None,
        message=warnings,
        **_RESET,
    )


def _dispose(ctx: AppContext, ce_id: str, owner: str, engine: ForgeEngine, work: _Work) -> bool:
    try:
        engine.dispose()
    except Exception as error:
        return _attempt_failed(ctx, ce_id, owner, work.operation, _describe_error(error))
    if work.operation == FORGE_DELETE:
        note = _retire_definitions(ctx, ce_id, engine)
        return _apply(
            ctx,
            ce_id,
            owner,
            FORGE_DELETE,
            status="DELETED",
            deleted=True,
            operation=None,
            primary=False,
            message=note,
            **_RESET,
        )
    failure = work.state.get("failure") or "The creation failed."
    return _apply(
        ctx,
        ce_id,
        owner,
        FORGE_ROLLBACK,
        status="ERRORED",
        operation=None,
        message=f"{failure} Everything created so far was deleted.",
        **_RESET,
    )


def _attempt_failed(
    ctx: AppContext,
    ce_id: str,
    owner: str,
    operation: str,
    error: str,
    then: str | None = None,
    failure: str | None = None,
) -> bool:
    """Record a failed attempt of ``operation`` (going on as ``then``, e.g. a create whose
    rollback failed): the next attempt after the back-off, or, after ``max_attempts``, the
    final ERRORED state naming the error, what is left in AWS and how to retry."""
    backoff = ctx.pacing.backoff
    follow = then or operation
    with ctx.db.transaction() as session:
        row = session.get(models.ComputeEnv, ce_id)
        attempts = (row.forge_attempts if row is not None and follow == operation else 0) + 1
        state = dict(row.forge_state) if row is not None else {}
    values: dict[str, Any] = {"forge_attempts": attempts}
    if failure:
        values["forge_state"] = {**state, "failure": failure}
    known = failure or (state.get("failure") if follow == FORGE_ROLLBACK else None)
    prefix = f"{known} " if known else ""
    error = error.rstrip(".") + "."
    what = _WHAT[follow]
    if attempts >= backoff.max_attempts:
        left = "; ".join(left_in_aws(ctx, ce_id)) or "nothing the journal knows of"
        message = (
            f"{prefix}{what} failed after {attempts} attempts: {error} Left in AWS: {left}. "
            f"Retry: `batchforge compute-envs retry {ce_id}`, the Retry button, or "
            f"POST /compute-envs/{ce_id}/retry (deleting the environment again also retries)."
        )
        values |= {"status": "ERRORED", "operation": None, "forge_failed": follow}
        values |= {"forge_next_at": None}
        log.error("compute environment %s: %s", ce_id, message)
    else:
        delay = backoff.delay(attempts)
        message = (
            f"{prefix}{what} incomplete (attempt {attempts} of {backoff.max_attempts}), will "
            f"retry in {delay:.0f} s: {error}"
        )
        values |= {"operation": follow, "forge_next_at": utcnow() + timedelta(seconds=delay)}
        if follow == FORGE_ROLLBACK:
            values["status"] = "ERRORED"
        log.warning("compute environment %s: %s", ce_id, message)
    return _apply(ctx, ce_id, owner, operation, message=message, **values)


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
