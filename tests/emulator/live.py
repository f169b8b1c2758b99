"""Fixtures for tests whose head jobs report to the server: the API on a real loopback port
that is also the server's public URL (the head job's ``TOWER_API_ENDPOINT``).

Import them into a test module (``port``, ``settings``, ``server``); ``settings`` then replaces
the root one for that module.  Without a reachable server a head job with a trace token aborts,
as Nextflow does when ``/trace/create`` cannot be reached (nf-tower 1.9.3 onFlowCreate).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from batchforge.local_aws import free_port
from batchforge.server.app import create_app
from batchforge.services.context import AppContext
from batchforge.settings import Settings


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, port: int) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        public_url=f"http://127.0.0.1:{port}",
    )


@pytest.fixture
def server(app_ctx: AppContext, port: int) -> Iterator[str]:
    """The API on its public URL's port (uvicorn in a thread), where head jobs reach it."""
    config = uvicorn.Config(create_app(app_ctx), host="127.0.0.1", port=port, log_level="error")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 180  # waits on the server; a loaded CI machine is slow
    while not instance.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert instance.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)
