"""Pipeline versions (Seqera's ``/pipelines/{id}/versions``).

A pipeline has one or more versions of its launch configuration; exactly one is the default
(what ``tw launch NAME`` and ``batchforge launch NAME`` run, and what ``pipeline.launch``
mirrors).  A version's ``hash`` fingerprints its *versionable* fields (what decides the
workflow that runs: repository, revision, profiles, params, config, scripts, entry);
updating a version:

- changing only other fields (compute environment, work directory, secrets, ...) updates
  the version in place;
- changing a versionable field makes a new version (or reuses the pipeline's version with
  that exact content), named ``<pipeline>-<n>``; it becomes the default when the version
  updated was the default — what ``tw pipelines update`` expects of a current Seqera
  ("the server named the version and promoted it to default").

Names: a version made by ``POST /pipelines`` is named ``version.name`` when the request
gives one (``tw pipelines add --version-name``), else ``<pipeline>-1``; a user's name matches
Seqera's pattern ``[a-zA-Z\\d][-._a-zA-Z\\d]{1,108}`` and is unique within the pipeline
(``GET .../versions/validate``: 400 / 409; ``PUT .../versions/{id}/manage`` renames).  ``tw``
finds a version by name with ``GET .../versions?search=NAME&isPublished=true`` and launches it
with ``GET /pipelines/{id}/launch?versionId=ID``.

Versions are never drafts here: every version has a name, so every version is published
(``isPublished=false`` lists none) — what ``tw pipelines update`` calls the "fixed API".
The default version cannot be unset, only replaced (``isDefault=false`` on it: 409).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import Conflict, InvalidInput, NotFound
from batchforge.schemas.pipelines import PipelineVersionFullInfoDto
from batchforge.services.ids import new_id

# The launch fields whose change makes a new version.
VERSIONABLE = (
    "pipeline",
    "revision",
    "commitId",
    "configProfiles",
    "paramsText",
    "configText",
    "preRunScript",
    "postRunScript",
    "mainScript",
    "entryName",
    "schemaName",
    "pipelineSchemaId",
)
# Seqera's rule for a version name a user gives (its 400 message quotes the pattern).
VERSION_NAME = re.compile(r"[a-zA-Z\d][-._a-zA-Z\d]{1,108}")
# The name column's width (pipeline_version.name): shorter than Seqera's 109.
NAME_MAX = 100
BAD_NAME = r"Invalid pipeline version name: must match pattern [a-zA-Z\d][-._a-zA-Z\d]{1,108}"


def launch_hash(launch: dict[str, Any]) -> str:
    """The fingerprint of a launch's versionable fields (empty values count as absent)."""
    kept = {key: launch.get(key) for key in VERSIONABLE if launch.get(key) not in (None, "", [])}
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def info(row: models.PipelineVersion) -> PipelineVersionFullInfoDto:
    """The API shape of a version."""
    return PipelineVersionFullInfoDto(
        id=row.id,
        name=row.name,
        hash=row.hash,
        isDefault=bool(row.is_default),
        creatorUserName=row.creator_user_name,
        dateCreated=row.created_at,
        lastUpdated=row.updated_at,
    )


