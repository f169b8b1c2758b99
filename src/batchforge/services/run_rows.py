"""Reading run rows so that one unreadable row never breaks a list or a page.

A row can be unreadable for reasons no check at write time can rule out for every row ever
stored: data written by an older version (a lone surrogate kept in a launch's JSON), a column
the database cannot decode, a status this version does not know.  Readers here turn such a
row into a run shown as broken — status ``UNKNOWN`` and a message saying it could not be read
and how to remove it — instead of failing the whole answer.  The API lists, the run page, the
UI runs page and ``batchforge runs list`` all read through :func:`rows` and :func:`shown`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, select

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.schemas.workflows import BROKEN_RUN_NAME, WorkflowDbDto
from batchforge.services import broken_rows
from batchforge.services.context import AppContext

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
    return broken_rows.reason_of(error)


def rows(ctx: AppContext, query: Select[Any]) -> list[models.Run | BrokenRow]:
    """The runs ``query`` selects, in order; a row that cannot be loaded is a
    :class:`BrokenRow` (found again by id and submit time alone)."""
    found = broken_rows.rows(ctx, query, models.Run.id, models.Run.submit)
    return [_run_row(row) if isinstance(row, broken_rows.BrokenRow) else row for row in found]


def _run_row(row: broken_rows.BrokenRow) -> BrokenRow:
    return BrokenRow(row.id, row.keys[0] if row.keys else None, row.reason)


def load(ctx: AppContext, run_id: str) -> models.Run | BrokenRow | None:
    """One run row by id, or a :class:`BrokenRow` if it exists but cannot be loaded."""
    query = select(models.Run).where(models.Run.id == run_id)
    found = broken_rows.load(ctx, query, models.Run.id, models.Run.submit)
    return _run_row(found) if isinstance(found, broken_rows.BrokenRow) else found


def shown(
    run_id: str,
    submit: datetime | None,
    build: Callable[[], Shown],
    broken: Callable[[WorkflowDbDto], Shown],
) -> Shown:
    """``build()`` if what it makes can be served as JSON, else ``broken(broken_dto(...))``."""
    return broken_rows.shown(
        run_id, build, lambda reason: broken(broken_dto(run_id, submit, reason)), "run"
    )
