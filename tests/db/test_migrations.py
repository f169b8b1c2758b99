"""Migrations: upgrade to head, models and schema agree (`alembic check`), downgrade to base."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import MetaData, create_engine, inspect, text
from sqlalchemy.orm import Session

from batchforge.db import migrate
from batchforge.services.accounts import effective_roles, hash_token


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_check_downgrade(database_url: str) -> None:
    migrate.upgrade(database_url)
    assert {
        "organization",
        "workspace",
        "user_account",
        "workspace_participant",
        "org_member",
        "team",
        "api_token",
        "credentials",
    } <= _tables(database_url)

    command.check(migrate.alembic_config(database_url))  # raises when models drifted

    migrate.downgrade(database_url, "base")
    assert _tables(database_url) <= {"alembic_version"}

    migrate.upgrade(database_url)  # and back up again: downgrade left it clean
    assert "credentials" in _tables(database_url)


def test_upgrade_from_0009_keeps_accounts_and_resources(database_url: str) -> None:
    """A database of the previous version (revision 0009: workspace members with roles, no
    teams) upgrades with every user keeping exactly the access it had: each membership becomes
    an org member plus a direct participant; org ``owner`` only for a user owning every
    workspace of the org (no one gains a workspace); the first user is the system admin; the
    workspace's resources and the admin's token are untouched."""
    migrate.upgrade(database_url, "0009")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    engine = create_engine(database_url)
    rows = {
        "organization": [
            {"id": 1, "name": "default", "full_name": "Default", "created_at": now},
            {"id": 2, "name": "lab", "full_name": "Lab", "created_at": now},
        ],
        "workspace": [
            {"id": 10, "org_id": 1, "name": "default", "full_name": "D", "created_at": now},
            {"id": 20, "org_id": 2, "name": "alpha", "full_name": "A", "created_at": now},
            {"id": 21, "org_id": 2, "name": "beta", "full_name": "B", "created_at": now},
        ],
        "user_account": [
            {"id": 1, "user_name": "admin", "email": "admin@localhost", "created_at": now},
            {"id": 2, "user_name": "vic", "email": "vic@localhost", "created_at": now},
        ],
        "workspace_member": [
            {"workspace_id": 10, "user_id": 1, "role": "owner"},
            {"workspace_id": 10, "user_id": 2, "role": "view"},
            {"workspace_id": 20, "user_id": 2, "role": "owner"},  # owns alpha, not beta
        ],
        "api_token": [
            {
                "id": 1,
                "user_id": 1,
                "name": "admin",
                "token_sha256": hash_token("bf_admin"),
                "created_at": now,
            }
        ],
        "label": [
            {
                "id": 5,
                "workspace_id": 10,
                "name": "project",
                "value": "x",
                "resource": True,
                "is_default": False,
                "created_at": now,
            }
        ],
    }
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        for table, values in rows.items():
            conn.execute(meta.tables[table].insert(), values)
    engine.dispose()

    migrate.upgrade(database_url)

    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            assert effective_roles(session, 1) == ({10: "owner"}, {1: "owner"})
            assert effective_roles(session, 2) == (
                {10: "view", 20: "owner"},
                {1: "member", 2: "member"},
            )
            admin = session.execute(
                text("SELECT user_name, is_admin, disabled FROM user_account ORDER BY id")
            ).all()
            assert [tuple(r) for r in admin] == [("admin", True, False), ("vic", False, False)]
            token_user = session.execute(
                text("SELECT user_id FROM api_token WHERE token_sha256 = :h"),
                {"h": hash_token("bf_admin")},
            ).scalar_one()
            assert token_user == 1
            label = session.execute(
                text("SELECT workspace_id, name, value FROM label WHERE id = 5")
            ).one()
            assert tuple(label) == (10, "project", "x")
            workspaces = session.execute(text("SELECT id FROM workspace ORDER BY id")).scalars()
            assert list(workspaces) == [10, 20, 21]
    finally:
        engine.dispose()
    # New rows get fresh ids after the moved ones (PostgreSQL sequences included).
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO org_member (org_id, user_id, role) VALUES (2, 1, 'member')")
            )
            conn.execute(
                text(
                    "INSERT INTO workspace_participant (workspace_id, member_id, role) "
                    "SELECT 21, id, 'view' FROM org_member WHERE org_id = 2 AND user_id = 1"
                )
            )
    finally:
        engine.dispose()


def test_upgrade_from_0012_keeps_workspaces_private(database_url: str) -> None:
    """Revision 0013 adds ``workspace.visibility``: a database from before keeps its
    workspaces, each PRIVATE (nothing becomes visible to other workspaces)."""
    migrate.upgrade(database_url, "0012")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    engine = create_engine(database_url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        conn.execute(
            meta.tables["organization"].insert(),
            [{"id": 1, "name": "lab", "full_name": "Lab", "created_at": now}],
        )
        conn.execute(
            meta.tables["workspace"].insert(),
            [
                {"id": 10, "org_id": 1, "name": "alpha", "full_name": "A", "created_at": now},
                {"id": 11, "org_id": 1, "name": "beta", "full_name": "B", "created_at": now},
            ],
        )
    engine.dispose()

    migrate.upgrade(database_url)

    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, name, full_name, visibility FROM workspace ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [
            (10, "alpha", "A", "PRIVATE"),
            (11, "beta", "B", "PRIVATE"),
        ]
    finally:
        engine.dispose()
