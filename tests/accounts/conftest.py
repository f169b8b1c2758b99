"""Accounts tests: the app served by uvicorn on loopback, requests over real HTTP.

``app_ctx`` here is the real context without the IAM test layer: these tests make no AWS call.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from batchforge.aws.recorder import CallRecorder
from batchforge.local_aws import LocalAws
from batchforge.runtime import build_context
from batchforge.server.app import create_app
from batchforge.services.context import AppContext
from batchforge.settings import Settings
from tests.cli.conftest import serve

TIMEOUT = httpx.Timeout(120.0)  # a busy 2-core machine: generous, never a speed test


@pytest.fixture
def app_ctx(
    settings: Settings, local_aws: LocalAws, recorder: CallRecorder
) -> Iterator[AppContext]:
    ctx = build_context(settings, emulator_url=local_aws.url, recorder=recorder)
    yield ctx
    ctx.db.dispose()


@pytest.fixture
def server(app_ctx: AppContext, admin_token: str) -> Iterator[str]:
    with serve(create_app(app_ctx), log_level="warning") as url:
        yield url


class As:
    """Requests as one user (its token) to the served app."""

    def __init__(self, base: str, token: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=TIMEOUT)
        self.token = token

    def __call__(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.request(method, path, headers=headers, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self(method, path, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None


@pytest.fixture
def admin(server: str, admin_token: str) -> Iterator[As]:
    caller = As(server, admin_token)
    yield caller
    caller.http.close()


@pytest.fixture
def user_as(server: str) -> Iterator[Any]:
    made: list[As] = []

    def make(token: str) -> As:
        made.append(As(server, token))
        return made[-1]

    yield make
    for caller in made:
        caller.http.close()
