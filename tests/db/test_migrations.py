"""Migrations: upgrade to head, models and schema agree (`alembic check`), downgrade to base."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from batchforge.db import migrate


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
