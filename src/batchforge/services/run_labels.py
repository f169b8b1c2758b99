"""A run's labels (table ``run_label``): recorded at launch from its ``labelIds``, changed
through Seqera's ``/workflow/labels/add|apply|remove``, shown in ``GET /workflow`` and
``GET /workflow/{id}``, searched with ``label:NAME`` in the runs search.

Resource labels (``NAME=VALUE``) become AWS tags of the run's Batch jobs at launch
(services/launches.py); AWS Batch cannot tag a job after SubmitJob.  So after launch a run's
resource labels stay what they were: adding one, or removing one it carries, is a 400 naming
the label (relaunch with it instead), and ``apply`` keeps them while it replaces the plain
labels.  Plain labels come and go freely.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from batchforge.db import models
from batchforge.errors import InvalidInput, NotFound
from batchforge.schemas.compute_envs import LabelDbDto
from batchforge.services import labels
from batchforge.services.context import AppContext

OPERATIONS = ("add", "apply", "remove")


def record(session: Session, run_id: str, label_ids: Iterable[int]) -> None:
    """At launch: the run carries the labels it was launched with (already resolved)."""
    rows = [{"run_id": run_id, "label_id": i} for i in dict.fromkeys(label_ids)]
    if rows:
        session.flush()  # the run's row first (run_label refers to it)
        session.execute(insert(models.RunLabel), rows)


def of_runs(
    ctx: AppContext, workspace_id: int, run_ids: Iterable[str]
) -> dict[str, list[LabelDbDto]]:
    """The labels of each of these runs (name order), one query for them all."""
    wanted = list(dict.fromkeys(run_ids))
    if not wanted:
        return {}
    with ctx.db.transaction() as session:
        pairs = session.execute(
            select(models.RunLabel.run_id, models.RunLabel.label_id).where(
                models.RunLabel.run_id.in_(wanted)
            )
        ).all()
    known = labels.found(ctx, workspace_id, (label_id for _, label_id in pairs))
    result: dict[str, list[LabelDbDto]] = defaultdict(list)
    for run_id, label_id in pairs:
        if label_id in known:
            result[run_id].append(known[label_id])
    return {
        run_id: sorted(result.get(run_id, []), key=lambda label: (label.name, label.id))
        for run_id in wanted
    }


def search_condition(text: str) -> Any:
    """The SQL condition of the runs search's ``label:NAME`` (or ``label:NAME=VALUE``): the
    run carries a label of that name (and value), names compared case-insensitively."""
    name, sep, value = text.partition("=")
    match = [
        models.RunLabel.run_id == models.Run.id,
        func.lower(models.Label.name) == name.strip().lower(),
    ]
    if sep:
        match.append(models.Label.value == value.strip())
    return exists(
        select(models.RunLabel.run_id)
        .join(models.Label, models.Label.id == models.RunLabel.label_id)
        .where(and_(*match))
    )


def change(
    ctx: AppContext,
    workspace_id: int,
    workflow_ids: list[str] | None,
    label_ids: list[int] | None,
    how: str,
) -> None:
    """Seqera's ``/workflow/labels/{add,apply,remove}`` on every run of ``workflow_ids``
    (see the module docstring for resource labels).  Errors name the field: 400 for an empty
    ``workflowIds``, a missing ``labelIds`` or a label not in this workspace
    (``labelIds[i]``); 404 for a run not in this workspace (``workflowIds[i]``).  An empty
    ``labelIds`` is valid: ``apply`` then removes the plain labels, add/remove change
    nothing."""
    if how not in OPERATIONS:
        raise ValueError(f"unknown labels operation {how!r}")
    if not workflow_ids:
        raise InvalidInput("workflowIds: give at least one run (workflow) id.", field="workflowIds")
    if label_ids is None:
        raise InvalidInput(
            "labelIds: required (a list of label ids; [] with apply removes the labels).",
            field="labelIds",
        )
    chosen = labels.resolve(ctx, workspace_id, label_ids)
    resource = {label.id for label in chosen if label.resource}
    try:
        _change(ctx, workspace_id, workflow_ids, label_ids, resource, how)
    except IntegrityError:  # a concurrent change added the same pair: once more, from it
        _change(ctx, workspace_id, workflow_ids, label_ids, resource, how)


def _change(
    ctx: AppContext,
    workspace_id: int,
    workflow_ids: list[str],
    label_ids: list[int],
    resource: set[int],
    how: str,
) -> None:
    run_ids = list(dict.fromkeys(workflow_ids))
    with ctx.db.transaction() as session:
        present = set(
            session.scalars(
                select(models.Run.id).where(
                    models.Run.id.in_(run_ids),
                    models.Run.workspace_id == workspace_id,
                    models.Run.deleted.is_(False),
                )
            )
        )
        for index, run_id in enumerate(workflow_ids):
            if run_id not in present:
                raise NotFound(
                    f"workflowIds[{index}]: run '{run_id}' not found in this workspace.",
                    field=f"workflowIds[{index}]",
                )
        carried: dict[str, list[int]] = defaultdict(list)
        for run_id, label_id in session.execute(
            select(models.RunLabel.run_id, models.RunLabel.label_id).where(
                models.RunLabel.run_id.in_(run_ids)
            )
        ):
            carried[run_id].append(label_id)
        resource = resource | _resource_ids(session, workspace_id, carried)
        for run_id in run_ids:
            current = carried.get(run_id, [])
            _check_resource(run_id, current, label_ids, resource, how)
            wanted = labels.merged(current, label_ids, how)
            if how == "apply":  # the launch's tags stay on the jobs: so do their labels
                wanted += [i for i in current if i in resource and i not in wanted]
            _store(session, run_id, current, wanted)


def _resource_ids(session: Session, workspace_id: int, carried: dict[str, list[int]]) -> set[int]:
    ids = {label_id for found in carried.values() for label_id in found}
    if not ids:
        return set()
    return set(
        session.scalars(
            select(models.Label.id).where(
                models.Label.id.in_(ids),
                models.Label.workspace_id == workspace_id,
                models.Label.resource.is_(True),
            )
        )
    )


def _check_resource(
    run_id: str, current: list[int], label_ids: list[int], resource: set[int], how: str
) -> None:
    """A resource label cannot be added to, or removed from, a launched run."""
    for index, label_id in enumerate(label_ids):
        if label_id not in resource:
            continue
        if how in ("add", "apply") and label_id not in current:
            raise InvalidInput(
                f"labelIds[{index}]: label {label_id} is a resource label; its AWS tags are "
                f"applied when a run is launched and run '{run_id}' was launched without it "
                "(AWS Batch cannot tag a submitted job).",
                field=f"labelIds[{index}]",
                hint="Relaunch the run with this label (launch --labels NAME=VALUE).",
            )
        if how == "remove" and label_id in current:
            raise InvalidInput(
                f"labelIds[{index}]: label {label_id} is a resource label run '{run_id}' was "
                "launched with: its jobs carry the AWS tag, so the label stays.",
                field=f"labelIds[{index}]",
            )


def _store(session: Session, run_id: str, current: list[int], wanted: list[int]) -> None:
    gone = [i for i in current if i not in wanted]
    if gone:
        session.execute(
            delete(models.RunLabel).where(
                models.RunLabel.run_id == run_id, models.RunLabel.label_id.in_(gone)
            )
        )
    record(session, run_id, [i for i in wanted if i not in current])
