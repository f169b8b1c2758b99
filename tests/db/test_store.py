"""Store rules that hold on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from batchforge.db import migrate, models
from batchforge.db.engine import Database
from batchforge.db.models import utcnow


@pytest.fixture
def db(database_url: str):
    migrate.upgrade(database_url)
    database = Database(database_url)
    yield database
    database.dispose()


def _workspace(db: Database) -> int:
    with db.transaction() as session:
        org = models.Organization(name="o")
        session.add(org)
        session.flush()
        ws = models.Workspace(org_id=org.id, name="w")
        session.add(ws)
        session.flush()
        return ws.id


def _credentials(workspace_id: int, name: str, cid: str) -> models.Credentials:
    return models.Credentials(
        id=cid,
        workspace_id=workspace_id,
        name=name,
        provider="aws",
        keys={"mode": "keys"},
        created_at=utcnow(),
        updated_at=utcnow(),
    )


def test_credentials_names_are_unique_per_workspace(db: Database) -> None:
    ws = _workspace(db)
    with db.transaction() as session:
        session.add(_credentials(ws, "a", "id1"))
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(_credentials(ws, "a", "id2"))


def test_deleting_a_workspace_deletes_its_credentials(db: Database) -> None:
    ws = _workspace(db)
    with db.transaction() as session:
        session.add(_credentials(ws, "a", "id1"))
    with db.transaction() as session:
        session.delete(session.get(models.Workspace, ws))
    with db.transaction() as session:
        assert session.scalars(select(models.Credentials)).all() == []


def test_timestamps_come_back_in_utc(db: Database) -> None:
    ws = _workspace(db)
    with db.transaction() as session:
        session.add(_credentials(ws, "a", "id1"))
    with db.transaction() as session:
        row = session.get(models.Credentials, "id1")
        assert row is not None and row.created_at.tzinfo == UTC


def test_a_failed_transaction_leaves_nothing(db: Database) -> None:
    ws = _workspace(db)
    with pytest.raises(RuntimeError), db.transaction() as session:
        session.add(_credentials(ws, "a", "id1"))
        session.flush()
        raise RuntimeError("boom")
    with db.transaction() as session:
        assert session.get(models.Credentials, "id1") is None
