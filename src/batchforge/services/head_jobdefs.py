"""Head job definitions of a compute environment being disposed of.

Definitions are shared by content hash (:mod:`batchforge.launch.jobdefs`), so two environments
with the same launcher image and roles use the same one.  At disposal, batchforge deregisters
only the definitions this environment's runs used (``Run.job_definition``) and that no run of
another, still-existing environment used -- compared by definition *name*, so a shared
configuration keeps every revision.  Runs whose job definition was never recorded (a launch
that failed before SubmitJob, or one found again by ListJobs after a crash) name none.
"""

from __future__ import annotations

import logging

from sqlalchemy import or_, select

from batchforge.aws.session import AwsSession
from batchforge.db import models
from batchforge.launch import retire
from batchforge.services.context import AppContext

log = logging.getLogger("batchforge.forge")


def _name_prefix(arn: str) -> str:
    """``arn:…:job-definition/NAME:REV`` -> ``arn:…:job-definition/NAME:`` (every revision)."""
    return arn.rsplit(":", 1)[0] + ":"


def exclusive_definitions(ctx: AppContext, ce_id: str) -> list[str]:
    """The job definitions (ARNs) used by runs of ``ce_id`` and by no run of another
    environment that is not deleted; two small queries, no AWS call."""
    with ctx.db.transaction() as session:
        ours = sorted(
            session.scalars(
                select(models.Run.job_definition)
                .where(
                    models.Run.compute_env_id == ce_id,
                    models.Run.job_definition.is_not(None),
                )
                .distinct()
            ).all()
        )
        if not ours:
            return []
        prefixes = sorted({_name_prefix(arn) for arn in ours})
        shared = session.scalars(
            select(models.Run.job_definition)
            .join(models.ComputeEnv, models.ComputeEnv.id == models.Run.compute_env_id)
            .where(
                models.Run.compute_env_id != ce_id,
                models.ComputeEnv.deleted.is_(False),
                or_(*[models.Run.job_definition.startswith(p, autoescape=True) for p in prefixes]),
            )
            .distinct()
        ).all()
    kept = {_name_prefix(arn) for arn in shared if arn}
    return [arn for arn in ours if arn and _name_prefix(arn) not in kept]


def retire_for_disposal(ctx: AppContext, ce_id: str, aws: AwsSession) -> str | None:
    """Deregister the environment's own head job definitions (one call each, none when there
    are none); the note to show on the environment, or None.  Never raises an AWS error: a
    refusal must not fail or block the disposal."""
    arns = exclusive_definitions(ctx, ce_id)
    if not arns:
        return None
    retired = retire.deregister(aws, arns)
    if retired.deregistered:
        log.info(
            "compute environment %s: deregistered head job definition(s) %s",
            ce_id,
            ", ".join(retire.short_name(arn) for arn in retired.deregistered),
        )
    if retired.note:
        log.warning("compute environment %s: %s", ce_id, retired.note)
    return retired.note
