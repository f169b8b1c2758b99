"""Hostile-input sweep: requests sent and 5xx answers, per database (goal: 0 5xx), for the
API (every OpenAPI operation) and for the web UI's pages and form posts.

A real ``batchforge server`` process per database (SQLite always; PostgreSQL when
``BATCHFORGE_TEST_DATABASE_URL`` is set, in a fresh schema), on the local AWS emulator; the
cases are generated from the server's own ``/openapi.json`` with a fixed seed
(tests/server/hostile.py), so two runs send the same requests.

Usage: .venv/bin/python benchmarks/bench_hostile.py [--show N]   (N: 5xx lines to print)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
from tests.server.hostile_run import (  # noqa: E402
    build_world,
    check_consistent,
    server_process,
    snapshot,
    sweep,
)
from tests.server.hostile_ui import sign_in, sweep_ui  # noqa: E402

from batchforge import local_aws  # noqa: E402


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run(name: str, database_url: str, emulator: local_aws.LocalAws, show: int) -> int:
    with (
        tempfile.TemporaryDirectory() as tmp,
        server_process(database_url, emulator, Path(tmp) / "data") as server,
    ):
        world = build_world(server.client(), emulator)
        with httpx.Client(base_url=server.url, timeout=60) as http:
            spec = http.get("/openapi.json").json()
            before = snapshot(http, world, server.token)
            started = time.perf_counter()
            result = sweep(http, spec, world, server.token)
            seconds = time.perf_counter() - started
            consistent = "yes"
            try:
                check_consistent(http, world, server.token, before)
            except AssertionError as error:
                consistent = f"NO ({error})"
        with httpx.Client(base_url=server.url, timeout=60) as ui:
            ui_sent, ui_errors = sweep_ui(ui, sign_in(ui, server.token), world.known)
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(result.statuses.items()))
        print(
            f"{name:10} requests {result.requests:5}  5xx {len(result.server_errors):3}  "
            f"closed by HTTP layer {len(result.refused):3}  {seconds:5.1f} s  "
            f"alive {'yes' if server.alive() else 'NO'}  consistent {consistent}"
        )
        print(f"{'':10} statuses {statuses}")
        print(f"{'':10} web UI pages and forms: requests {ui_sent}  5xx {len(ui_errors)}")
        for line in [*result.server_errors[:show], *ui_errors[:show], *result.refused[:show]]:
            print(f"{'':10} {line[:300]}")
        return len(result.server_errors) + len(ui_errors)


def main() -> int:
    show = int(sys.argv[sys.argv.index("--show") + 1]) if "--show" in sys.argv else 10
    emulator = local_aws.start()
    failures = 0
    try:
        with tempfile.TemporaryDirectory() as tmp:
            failures += run("sqlite", f"sqlite:///{tmp}/batchforge.db", emulator, show)
        postgres = os.environ.get("BATCHFORGE_TEST_DATABASE_URL")
        if postgres:
            with postgres_schema(postgres) as url:
                failures += run("postgresql", url, emulator, show)
        else:
            print("postgresql (skipped: set BATCHFORGE_TEST_DATABASE_URL)")
    finally:
        emulator.stop()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
