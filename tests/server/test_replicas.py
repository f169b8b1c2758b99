"""Server replicas on one database fail safe (issue #16 items 3 and 4).

- the encryption key check value: a server whose key does not open it (or, on a database
  from before the check existed, does not open the secrets already stored) refuses to start
  with a message saying how to fix it, before any background work (so before any lease);
- start-up (migrations, key check, first admin) is serialised across replicas: several real
  server processes started at once on an empty database all come up, with one admin.
"""

from __future__ import annotations

import base64
import dataclasses
import secrets
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, func, select, text

from batchforge.crypto import SecretBox
from batchforge.db import migrate, models
from batchforge.db.models import utcnow
from batchforge.errors import ConfigurationError
from batchforge.runtime import build_context
from batchforge.services import key_check, run_tracker
from batchforge.services.context import AppContext
from batchforge.settings import Settings
from tests.batchjobs import BatchJobs
from tests.runs.conftest import env_id, job_id_of, jobs, launch, run_row  # noqa: F401 (fixtures)
from tests.server.processes import ServerProcess

NO_AWS = "http://127.0.0.1:9"  # aws mode: start-up makes no AWS call


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _settings(tmp_path: Path, database_url: str, key: str | None, name: str) -> Settings:
    return Settings(
        data_dir=tmp_path / name,
        database_url=database_url,
        encryption_key=key,
        aws_mode="aws",
        aws_endpoint_url=NO_AWS,
    )


def _check_value(database_url: str) -> str | None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT value FROM server_meta WHERE name = :n"), {"n": key_check.KEY_CHECK}
            ).scalar()
    finally:
        engine.dispose()


def test_the_first_start_writes_a_check_value_that_refuses_another_key(
    tmp_path: Path, database_url: str
) -> None:
    key, other = new_key(), new_key()
    ctx = build_context(_settings(tmp_path, database_url, key, "a"))
    ctx.db.dispose()
    stored = _check_value(database_url)
    assert stored is not None and stored.startswith("v1:")
    raw_key = base64.urlsafe_b64decode(key)
    assert key not in stored and raw_key not in base64.urlsafe_b64decode(stored[3:])

    build_context(_settings(tmp_path, database_url, key, "b")).db.dispose()  # same key: fine
    with pytest.raises(ConfigurationError) as refused:
        build_context(_settings(tmp_path, database_url, other, "c"))
    assert "does not open the key check value" in refused.value.message
    assert "BATCHFORGE_ENCRYPTION_KEY" in (refused.value.hint or "")
    assert "encryption.key" in (refused.value.hint or "")
    assert _check_value(database_url) == stored  # untouched


