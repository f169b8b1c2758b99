"""The trace receiver and its read side at scale, over real HTTP to one server process.

Ingest (``PUT /trace/{id}/progress``, each request 100 task snapshots, nf-tower's Basic
'@token:' auth with the run's token):

1. one run, requests one after another as the plugin sends them: a 10,000-task run fully
   ingested (every task reported SUBMITTED, RUNNING, then COMPLETED: 300 requests);
   requests/s, and the progress read back must count 10,000 succeeded;
2. 100 runs at once (100 clients, one per run, 10 requests each): requests/s;
3. database statements per progress request (a SQLAlchemy event, in-process, one request
   of 100 new tasks and one of 100 updates).

Read, on one run holding 100,000 tasks: ``GET /workflow/{id}/progress`` and
``/tasks`` (first page, a sorted page, a deep page, a search), p50/p99 over 200 requests
each; ``/progress`` also on a 100-task run, to show its cost does not grow with tasks.

The server is ``uvicorn`` in its own process (no background workers; AWS is not called).
Usage: .venv/bin/python benchmarks/bench_trace.py [--postgres-only]  (BATCHFORGE_TEST_DATABASE_URL
or BATCHFORGE_BENCH_DATABASE_URL also runs it on PostgreSQL; a schema of its own, dropped after)
"""

from __future__ import annotations

import base64
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from batchforge.db import models
from batchforge.runtime import build_context
from batchforge.services import run_tokens
from batchforge.services.accounts import bootstrap_admin
from batchforge.services.ids import new_id
from batchforge.settings import Settings

TASKS_PER_REQUEST = 100
BIG_RUN_TASKS = 10_000
CONCURRENT_RUNS = 100
REQUESTS_PER_CONCURRENT_RUN = 10
READ_TASKS = 100_000
READ_SAMPLES = 200


def basic(token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"@token:{token}".encode()).decode()}


def snapshot(task_id: int, status: str) -> dict[str, Any]:
    """A task as nf-tower sends it (a full TraceRecord snapshot)."""
    task: dict[str, Any] = {
        "taskId": task_id,
        "status": status,
        "hash": f"{task_id % 256:02x}/{task_id * 7919 % 16**6:06x}",
        "name": f"ALIGN ({task_id})",
        "process": f"PROC_{task_id % 7}",
        "tag": f"sample{task_id}",
        "workdir": f"s3://bench/work/{task_id:08x}",
        "cpus": 2,
        "memory": 4294967296,
        "attempt": 1,
        "exit": 2147483647,
        "submit": "2026-12-05T08:00:01.123Z",
        "script": "salmon quant -i index -l A -1 r1.fq -2 r2.fq -o out " * 4,
        "env": "PATH=/usr/bin",
        "executor": "awsbatch",
    }
    if status != "NEW":
        task["nativeId"] = str(uuid.uuid5(uuid.NAMESPACE_OID, str(task_id)))
    if status in ("RUNNING", "COMPLETED"):
        task.update(start="2026-12-05T08:01Z", machineType="m5.large", cloudZone="us-east-1a")
    if status == "COMPLETED":
        task.update(
            exit=0,
            complete="2026-12-05T08:09:30Z",
            duration=509000,
            realtime=480000 + task_id % 1000,
            pcpu=180.5,
            peakRss=2147483648,
            rchar=10**9,
            wchar=10**8,
        )
    return task


def progress_body(tasks: list[dict[str, Any]], instant: int) -> dict[str, Any]:
    return {
        "tasks": tasks,
        "progress": {"running": 0, "peakRunning": 100, "loadCpus": 200, "processes": []},
        "instant": instant,
    }


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    return f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"


# --- the server process -------------------------------------------------------------------


def serve(database_url: str, data_dir: str, port: int) -> None:
    import uvicorn

    from batchforge.server.app import create_app

    settings = Settings(data_dir=Path(data_dir), database_url=database_url, aws_mode="aws")
    ctx = build_context(settings)
    uvicorn.run(create_app(ctx), host="127.0.0.1", port=port, log_level="warning")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(database_url: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", database_url, str(data_dir), str(port)]
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/service-info", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start")


# --- set-up ----------------------------------------------------------------------------------


