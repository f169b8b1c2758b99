"""Accounts tests: the app served by uvicorn on loopback, requests over real HTTP.

``app_ctx`` and ``server`` are the authorisation tests' (the real context without the IAM test
layer: these tests make no AWS call).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.authz.conftest import TIMEOUT, app_ctx, server

__all__ = ["app_ctx", "server"]  # the real context without the IAM layer; uvicorn on loopback


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
