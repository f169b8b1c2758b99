"""Migration 0014 (``run_label``): every run carries the labels it was launched with that
still exist in its workspace; a label of another workspace, a deleted one, a repeat or an
unreadable launch add nothing.  SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, MetaData, create_engine, select
from sqlalchemy.sql.schema import Table

from batchforge.db import migrate

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _filled(table: Table, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` plus a plain value for every other required column (none has a default
    outside Python)."""
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        kind = column.type
        if isinstance(kind, Boolean):
            row[column.name] = False
        elif isinstance(kind, DateTime) or "Date" in type(kind).__name__:
            row[column.name] = NOW
        elif isinstance(kind, JSON):
            row[column.name] = {}
        elif isinstance(kind, Integer):
            row[column.name] = 0
        else:
            row[column.name] = f"{column.name}-{values.get('id', '')}"[: kind.length or 40]  # type: ignore[attr-defined]
    return row


def test_runs_carry_their_launch_labels(database_url: str) -> None:
    migrate.upgrade(database_url, "0013")
    engine = create_engine(database_url)
    meta = MetaData()
    meta.reflect(engine)
    launch = {"labelIds": [1, 2, 1, 3, 99], "pipeline": "hello"}
    rows = {
        "organization": [{"id": 1, "name": "o"}],
        "workspace": [{"id": 10, "org_id": 1, "name": "a"}, {"id": 20, "org_id": 1, "name": "b"}],
        "label": [
            {"id": 1, "workspace_id": 10, "name": "one", "resource": False, "is_default": False},
            {
                "id": 2,
                "workspace_id": 10,
                "name": "two",
                "value": "v",
                "resource": True,
                "is_default": False,
            },
            {"id": 3, "workspace_id": 20, "name": "other", "resource": False, "is_default": False},
        ],
        "run": [
            {"id": "runA", "workspace_id": 10, "launch": launch, "job_name": "jA"},
            {"id": "runB", "workspace_id": 10, "launch": {}, "job_name": "jB"},
            {"id": "runC", "workspace_id": 10, "launch": json.dumps("x"), "job_name": "jC"},
        ],
    }
    try:
        with engine.begin() as conn:
            for name, values in rows.items():
                table = meta.tables[name]
                conn.execute(table.insert(), [_filled(table, row) for row in values])
        migrate.upgrade(database_url)
        run_label = MetaData()
        run_label.reflect(engine, only=["run_label"])
        with engine.connect() as conn:
            found = conn.execute(select(run_label.tables["run_label"])).all()
        assert sorted((row.run_id, row.label_id) for row in found) == [("runA", 1), ("runA", 2)]
    finally:
        engine.dispose()
