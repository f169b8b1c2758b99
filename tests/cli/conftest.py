"""A live API server (uvicorn in a thread, real HTTP on 127.0.0.1) for CLI tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn

from batchforge.local_aws import free_port
from batchforge.server.app import create_app
from batchforge.services.context import AppContext


@dataclass
class LiveServer:
    url: str
    token: str
    ctx: AppContext


@pytest.fixture
def live_server(app_ctx: AppContext, admin_token: str) -> Iterator[LiveServer]:
    port = free_port()
    config = uvicorn.Config(create_app(app_ctx), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    yield LiveServer(f"http://127.0.0.1:{port}", admin_token, app_ctx)
    server.should_exit = True
    thread.join(timeout=10)
