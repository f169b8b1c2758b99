"""A live API server (uvicorn in a thread, real HTTP on 127.0.0.1) for CLI tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

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


@contextmanager
def serve(app: Any, log_level: str = "error") -> Iterator[str]:
    """``app`` served by uvicorn in a thread on a free loopback port; yields its URL.

    Waits on the server, not the clock: until it has started or its thread has ended (the
    port taken by someone else between :func:`free_port` and the bind: then once more on
    another port), with a generous limit for a loaded CI machine."""
    for _ in range(3):
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 180
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if server.started:
            break
        server.should_exit = True
        thread.join(timeout=30)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def live_server(app_ctx: AppContext, admin_token: str) -> Iterator[LiveServer]:
    with serve(create_app(app_ctx)) as url:
        yield LiveServer(url, admin_token, app_ctx)
