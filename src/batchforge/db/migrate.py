"""Alembic migrations, run programmatically (no alembic.ini needed by users).

Several server replicas may start at once on one database.  :func:`startup_lock` serialises
their start-up work (migrations, the key check, the first admin): a session-level advisory
lock on PostgreSQL (per schema), an exclusive ``flock`` on a file next to a SQLite database.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LOCK_NAME = "batchforge-startup"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


@contextmanager
def startup_lock(database_url: str) -> Iterator[None]:
    """Hold the installation's start-up lock for the block; waits while another process has
    it.  Not re-entrant: never nest it (a second hold from the same process waits forever)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            yield  # a private in-memory database: nobody to race with
            return
        lock_path = Path(url.database).with_name(Path(url.database).name + ".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    key = text("SELECT hashtext(:name || current_schema())::bigint")
    try:
        with engine.connect() as connection:
            lock_id = connection.execute(key, {"name": LOCK_NAME}).scalar_one()
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": lock_id})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
    finally:
        engine.dispose()


def upgrade(database_url: str, revision: str = "head", *, lock: bool = True) -> None:
    """Upgrade the schema to ``revision``; ``lock=False`` when the caller already holds
    :func:`startup_lock`."""
    if not lock:
        command.upgrade(alembic_config(database_url), revision)
        return
    with startup_lock(database_url):
        command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