def add(
    session: Any,
    pipeline: models.Pipeline,
    launch: dict[str, Any],
    name: str,
    default: bool,
    user: str | None,
) -> models.PipelineVersion:
    """A new version of ``pipeline`` (flushed, so its id is usable)."""
    now = utcnow()
    row = models.PipelineVersion(
        id=new_id(),
        pipeline_id=pipeline.id,
        name=name,
        hash=launch_hash(launch),
        is_default=default,
        launch=dict(launch),
        creator_user_name=user,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def default_of(session: Any, pipeline: models.Pipeline) -> models.PipelineVersion:
    """The pipeline's default version; made from ``pipeline.launch`` when it has none (a
    pipeline stored before versions existed, or whose default was lost)."""
    found = session.scalar(
        select(models.PipelineVersion).where(
            models.PipelineVersion.pipeline_id == pipeline.id,
            models.PipelineVersion.is_default.is_(True),
        )
    )
    if found is not None:
        return found  # type: ignore[no-any-return]
    return add(
        session, pipeline, dict(pipeline.launch or {}), next_name(session, pipeline), True,
        pipeline.user_name,
    )  # fmt: skip


def chosen(
    session: Any, pipeline: models.Pipeline, version_id: str | None
) -> models.PipelineVersion:
    """Version ``version_id`` of ``pipeline`` when given (404 when it is not one of its),
    its default version otherwise."""
    if version_id:
        return find(session, pipeline.id, version_id)
    return default_of(session, pipeline)


def find(session: Any, pipeline_id: int, version_id: str) -> models.PipelineVersion:
    row = session.get(models.PipelineVersion, version_id)
    if row is None or row.pipeline_id != pipeline_id:
        raise NotFound(f"Pipeline version '{version_id}' not found for pipeline {pipeline_id}.")
    return row  # type: ignore[no-any-return]


def next_name(session: Any, pipeline: models.Pipeline) -> str:
    """``<pipeline name>-<n>``, n one more than the highest such number in use; the name is
    cut short to fit the column (a 100-character pipeline name), never to a name in use."""
    names = set(
        session.scalars(
            select(models.PipelineVersion.name).where(
                models.PipelineVersion.pipeline_id == pipeline.id
            )
        ).all()
    )
    prefix = f"{pipeline.name}-"
    tails = [n[len(prefix) :] for n in names if n and n.startswith(prefix)]
    used = [int(tail) for tail in tails if tail.isdigit()]
    number = max(used, default=0) + 1
    while True:
        suffix = f"-{number}"
        candidate = pipeline.name[: NAME_MAX - len(suffix)] + suffix
        if candidate not in names:
            return candidate
        number += 1


def set_default(session: Any, pipeline: models.Pipeline, row: models.PipelineVersion) -> None:
    """Make ``row`` the default: the others stop being it, the pipeline mirrors its launch."""
    session.execute(
        update(models.PipelineVersion)
        .where(
            models.PipelineVersion.pipeline_id == pipeline.id,
            models.PipelineVersion.id != row.id,
        )
        .values(is_default=False)
    )
    row.is_default = True
    pipeline.launch = dict(row.launch or {})
    pipeline.repository = str(row.launch.get("pipeline") or pipeline.repository)


def apply_launch(
    session: Any,
    pipeline: models.Pipeline,
    target: models.PipelineVersion,
    launch: dict[str, Any],
    user: str | None,
) -> models.PipelineVersion:
    """Update ``target`` with ``launch`` as the module docstring says; the version that
    holds it now (``target``, or another one)."""
    wanted = launch_hash(launch)
    now = utcnow()
    if wanted == target.hash:
        holder = target
    else:
        holder = session.scalar(
            select(models.PipelineVersion).where(
                models.PipelineVersion.pipeline_id == pipeline.id,
                models.PipelineVersion.hash == wanted,
            )
        )
        if holder is None:
            holder = add(session, pipeline, launch, next_name(session, pipeline), False, user)
    holder.launch, holder.updated_at = dict(launch), now
    if target.is_default or holder.is_default:
        set_default(session, pipeline, holder)
    return holder  # type: ignore[no-any-return]


def list_versions(
    session: Any,
    pipeline: models.Pipeline,
    search: str | None,
    published: bool | None,
    max_results: int,
    offset: int,
) -> tuple[list[models.PipelineVersion], int]:
    """A page of the pipeline's versions, the default first, then newest first.

    ``search``: words matched in the name (case-insensitive), ``versionHash:<hash>`` the
    hash; ``published``: True → named versions, False → drafts (none here)."""
    default_of(session, pipeline)
    conditions = [models.PipelineVersion.pipeline_id == pipeline.id]
    for word in (search or "").split():
        if word.startswith("versionHash:"):
            conditions.append(models.PipelineVersion.hash == word.split(":", 1)[1])
        else:
            pattern = f"%{word.strip(chr(34)).lower()}%"
            conditions.append(func.lower(models.PipelineVersion.name).like(pattern))
    if published is True:
        conditions.append(models.PipelineVersion.name.is_not(None))
    elif published is False:
        conditions.append(models.PipelineVersion.name.is_(None))
    total = session.scalar(
        select(func.count()).select_from(models.PipelineVersion).where(*conditions)
    )
    rows = session.scalars(
        select(models.PipelineVersion)
        .where(*conditions)
        .order_by(
            models.PipelineVersion.is_default.desc(),
            models.PipelineVersion.created_at.desc(),
            models.PipelineVersion.id,
        )
        .offset(max(0, offset))
        .limit(max(1, min(max_results, 100)))
    ).all()
    return list(rows), int(total or 0)


def check_format(name: str | None, field: str = "name") -> None:
    """400 (Seqera's message) unless ``name`` matches Seqera's version name pattern."""
    if not VERSION_NAME.fullmatch(name or ""):
        raise InvalidInput(BAD_NAME, field=field)
    if len(name or "") > NAME_MAX:
        raise InvalidInput(
            f"Invalid pipeline version name: at most {NAME_MAX} characters.", field=field
        )


def check_name(session: Any, pipeline_id: int, name: str, keep: str | None = None) -> None:
    """400 for a malformed version name, 409 for one another version of the pipeline has
    (``keep``: the version being renamed, which may keep its own name)."""
    check_format(name)
    taken = session.scalar(
        select(models.PipelineVersion.id).where(
            models.PipelineVersion.pipeline_id == pipeline_id,
            models.PipelineVersion.name == name,
        )
    )
    if taken is not None and taken != keep:
        raise Conflict(f"The pipeline already has a version named '{name}'.", field="name")


def manage(
    session: Any,
    pipeline: models.Pipeline,
    version_id: str,
    name: str | None,
    is_default: bool | None,
) -> None:
    """Rename a version and/or make it the default (Seqera's ManagePipelineVersion)."""
    row = find(session, pipeline.id, version_id)
    if name is None and is_default is None:
        raise InvalidInput("Give 'name' or 'isDefault'.", field="name")
    if name is not None and name != row.name:
        check_name(session, pipeline.id, name, keep=row.id)
        row.name = name
    if is_default is True and not row.is_default:
        set_default(session, pipeline, row)
    elif is_default is False and row.is_default:
        # Seqera's ManagePipelineVersion: 409 "Conflict - unsetting a default pipeline version".
        raise Conflict(
            "isDefault: a pipeline always has a default version; make another version the "
            "default instead.",
            field="isDefault",
        )
    row.updated_at = utcnow()
    try:
        session.flush()
    except IntegrityError:
        message = f"The pipeline already has a version named '{name}'."
        raise Conflict(message, field="name") from None
