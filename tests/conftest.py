"""Shared fixtures.

- ``local_aws``: one emulator process per test session, over HTTP (never in-process mocks).
  ``aws`` resets it first: a test that creates or counts AWS resources asks for ``aws`` and
  starts on a fresh account.  A reset costs ~0.5 s (batchforge.emulator.iam_policies keeps
  it from rebuilding AWS's managed IAM policies in every partition), so tests that leave
  nothing behind that another test could see (STS calls, validation errors) use
  ``local_aws`` through ``app_ctx`` alone.
- ``database_url``: every store-backed test runs on SQLite and, when
  ``BATCHFORGE_TEST_DATABASE_URL`` is set (CI sets it), on PostgreSQL in a schema of its own.
- ``app_ctx`` / ``api``: the real start-up path and the typed client over the ASGI app.
  Every AWS call the product makes through ``app_ctx`` is IAM-enforced against the calling
  principal's policies (tests/iamrules.py; ``iam_rules`` gives the layer, e.g. its denials).
  ``BATCHFORGE_TEST_IAM=off`` turns that off (to tell an enforcement failure from another).
  AWS Batch's name rules are enforced too (``batch_names``, tests/awsrules.py).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from batchforge import local_aws as local_aws_module
from batchforge.aws.recorder import CallRecorder
from batchforge.client import BatchforgeClient
from batchforge.db import migrate
from batchforge.runtime import build_context
from batchforge.services.accounts import bootstrap_admin
from batchforge.services.context import AppContext
from batchforge.settings import Settings
from tests.awsrules import BatchNameRules
from tests.iamrules import IamRules

POSTGRES_URL = os.environ.get("BATCHFORGE_TEST_DATABASE_URL")
REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def local_aws() -> Iterator[local_aws_module.LocalAws]:
    emulator = local_aws_module.start()
    yield emulator
    emulator.stop()


@pytest.fixture
def aws(local_aws: local_aws_module.LocalAws) -> local_aws_module.LocalAws:
    """The emulator, reset to a fresh seeded account for this test."""
    local_aws.reset()
    return local_aws


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'batchforge.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need BATCHFORGE_TEST_DATABASE_URL")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def recorder() -> CallRecorder:
    return CallRecorder()


@pytest.fixture
def iam_rules(local_aws: local_aws_module.LocalAws) -> IamRules:
    """IAM enforcement of the product's AWS calls (installed by ``app_ctx``)."""
    return IamRules(local_aws)


@pytest.fixture
def batch_names() -> BatchNameRules:
    """AWS Batch's name rules on the product's calls (installed by ``app_ctx``)."""
    return BatchNameRules()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head once per session (migrating costs 0.2-0.5 s)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "batchforge.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def app_ctx(
    settings: Settings,
    local_aws: local_aws_module.LocalAws,
    recorder: CallRecorder,
    iam_rules: IamRules,
    batch_names: BatchNameRules,
    sqlite_template: Path,
) -> Iterator[AppContext]:
    """The real start-up path on ``settings``.  A SQLite database that does not exist yet
    starts as a copy of the migrated template (start-up still runs the migrations: a no-op at
    head); tests of the migrations themselves use ``database_url`` without ``app_ctx``."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        target = Path(url.database)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sqlite_template, target)
    ctx = build_context(settings, emulator_url=local_aws.url, recorder=recorder)
    if os.environ.get("BATCHFORGE_TEST_IAM", "on") != "off":
        ctx.aws.event_hooks.extend(iam_rules.hooks())
    ctx.aws.event_hooks.extend(batch_names.hooks())
    yield ctx
    ctx.db.dispose()


@pytest.fixture
def admin_token(app_ctx: AppContext) -> str:
    token = bootstrap_admin(app_ctx).token
    assert token is not None
    return token


def make_client(ctx: AppContext, token: str | None, workspace_id: int | None = None):
    from fastapi.testclient import TestClient

    from batchforge.server.app import create_app

    http = TestClient(create_app(ctx), base_url="http://batchforge.test")
    return BatchforgeClient("http://batchforge.test", token, workspace_id, http=http)


@pytest.fixture
def api(app_ctx: AppContext, admin_token: str) -> Iterator[BatchforgeClient]:
    with make_client(app_ctx, admin_token) as client:
        yield client


@pytest.fixture(autouse=True)
def _fresh_definition_cache() -> Iterator[None]:
    """No test sees head job definition ARNs cached by another (the emulator may be reset)."""
    from batchforge.launch import jobdefs

    jobdefs.clear_cache()
    yield
    jobdefs.clear_cache()