def _database_from_before_the_check(database_url: str, key: str) -> None:
    """A database migrated to 0006 holding a credential's secret sealed with ``key``, then
    upgraded to head without any server having started (no check value)."""
    migrate.upgrade(database_url, "0006")
    engine = create_engine(database_url)
    box = SecretBox(base64.urlsafe_b64decode(key))
    tables = MetaData()
    tables.reflect(engine)  # the schema of 0006, not today's models (later columns absent)
    with engine.begin() as connection:
        org = connection.execute(
            tables.tables["organization"]
            .insert()
            .values(name="default", full_name="Default", created_at=utcnow())
            .returning(tables.tables["organization"].c.id)
        ).scalar_one()
        workspace = connection.execute(
            tables.tables["workspace"]
            .insert()
            .values(org_id=org, name="default", full_name="Default", created_at=utcnow())
            .returning(tables.tables["workspace"].c.id)
        ).scalar_one()
        connection.execute(
            tables.tables["credentials"]
            .insert()
            .values(
                id="cred0000000000000001",
                workspace_id=workspace,
                name="mine",
                provider="aws",
                keys={"mode": "keys", "accessKey": "AKIAEXAMPLE"},
                secret_encrypted=box.encrypt("s3cr3t", "credentials:cred0000000000000001"),
                status="AVAILABLE",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
    engine.dispose()
    migrate.upgrade(database_url)


def test_an_existing_database_gets_its_check_value_from_the_key_that_opens_its_secrets(
    tmp_path: Path, database_url: str
) -> None:
    """Upgrading from the previous version: a key that cannot decrypt the stored credential
    is refused and writes nothing; the right key writes the check value."""
    key = new_key()
    _database_from_before_the_check(database_url, key)
    with pytest.raises(ConfigurationError) as refused:
        build_context(_settings(tmp_path, database_url, new_key(), "wrong"))
    assert "secrets already stored" in refused.value.message
    assert _check_value(database_url) is None

    build_context(_settings(tmp_path, database_url, key, "right")).db.dispose()
    assert _check_value(database_url) is not None
    with pytest.raises(ConfigurationError):
        build_context(_settings(tmp_path, database_url, new_key(), "wrong2"))


def test_a_replica_with_another_key_refuses_to_start(tmp_path: Path, database_url: str) -> None:
    """Two real server processes on one database: the second, started without the shared key
    (it generates its own key file), exits 1 with the fix and no traceback, and holds no
    lease of any run (it never started its background work)."""
    first = ServerProcess(tmp_path / "one", database_url, NO_AWS)
    try:
        first.wait_ready()
        second = ServerProcess(tmp_path / "two", database_url, NO_AWS)
        code = second.wait_exit(timeout=180)
        log = second.log()
        assert code == 1, log
        assert "encryption key does not open" in log
        assert "BATCHFORGE_ENCRYPTION_KEY" in log and "encryption.key" in log
        assert "Traceback" not in log
        assert not (second.data_dir / "admin-token").exists()
        assert first.answers()  # the first one is untouched
        copied = (first.data_dir / "encryption.key").read_text()
        (second.data_dir / "encryption.key").write_text(copied)  # the fix the hint gives
        third = ServerProcess(second.data_dir, database_url, NO_AWS)
        try:
            third.wait_ready()
        finally:
            third.stop()
    finally:
        first.stop()


def test_replicas_started_together_on_an_empty_database_all_start(
    tmp_path: Path, database_url: str
) -> None:
    """Three servers started at the same moment on an empty database (a fresh PostgreSQL
    schema, or one SQLite file): every one comes up, exactly one admin is made."""
    key = new_key()
    replicas = [
        ServerProcess(
            tmp_path / f"replica{i}",
            database_url,
            NO_AWS,
            BATCHFORGE_ENCRYPTION_KEY=key,
        )
        for i in range(3)
    ]
    try:
        for replica in replicas:
            replica.wait_ready()
        for replica in replicas:
            assert "Traceback" not in replica.log(), replica.log()
        made = [r for r in replicas if (r.data_dir / "admin-token").exists()]
        assert len(made) == 1
        engine = create_engine(database_url)
        with engine.connect() as connection:
            users = connection.execute(select(func.count()).select_from(models.User)).scalar()
        engine.dispose()
        assert users == 1
    finally:
        for replica in replicas:
            replica.stop()
    assert all(r.process.returncode == 0 for r in replicas), [r.log() for r in replicas]


def test_the_start_up_lock_serialises(tmp_path: Path, database_url: str) -> None:
    """The lock is exclusive across processes: while this process holds it, another one
    trying to take it waits."""
    migrate.upgrade(database_url)
    script = (
        "import sys; from batchforge.db.migrate import startup_lock\n"
        "print('trying', flush=True)\n"
        "with startup_lock(sys.argv[1]): print('got it', flush=True)\n"
    )
    with migrate.startup_lock(database_url):
        waiter = subprocess.Popen(
            [sys.executable, "-c", script, database_url],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert waiter.stdout is not None
        assert waiter.stdout.readline().strip() == "trying"
        with pytest.raises(subprocess.TimeoutExpired):
            waiter.wait(timeout=3)  # still waiting: the lock is held here
    out, _ = waiter.communicate(timeout=120)
    assert out.strip() == "got it"


def test_a_tracker_never_keeps_a_lease_it_cannot_work_on(
    app_ctx: AppContext,
    launch: Callable[..., str],  # noqa: F811 (the fixture imported above)
    jobs: BatchJobs,  # noqa: F811
) -> None:
    """A tracker whose key does not open a run's credentials (a replica that slipped past
    the start-up check, or a damaged row) releases that run in the same cycle instead of
    renewing its lease without ever polling; a replica that can poll it takes it at once
    and the run moves on."""
    run_id = launch()
    wrong = dataclasses.replace(
        app_ctx, box=SecretBox(secrets.token_bytes(32)), worker_id="wrong-key/1"
    )
    stats = run_tracker.run_cycle(wrong, "wrong-key/1")
    assert stats.claimed == 1 and stats.polled == 0
    row = run_row(app_ctx, run_id)
    assert row.lease_owner is None and row.lease_until is None

    jobs.set(job_id_of(app_ctx, run_id) or "", "SUCCEEDED", exit_code=0)
    right = run_tracker.run_cycle(app_ctx, "right-key/1")
    assert right.claimed == 1 and right.polled == 1
    assert run_row(app_ctx, run_id).status == "SUCCEEDED"