def make_runs(ctx: Any, workspace_id: int, n: int) -> list[tuple[str, str]]:
    """``n`` launched-run rows with their run tokens: (run id, token)."""
    runs = []
    with ctx.db.transaction() as session:
        for _ in range(n):
            run_id = new_id()
            session.add(
                models.Run(
                    id=run_id,
                    workspace_id=workspace_id,
                    region="us-east-1",
                    run_name=f"bench-{run_id.lower()}",
                    repository="https://github.com/nf-core/rnaseq",
                    work_dir="s3://bench/work",
                    session_id=str(uuid.uuid4()),
                    status="RUNNING",
                    submit_state="submitted",
                    job_name=f"bf-{run_id}",
                    job_queue="head",
                    user_name="admin",
                    trace_state="begun",
                )
            )
            runs.append(run_id)
    return [(run_id, run_tokens.issue(ctx, run_id)) for run_id in runs]


def ingest_one_run(url: str, run_id: str, token: str) -> None:
    bodies = []
    instant = 1_765_000_000_000
    for status in ("SUBMITTED", "RUNNING", "COMPLETED"):
        for start in range(1, BIG_RUN_TASKS + 1, TASKS_PER_REQUEST):
            tasks = [snapshot(i, status) for i in range(start, start + TASKS_PER_REQUEST)]
            instant += 1000
            bodies.append(progress_body(tasks, instant))
    with httpx.Client(base_url=url, headers=basic(token), timeout=60) as client:
        started = time.perf_counter()
        for body in bodies:
            answer = client.put(f"/trace/{run_id}/progress", json=body)
            assert answer.status_code == 200, answer.text
        took = time.perf_counter() - started
    print(
        f"  one run: {len(bodies)} requests x {TASKS_PER_REQUEST} tasks "
        f"({BIG_RUN_TASKS:,} tasks x 3 statuses) in {took:.1f} s = "
        f"{len(bodies) / took:.0f} requests/s, {len(bodies) * TASKS_PER_REQUEST / took:,.0f} "
        "task snapshots/s"
    )


def ingest_many_runs(url: str, runs: list[tuple[str, str]]) -> None:
    def one(run: tuple[str, str]) -> float:
        run_id, token = run
        waits = []
        with httpx.Client(base_url=url, headers=basic(token), timeout=120) as client:
            for k in range(REQUESTS_PER_CONCURRENT_RUN):
                first = k * TASKS_PER_REQUEST + 1
                tasks = [snapshot(i, "RUNNING") for i in range(first, first + TASKS_PER_REQUEST)]
                began = time.perf_counter()
                answer = client.put(
                    f"/trace/{run_id}/progress", json=progress_body(tasks, 1_765_000_000_000 + k)
                )
                waits.append(time.perf_counter() - began)
                assert answer.status_code == 200, answer.text
        return max(waits)

    started = time.perf_counter()
    with ThreadPoolExecutor(len(runs)) as pool:
        worst = max(pool.map(one, runs))
    took = time.perf_counter() - started
    total = len(runs) * REQUESTS_PER_CONCURRENT_RUN
    print(
        f"  {len(runs)} runs at once: {total} requests in {took:.1f} s = {total / took:.0f} "
        f"requests/s ({total * TASKS_PER_REQUEST / took:,.0f} task snapshots/s); slowest "
        f"request {worst:.2f} s"
    )


def statements_per_request(ctx: Any, run_id: str, token: str) -> None:
    from fastapi.testclient import TestClient

    from batchforge.server.app import create_app

    seen: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(statement.lstrip().split(None, 1)[0].upper())

    with TestClient(create_app(ctx)) as client:
        for label, status in (("100 new tasks", "NEW"), ("100 updated tasks", "RUNNING")):
            tasks = [snapshot(i, status) for i in range(1, TASKS_PER_REQUEST + 1)]
            body = progress_body(tasks, 1_765_000_000_000 + len(label))
            event.listen(ctx.db.engine, "before_cursor_execute", count)
            answer = client.put(f"/trace/{run_id}/progress", json=body, headers=basic(token))
            event.remove(ctx.db.engine, "before_cursor_execute", count)
            assert answer.status_code == 200, answer.text
            kinds = {k: seen.count(k) for k in sorted(set(seen))}
            print(f"  statements for a progress of {label}: {len(seen)} {kinds}")
            seen.clear()


