"""Reading run rows so that one unreadable row never breaks a list or a page.

A row can be unreadable for reasons no check at write time can rule out for every row ever
stored: data written by an older version (a lone surrogate kept in a launch's JSON), a column
the database cannot decode, a status this version does not know.  Readers here turn such a
row into a run shown as broken — status ``UNKNOWN`` and a message saying it could not be read
and how to remove it — instead of failing the whole answer.  The API lists, the run page, the
UI runs page and ``batchforge runs list`` all read through :func:`rows` and :func:`shown`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, select

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.schemas.workflows import BROKEN_RUN_NAME, WorkflowDbDto
from batchforge.services.context import AppContext

log = logging.getLogger("batchforge.runs")
Shown = TypeVar("Shown", bound=BaseModel)


class BrokenRow:
    """What is known of a run row that could not be loaded: its id and submit time."""

    def __init__(self, run_id: str, submit: datetime | None, reason: str):
        self.id = run_id
        self.submit = submit or utcnow()
        self.reason = reason


def broken_message(run_id: str, reason: str) -> str:
    return (
        f"batchforge could not read this run's stored data ({reason}); it is shown as "
        f"broken.  Delete it with: batchforge runs delete {run_id} --force "
        f"(or DELETE /workflow/{run_id}?force=true)."
    )


def broken_dto(run_id: str, submit: datetime | None, reason: str) -> WorkflowDbDto:
    """The run as a list shows it when its row cannot be read."""
    stamp = submit or utcnow()
    return WorkflowDbDto(
        id=run_id,
        runName=BROKEN_RUN_NAME,
        sessionId="",
        projectName=BROKEN_RUN_NAME,
        commandLine="",
        workDir="",
        status="UNKNOWN",
        submit=stamp,
        dateCreated=stamp,
        lastUpdated=stamp,
        errorMessage=broken_message(run_id, reason),
        launchId=run_id,
    )


def is_broken(workflow: WorkflowDbDto) -> bool:
    """Whether ``workflow`` is a run shown as broken (see :func:`broken_dto`)."""
    return workflow.runName == BROKEN_RUN_NAME and workflow.repository is None


def _reason(error: BaseException) -> str:
    if isinstance(error, UnicodeError) or "surrogates not allowed" in str(error):
        return "text that is not valid Unicode"
    return type(error).__name__


def rows(ctx: AppContext, query: Select[Any]) -> list[models.Run | BrokenRow]:
    """The runs ``query`` selects, in order; a row that cannot be loaded is a
    :class:`BrokenRow` (found again by id and submit time alone)."""
    try:
        with ctx.db.transaction() as session:
            return list(session.scalars(query).all())
    except Exception as error:  # one unreadable row: read them one by one
        log.warning("a page of runs could not be loaded at once (%s)", type(error).__name__)
    keys_query = query.with_only_columns(models.Run.id, models.Run.submit)
    with ctx.db.transaction() as session:
        keys = list(session.execute(keys_query).all())
    found: list[models.Run | BrokenRow] = []
    for run_id, submit in keys:
        try:
            with ctx.db.transaction() as session:
                row = session.get(models.Run, run_id)
        except Exception as error:
            found.append(BrokenRow(run_id, submit, _reason(error)))
            continue
        if row is not None:
            found.append(row)
    return found


def load(ctx: AppContext, run_id: str) -> models.Run | BrokenRow | None:
    """One run row by id, or a :class:`BrokenRow` if it exists but cannot be loaded."""
    try:
        with ctx.db.transaction() as session:
            return session.get(models.Run, run_id)
    except Exception as error:
        with ctx.db.transaction() as session:
            submit = session.scalar(select(models.Run.submit).where(models.Run.id == run_id))
        return BrokenRow(run_id, submit, _reason(error))


def shown(
    run_id: str,
    submit: datetime | None,
    build: Callable[[], Shown],
    broken: Callable[[WorkflowDbDto], Shown],
) -> Shown:
    """``build()`` if what it makes can be served as JSON, else ``broken(broken_dto(...))``."""
    try:
        made = build()
        made.model_dump_json()
        return made
    except Exception as error:  # the row is unreadable, not the request
        reason = _reason(error)
        log.warning("run %s could not be read (%s)", run_id, reason)
        return broken(broken_dto(run_id, submit, reason))
