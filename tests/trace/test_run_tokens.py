"""Run tokens and the two Authorization forms (Bearer, nf-tower's Basic '@token:')."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import Unauthorized
from batchforge.services import run_tokens
from batchforge.services.context import AppContext
from tests.trace.conftest import basic, bearer, make_run


def test_user_token_works_as_bearer_and_as_basic(http: TestClient, admin: tuple[str, int]):
    """nf-tower sends Basic base64('@token:' + token) for a non-JWT token (TowerClient
    setAuthToken, nf-tower 1.9.3); every route accepts it like Bearer."""
    token, _ = admin
    assert http.get("/user-info", headers=bearer(token)).status_code == 200
    assert http.get("/user-info", headers=basic(token)).status_code == 200
    assert http.get("/user-info", headers=basic(token + "x")).status_code == 401


def test_malformed_basic_is_401_naming_the_form(http: TestClient, admin: tuple[str, int]):
    token, _ = admin
    wrong_user = base64.b64encode(f"admin:{token}".encode()).decode()
    for value in ("Basic !!!notbase64", f"Basic {wrong_user}", "Basic "):
        answer = http.get("/user-info", headers={"Authorization": value})
        assert answer.status_code == 401, value
        assert "Basic" in answer.json()["message"] or "token" in answer.json()["message"]


def test_run_token_is_stored_hashed_and_refused_outside_the_trace(
    app_ctx: AppContext, http: TestClient, admin: tuple[str, int]
):
    _, workspace_id = admin
    run_id = make_run(app_ctx, workspace_id)
    token = run_tokens.issue(app_ctx, run_id)
    assert token.startswith(run_tokens.PREFIX)
    with app_ctx.db.transaction() as session:
        stored = session.scalars(select(models.RunToken.token_sha256)).all()
    assert token not in stored and len(stored) == 1
    for headers in (bearer(token), basic(token)):
        answer = http.get("/workflow", headers=headers)
        assert answer.status_code == 403
        assert "run token" in answer.json()["message"]


def test_reissue_replaces_and_revoke_ends_after_grace(app_ctx: AppContext, admin: tuple[str, int]):
    _, workspace_id = admin
    run_id = make_run(app_ctx, workspace_id)
    first = run_tokens.issue(app_ctx, run_id)
    second = run_tokens.issue(app_ctx, run_id)
    assert run_tokens.authenticate(app_ctx, second).run_id == run_id
    with pytest.raises(Unauthorized):  # replaced
        run_tokens.authenticate(app_ctx, first)
    run_tokens.revoke(app_ctx, run_id)  # grace: still valid for a late complete
    assert run_tokens.authenticate(app_ctx, second).workspace_id == workspace_id
    run_tokens.revoke(app_ctx, run_id, grace=timedelta(0))
    with pytest.raises(Unauthorized, match="expired"):
        run_tokens.authenticate(app_ctx, second)


def test_token_of_a_run_over_for_longer_than_the_grace_is_refused(
    app_ctx: AppContext, admin: tuple[str, int]
):
    """Even if nobody revoked it: the run's end decides."""
    _, workspace_id = admin
    run_id = make_run(app_ctx, workspace_id)
    token = run_tokens.issue(app_ctx, run_id)
    with app_ctx.db.transaction() as session:
        session.execute(
            update(models.Run)
            .where(models.Run.id == run_id)
            .values(active=False, status="SUCCEEDED", complete=utcnow() - timedelta(minutes=1))
        )
    assert run_tokens.authenticate(app_ctx, token).run_id == run_id  # within the grace
    with app_ctx.db.transaction() as session:
        session.execute(
            update(models.Run)
            .where(models.Run.id == run_id)
            .values(complete=utcnow() - run_tokens.GRACE - timedelta(seconds=1))
        )
    with pytest.raises(Unauthorized, match="expired"):
        run_tokens.authenticate(app_ctx, token)
