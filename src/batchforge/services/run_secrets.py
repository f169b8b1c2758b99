"""Per-run Secrets Manager copies of pipeline secrets: made at launch, always deleted after.

The protocol (no DB transaction is open while AWS is called):

1. the launch records the run with ``secret_names`` (deterministic, see
   :func:`batchforge.launch.secrets.aws_name`) and ``secrets_state="planned"`` *before* the
   first CreateSecret;
2. :func:`create_for_run` creates them;
3. once the run is no longer active — whatever its final status, or because the launch failed
   — :func:`clean_run` deletes every planned name (gone already counts as done), deregisters the
   run's own job definition when allowed, and sets ``secrets_state="deleted"``.

Every tracker cycle calls :func:`clean_finished`, so a run that ended in any way (tracker,
cancel, failed or reconciled launch, a crash anywhere) loses its secrets within one cycle; a
failed delete stays "planned" and is retried.  :func:`sweep` is the safety net: it lists
``tower-batchforge-*`` secrets (ListSecrets, name prefix) per credentials and region and deletes
those whose run has ended, whatever the database says about them.

A run still in its launch (``submit_state="intent"`` with a live lease) is never cleaned: its
launcher may still be creating secrets.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, not_, select, update

from batchforge.aws.session import AwsSession
from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import BatchforgeError
from batchforge.launch import retire
from batchforge.launch import secrets as run_copies
from batchforge.services import compute_envs
from batchforge.services.context import AppContext

log = logging.getLogger("batchforge.secrets")

PLANNED = "planned"
DELETED = "deleted"

SessionFor = Callable[[int, str | None, str], AwsSession]

# Credentials (endpoint, access key) that may not call batch:DeregisterJobDefinition: asked
# once per process, not once per run.
_deregister_denied: set[tuple[str | None, str | None]] = set()


@dataclass
class SweepStats:
    listed: int = 0
    deleted: int = 0
    kept_active: int = 0
    unknown_run: int = 0
    errors: list[str] = field(default_factory=list)


def _ended() -> Any:
    """Runs whose secrets may go: not active, and not a launch still in progress."""
    launching = and_(
        models.Run.submit_state == "intent",
        models.Run.lease_until.is_not(None),
        models.Run.lease_until > utcnow(),
    )
    return and_(models.Run.active.is_(False), not_(launching))


def create_for_run(
    aws: AwsSession,
    run_id: str,
    secrets: Iterable[run_copies.RunSecret],
    kms_key_id: str | None,
    tag: bool,
) -> list[tuple[str, str]]:
    """Create the run's copies; ``(name, ARN)`` pairs.  Raises the first AWS error (the
    copies already made are deleted by :func:`clean_run`, since their names are planned)."""
    return [
        (secret.name, run_copies.create(aws, run_id, secret, kms_key_id, tag)) for secret in secrets
    ]


def _deregister(aws: AwsSession, job_definition: str) -> None:
    """Retire the run's own definition (it names deleted secrets); asked once per process
    when the credentials may not (an extra beyond the seed)."""
    key = (aws.env.endpoint_url, aws.auth.access_key)
    if key in _deregister_denied:
        return
    retired = retire.deregister(aws, [job_definition])
    if retired.kept and retired.note and retire.PERMISSION in retired.note:
        _deregister_denied.add(key)
        log.info("%s", retired.note)


def clean_run(ctx: AppContext, run_id: str, session_for: SessionFor | None = None) -> bool:
    """Delete a finished run's secrets (and its own job definition); ``True`` when none is
    left.  Idempotent; AWS errors are logged and leave the run "planned" for the next cycle."""
    with ctx.db.transaction() as session:
        row = session.scalar(
            select(models.Run).where(
                models.Run.id == run_id, models.Run.secrets_state == PLANNED, _ended()
            )
        )
        if row is None:
            return False
        names = list(row.secret_names or [])
        where = (row.workspace_id, row.credentials_id, row.region)
        job_definition = row.job_definition
    try:
        aws = (session_for or compute_envs.SessionCache(ctx).get)(*where)
        for name in names:
            run_copies.delete(aws, name)
        if job_definition:
            _deregister(aws, job_definition)
    except BatchforgeError as error:
        log.warning("deleting the secrets of run %s failed, will retry: %s", run_id, error)
        return False
    with ctx.db.transaction() as session:
        session.execute(
            update(models.Run)
            .where(models.Run.id == run_id, models.Run.secrets_state == PLANNED)
            .values(secrets_state=DELETED)
        )
    return True


def clean_finished(ctx: AppContext, session_for: SessionFor | None = None) -> int:
    """Clean every ended run that still has planned secrets; how many were cleaned."""
    with ctx.db.transaction() as session:
        ids = list(
            session.scalars(
                select(models.Run.id).where(models.Run.secrets_state == PLANNED, _ended())
            ).all()
        )
    session_for = session_for or compute_envs.SessionCache(ctx).get
    return sum(clean_run(ctx, run_id, session_for) for run_id in ids)


def sweep(ctx: AppContext, session_for: SessionFor | None = None) -> SweepStats:
    """Delete every ``tower-batchforge-*`` secret whose run has ended, in each (credentials,
    region) where runs had secrets.  Secrets of runs this database does not know are left
    alone (another installation's) and counted."""
    stats = SweepStats()
    session_for = session_for or compute_envs.SessionCache(ctx).get
    with ctx.db.transaction() as session:
        places = session.execute(
            select(models.Run.workspace_id, models.Run.credentials_id, models.Run.region)
            .where(models.Run.secrets_state.is_not(None))
            .distinct()
        ).all()
    seen: set[tuple[str | None, str]] = set()
    for workspace_id, credentials_id, region in places:
        if (credentials_id, region) in seen:
            continue
        seen.add((credentials_id, region))
        try:
            _sweep_place(ctx, session_for(workspace_id, credentials_id, region), stats)
        except BatchforgeError as error:
            stats.errors.append(f"{region}: {error}")
            log.warning("sweeping run secrets in %s failed: %s", region, error)
    return stats


def _sweep_place(ctx: AppContext, aws: AwsSession, stats: SweepStats) -> None:
    by_run: dict[str, list[str]] = defaultdict(list)
    for name in run_copies.list_copies(aws):
        stats.listed += 1
        run_id = run_copies.run_id_of(name)
        if run_id:
            by_run[run_id].append(name)
    if not by_run:
        return
    with ctx.db.transaction() as session:
        rows = session.execute(
            select(models.Run.id, _ended()).where(models.Run.id.in_(list(by_run)))
        ).all()
    known = {run_id for run_id, _ in rows}
    ended = {run_id for run_id, has_ended in rows if has_ended}
    for run_id, names in by_run.items():
        if run_id not in known:
            stats.unknown_run += len(names)
        elif run_id not in ended:
            stats.kept_active += len(names)
        else:
            for name in names:
                stats.deleted += run_copies.delete(aws, name)
            with ctx.db.transaction() as session:
                session.execute(
                    update(models.Run)
                    .where(models.Run.id == run_id, models.Run.secrets_state == PLANNED)
                    .values(secrets_state=DELETED)
                )
