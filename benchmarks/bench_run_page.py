"""The web UI's run page on a run of 100,000 tasks, over real HTTP to one server process.

Measured (p50/p99 over 50 requests each, signed in with the UI's session cookie): the whole
run page (status, cards, processes, the first task page, metrics), the page sorted by
duration, a deep page (offset 90,000), a search; the fragments the page's script polls while
a run is active (``/progress``, ``/tasks``); and a task's page.  The 100-task run shows that
the page's cost does not grow with the number of tasks.

Seeding and the server process come from ``bench_trace.py`` (tasks through the receiver's
service, nf-tower's snapshots).  Usage: .venv/bin/python benchmarks/bench_run_page.py
(BATCHFORGE_TEST_DATABASE_URL or BATCHFORGE_BENCH_DATABASE_URL also runs it on PostgreSQL)
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_trace as seed
from batchforge.runtime import build_context
from batchforge.services.accounts import bootstrap_admin
from batchforge.settings import Settings

SAMPLES = 50


def signed_in(url: str, token: str) -> httpx.Client:
    """A client holding the UI's session cookie (the sign-in form, with its CSRF token)."""
    client = httpx.Client(base_url=url, timeout=60)
    form = client.get("/ui/sign-in").text
    match = re.search(r'name="csrf-token" content="([^"]+)"', form)
    assert match, "no CSRF token on the sign-in page"
    answer = client.post("/ui/sign-in", data={"token": token, "csrf_token": match.group(1)})
    assert answer.status_code == 303, answer.text
    return client


def measure(client: httpx.Client, label: str, path: str, expect: str) -> None:
    first = client.get(path)
    assert first.status_code == 200 and expect in first.text, (path, first.status_code)
    samples = []
    for _ in range(SAMPLES):
        began = time.perf_counter()
        answer = client.get(path)
        samples.append(time.perf_counter() - began)
        assert answer.status_code == 200
    print(f"  {label:44s} {seed.percentiles(samples)}  ({len(first.content) // 1024} KB)")


def run(database_url: str, label: str) -> None:
    print(f"--- {label} ---", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        settings = Settings(data_dir=data_dir, database_url=database_url, aws_mode="aws")
        ctx = build_context(settings)
        boot = bootstrap_admin(ctx)
        assert boot.token is not None
        (big, big_token), (small, small_token) = seed.make_runs(ctx, boot.workspace_id, 2)
        seed.fill_big_run(ctx, big, big_token)
        server, url = seed.start_server(database_url, data_dir)
        try:
            tasks = [seed.snapshot(i, "COMPLETED") for i in range(1, 101)]
            httpx.put(
                f"{url}/trace/{small}/progress",
                headers=seed.basic(small_token),
                json=seed.progress_body(tasks, 1),
                timeout=60,
            ).raise_for_status()
            client = signed_in(url, boot.token)
            try:
                pages = {
                    f"run page ({seed.READ_TASKS:,} tasks)": (f"/ui/runs/{big}", "Tasks 1"),
                    "run page (100 tasks)": (f"/ui/runs/{small}", "Tasks 1"),
                    "run page sorted by duration, desc": (
                        f"/ui/runs/{big}?sort=duration&dir=desc",
                        "aria-sort",
                    ),
                    "run page at task offset 90,000": (
                        f"/ui/runs/{big}?offset=90000",
                        "Tasks 90001",
                    ),
                    "run page, search 'sample4242'": (
                        f"/ui/runs/{big}?search=sample4242",
                        "sample4242",
                    ),
                    "polled fragment: progress": (f"/ui/runs/{big}/progress", "run-progress"),
                    "polled fragment: task table": (f"/ui/runs/{big}/tasks", "run-tasks"),
                    "task page": (f"/ui/runs/{big}/tasks/54321", "Task 54321"),
                }
                for name, (path, expect) in pages.items():
                    measure(client, name, path, expect)
            finally:
                client.close()
        finally:
            server.terminate()
            server.wait(30)
            ctx.db.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", "SQLite")
    base = os.environ.get("BATCHFORGE_BENCH_DATABASE_URL") or os.environ.get(
        "BATCHFORGE_TEST_DATABASE_URL"
    )
    if base:
        url, drop = seed.postgres_url(base)
        try:
            run(url, "PostgreSQL")
        finally:
            drop()
    else:
        print("(PostgreSQL: set BATCHFORGE_TEST_DATABASE_URL to measure it too)")


if __name__ == "__main__":
    main()
