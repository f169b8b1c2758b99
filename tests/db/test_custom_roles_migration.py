"""Migration 0016 (``custom_role``): upgrading keeps every participant and its role; a role
name of 40 characters fits; downgrading removes the participants holding a custom role (the
older schema knows only the predefined ones, and any of them could grant more) and keeps the
others.  SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import MetaData, create_engine, select

from batchforge.db import migrate

NOW = datetime(2026, 12, 1, tzinfo=UTC)
LONG = "r" * 40


def test_upgrade_and_downgrade_keep_predefined_participants(database_url: str) -> None:
    migrate.upgrade(database_url, "0015")
    engine = create_engine(database_url)
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    with engine.begin() as conn:
        conn.execute(
            t["organization"].insert(), [{"id": 1, "name": "o", "full_name": "", "created_at": NOW}]
        )
        conn.execute(
            t["workspace"].insert(),
            [{"id": 10, "org_id": 1, "name": "w", "full_name": "", "created_at": NOW}],
        )
        conn.execute(
            t["user_account"].insert(),
            [
                {"id": i, "user_name": f"u{i}", "email": f"u{i}@x", "created_at": NOW}
                for i in (1, 2)
            ],
        )
        conn.execute(
            t["org_member"].insert(),
            [{"id": i, "org_id": 1, "user_id": i, "role": "member"} for i in (1, 2)],
        )
        conn.execute(
            t["workspace_participant"].insert(),
            [{"id": 1, "workspace_id": 10, "member_id": 1, "role": "admin"}],
        )
    engine.dispose()

    migrate.upgrade(database_url, "0016")
    engine = create_engine(database_url)
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    with engine.begin() as conn:
        assert conn.execute(select(t["workspace_participant"].c.role)).scalars().all() == ["admin"]
        conn.execute(
            t["custom_role"].insert(),
            [
                {
                    "id": 1,
                    "org_id": 1,
                    "name": LONG,
                    "description": "d",
                    "permissions": ["pipeline:read"],
                    "created_at": NOW,
                }
            ],
        )
        conn.execute(
            t["workspace_participant"].insert(),
            [{"id": 2, "workspace_id": 10, "member_id": 2, "role": LONG}],
        )
    engine.dispose()

    migrate.downgrade(database_url, "0015")
    engine = create_engine(database_url)
    meta = MetaData()
    meta.reflect(engine)
    t = meta.tables
    assert "custom_role" not in t
    with engine.begin() as conn:
        rows = conn.execute(
            select(t["workspace_participant"].c.id, t["workspace_participant"].c.role)
        ).all()
    assert [tuple(row) for row in rows] == [(1, "admin")]
    engine.dispose()