def fill_big_run(ctx: Any, run_id: str, token: str) -> None:
    """100,000 tasks through the service (in-process, to save the HTTP time)."""
    from batchforge.services import accounts, trace

    principal = accounts.authenticate(ctx, token)
    started = time.perf_counter()
    for start in range(1, READ_TASKS + 1, TASKS_PER_REQUEST):
        tasks = [snapshot(i, "COMPLETED") for i in range(start, start + TASKS_PER_REQUEST)]
        trace.progress(ctx, principal, run_id, None, progress_body(tasks, 1_765_000_000_000))
    if ctx.db.is_postgres:  # what autovacuum's analyze does soon after such a burst
        with ctx.db.transaction() as session:
            session.execute(text("ANALYZE run_task"))
    print(f"  (filled {READ_TASKS:,} tasks in {time.perf_counter() - started:.0f} s)")


def reads(url: str, admin_token: str, big_run: str, small_run: str) -> None:
    paths = {
        f"/progress ({READ_TASKS:,} tasks)": f"/workflow/{big_run}/progress",
        "/progress (100 tasks)": f"/workflow/{small_run}/progress",
        "/tasks first page (50)": f"/workflow/{big_run}/tasks?max=50",
        "/tasks sorted by realtime desc":
            f"/workflow/{big_run}/tasks?max=50&sortBy=realtime&sortDir=desc",
        "/tasks page at offset 90,000": f"/workflow/{big_run}/tasks?max=50&offset=90000",
        "/tasks search 'sample4242'": f"/workflow/{big_run}/tasks?max=50&search=sample4242",
        "/task/{taskId}": f"/workflow/{big_run}/task/54321",
    }  # fmt: skip
    headers = {"Authorization": f"Bearer {admin_token}"}
    samples: dict[str, list[float]] = {label: [] for label in paths}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        for path in paths.values():
            assert client.get(path).status_code == 200, client.get(path).text
        # Round-robin, so that the load of a shared machine weighs on every path alike.
        for _ in range(READ_SAMPLES):
            for label, path in paths.items():
                began = time.perf_counter()
                answer = client.get(path)
                samples[label].append(time.perf_counter() - began)
                assert answer.status_code == 200
    for label, taken in samples.items():
        print(f"  {label:38s} {percentiles(taken)}")


def run(database_url: str, label: str) -> None:
    print(f"--- {label} ---", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        settings = Settings(data_dir=data_dir, database_url=database_url, aws_mode="aws")
        ctx = build_context(settings)
        boot = bootstrap_admin(ctx)
        assert boot.token is not None
        runs = make_runs(ctx, boot.workspace_id, CONCURRENT_RUNS + 4)
        big, read_run, small, counted = runs[0], runs[1], runs[2], runs[3]
        statements_per_request(ctx, *counted)
        server, url = start_server(database_url, data_dir)
        try:
            ingest_one_run(url, *big)
            headers = {"Authorization": f"Bearer {boot.token}"}
            load = httpx.get(
                f"{url}/workflow/{big[0]}/progress", headers=headers, timeout=120
            ).json()
            done = load["progress"]["workflowProgress"]["succeeded"]
            print(f"  progress read back: {done:,} succeeded (expected {BIG_RUN_TASKS:,})")
            assert done == BIG_RUN_TASKS
            ingest_many_runs(url, runs[4:])
            fill_big_run(ctx, *read_run)
            tasks = [snapshot(i, "COMPLETED") for i in range(1, 101)]
            httpx.put(f"{url}/trace/{small[0]}/progress", headers=basic(small[1]),
                      json=progress_body(tasks, 1), timeout=60)  # fmt: skip
            reads(url, boot.token, read_run[0], small[0])
        finally:
            server.terminate()
            server.wait(30)
            ctx.db.dispose()


def postgres_url(base: str) -> tuple[str, Any]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return url.render_as_string(hide_password=False), drop


def main() -> None:
    if "--postgres-only" not in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{tmp}/bench.db", "SQLite")
    base = os.environ.get("BATCHFORGE_BENCH_DATABASE_URL") or os.environ.get(
        "BATCHFORGE_TEST_DATABASE_URL"
    )
    if base:
        url, drop = postgres_url(base)
        try:
            run(url, "PostgreSQL")
        finally:
            drop()
    else:
        print("(PostgreSQL: set BATCHFORGE_TEST_DATABASE_URL to measure it too)")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
