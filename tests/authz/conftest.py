"""Authorisation tests: one real server (uvicorn on loopback) per test, users with roles.

- ``app_ctx``: the real context over the emulator, without the IAM test layer (these tests
  are about workspace roles; the emulator accepts the fake keys they store).
- ``server``: the app served by uvicorn on 127.0.0.1; ``Caller`` sends real HTTP requests
  with a user's token.
- ``grant``: makes a user a participant of a workspace with a role, through the models and
  ``accounts.ensure_org_member`` (the way an organization admin adds one).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from batchforge.aws.recorder import CallRecorder
from batchforge.db import models
from batchforge.local_aws import LocalAws
from batchforge.runtime import build_context
from batchforge.server.app import create_app
from batchforge.services import accounts
from batchforge.services.context import AppContext
from batchforge.settings import Settings
from tests.cli.conftest import serve

# Each request may wait on a busy 2-core machine: generous, never a speed test.
TIMEOUT = httpx.Timeout(120.0)


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


@dataclass
class Caller:
    """A user sending real HTTP requests to the server, in ``workspace_id`` by default."""

    http: httpx.Client
    token: str
    workspace_id: int | None
    user_id: int

    def request(
        self, method: str, path: str, *, workspace: int | bool | None = True, **kwargs: Any
    ) -> httpx.Response:
        params = dict(kwargs.pop("params", {}) or {})
        if workspace is True:
            workspace = self.workspace_id
        if workspace not in (None, False):
            params["workspaceId"] = workspace
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.request(method, path, params=params, headers=headers, **kwargs)


@pytest.fixture
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=TIMEOUT) as client:
        yield client


def grant(ctx: AppContext, workspace_id: int, user_id: int, role: str) -> None:
    """Make ``user_id`` a direct participant of ``workspace_id`` with ``role``."""
    with ctx.db.transaction() as session:
        org_id = session.scalars(
            select(models.Workspace.org_id).where(models.Workspace.id == workspace_id)
        ).one()
        member_id = accounts.ensure_org_member(session, org_id, user_id)
        session.add(
            models.WorkspaceParticipant(workspace_id=workspace_id, member_id=member_id, role=role)
        )


def new_caller(
    ctx: AppContext, http: httpx.Client, workspace_id: int | None, role: str | None, name: str
) -> Caller:
    """A new user, a participant of ``workspace_id`` with ``role`` (none: not a participant)."""
    user_id, token = accounts.create_user(ctx, f"{name}-{uuid.uuid4().hex[:6]}")
    if workspace_id is not None and role is not None:
        grant(ctx, workspace_id, user_id, role)
    return Caller(http, token, workspace_id, user_id)
