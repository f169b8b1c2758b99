"""``/tokens`` (Seqera's personal access tokens) over HTTP: shown once, hashed at rest, last
use recorded, each user's own; bad names a 400 naming ``name`` with nothing written."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import select

from batchforge.client import ApiError, BatchforgeClient
from batchforge.db import models
from batchforge.server.app import create_app
from batchforge.services import accounts
from batchforge.services.context import AppContext
from tests.cli.conftest import serve
from tests.conftest import make_client


def _stored(ctx: AppContext) -> list[tuple[str, str]]:
    with ctx.db.transaction() as session:
        rows = session.execute(select(models.ApiToken.name, models.ApiToken.token_sha256))
        return sorted((name, digest) for name, digest in rows)


def test_a_token_is_shown_once_hashed_at_rest_and_records_its_last_use(
    api: BatchforgeClient, app_ctx: AppContext
) -> None:
    response = api.request("POST", "/tokens", json={"name": "laptop"}, workspace=False)
    body = response.json()
    assert set(body) == {"accessKey", "token"}
    value, token = body["accessKey"], body["token"]
    assert token["name"] == "laptop" and token["dateCreated"] and token["lastUsed"] is None
    assert (("laptop", accounts.hash_token(value))) in _stored(app_ctx)
    assert all(value not in digest for _, digest in _stored(app_ctx))

    listed = api.request("GET", "/tokens", workspace=False)
    assert value not in listed.text
    assert {t["name"] for t in listed.json()["tokens"]} == {"admin", "laptop"}
    assert set(listed.json()["tokens"][0]) <= {"id", "name", "lastUsed", "dateCreated"}

    with make_client(app_ctx, value) as laptop:
        assert laptop.user_info().user.userName == "admin"
        used = {t.name: t for t in laptop.list_tokens()}["laptop"]
    assert used.lastUsed is not None and used.lastUsed >= used.dateCreated  # type: ignore[operator]

    api.delete_token(token["id"])
    with make_client(app_ctx, value) as laptop, pytest.raises(ApiError) as gone:
        laptop.user_info()
    assert gone.value.status == 401
    assert [t.name for t in api.list_tokens()] == ["admin"]


@pytest.mark.parametrize(
    ("name", "status"),
    [("", 400), ("has space", 400), ("x" * 51, 400), ("naïve", 400), ("admin", 409)],
)
def test_bad_or_duplicate_names_are_refused_naming_the_field_and_write_nothing(
    api: BatchforgeClient, app_ctx: AppContext, name: str, status: int
) -> None:
    before = _stored(app_ctx)
    with pytest.raises(ApiError) as refused:
        api.create_token(name)
    assert refused.value.status == status and refused.value.field == "name"
    assert "name" in refused.value.message
    assert _stored(app_ctx) == before


def test_users_see_and_delete_only_their_own_tokens(
    api: BatchforgeClient, app_ctx: AppContext
) -> None:
    admin_tokens = api.list_tokens()
    _, other_token = accounts.create_user(app_ctx, "other")
    with make_client(app_ctx, other_token) as other:
        assert [t.name for t in other.list_tokens()] == ["default"]
        with pytest.raises(ApiError) as foreign:
            other.delete_token(admin_tokens[0].id)  # type: ignore[arg-type]
        assert foreign.value.status == 404
        other.create_token("second")
        other.delete_all_tokens()
        with pytest.raises(ApiError) as ended:
            other.list_tokens()
        assert ended.value.status == 401
    assert api.list_tokens() == admin_tokens  # the admin's are untouched


def test_concurrent_creates_of_one_name_make_one_token(
    app_ctx: AppContext, admin_token: str
) -> None:
    """Six requests at once over real HTTP: one token, five 409s (the user's row is locked
    before the name is checked)."""
    with serve(create_app(app_ctx)) as url:

        def create(_: int) -> int:
            headers = {"Authorization": f"Bearer {admin_token}"}
            body = {"name": "race"}
            return httpx.post(f"{url}/tokens", json=body, headers=headers, timeout=120).status_code

        with ThreadPoolExecutor(6) as pool:
            statuses = sorted(pool.map(create, range(6)))
    assert statuses == [200, 409, 409, 409, 409, 409]
    assert [name for name, _ in _stored(app_ctx)].count("race") == 1
