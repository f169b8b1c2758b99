"""The input rules (batchforge.schemas.text, applied by batchforge.server.guard): input that
cannot be stored or served is a 400 naming the field, before anything is written.

Why each rule: PostgreSQL refuses NUL in ``text``/``json`` ("invalid byte sequence for
encoding UTF8: 0x00"); a lone surrogate has no UTF-8 encoding, so a stored one breaks every
later read that serialises it (issue #16 item 2); ids are ``BIGINT`` (signed 64-bit), so
2^63 overflows the driver (SQLite: "Python int too large to convert to SQLite INTEGER";
PostgreSQL: NumericValueOutOfRange); a negative OFFSET is an error on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from batchforge.server.app import create_app
from batchforge.services.context import AppContext
from tests.runs.conftest import WriteCounter

HELLO = "https://github.com/nextflow-io/hello"
BIG = str(2**63)


@pytest.fixture
def http(app_ctx: AppContext, admin_token: str) -> Iterator[TestClient]:
    client = TestClient(
        create_app(app_ctx),
        base_url="http://batchforge.test",
        raise_server_exceptions=False,
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    with client:
        yield client


def _refused(response: httpx.Response, field: str | None, words: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "invalid-input"
    assert body.get("field") == field, body
    assert words in body["message"], body
    assert "Traceback" not in response.text


def _post_json(http: TestClient, path: str, raw: str) -> httpx.Response:
    return http.post(path, content=raw, headers={"content-type": "application/json"})


def test_body_text_that_cannot_be_stored_is_refused_naming_the_field_and_nothing_is_written(
    http: TestClient, app_ctx: AppContext
) -> None:
    writes = WriteCounter(app_ctx.db.engine)
    try:
        nul = _post_json(http, "/pipelines", '{"name": "p", "description": "a\\u0000b"}')
        nested = _post_json(
            http, "/pipelines", '{"name": "p", "launch": {"configText": "x\\ud800"}}'
        )
        listed = _post_json(http, "/pipelines", f'{{"name": "p", "labelIds": [1, {BIG}]}}')
        key = _post_json(http, "/pipelines", '{"name": "p", "\\udfff": 1}')
    finally:
        writes.close()
    _refused(nul, "description", "NUL")
    _refused(nested, "launch.configText", "surrogate")
    _refused(listed, "labelIds[1]", "64-bit")
    _refused(key, "\\udfff", "surrogate")  # the name is escaped: the answer is valid JSON
    assert writes.count == 0
    assert http.get("/pipelines").json()["pipelines"] == []


def test_numbers_past_64_bits_and_negative_paging_name_the_parameter(http: TestClient) -> None:
    _refused(http.get(f"/pipelines/{BIG}"), "pipelineId", "64-bit")
    _refused(http.delete(f"/labels/-{2**63 + 1}"), "labelId", "64-bit")
    _refused(http.get("/workflow", params={"workspaceId": BIG}), "workspaceId", "64-bit")
    _refused(http.get("/pipelines", params={"offset": "-1"}), "offset", "negative")
    _refused(http.get("/workflow", params={"max": "-5"}), "max", "negative")
    # A string id made of digits is only an unknown id.
    assert http.get(f"/credentials/{BIG}").status_code == 404
    assert http.get(f"/workflow/{BIG}").status_code == 404


def test_query_and_header_text_is_checked_too(http: TestClient) -> None:
    _refused(http.get("/pipelines", params={"search": "a\x00"}), "search", "NUL")
    _refused(http.get("/workflow", params={"search": "x" * 5000}), "search", "limit")
    region = http.get("/platforms/aws-batch", params={"credentialsId": "nope", "regionId": " "})
    _refused(region, "regionId", "region")
    auth = http.get("/pipelines", headers={"Authorization": "Bearer " + "a" * 10_000})
    _refused(auth, "authorization", "limit")


def test_malformed_json_is_a_400_never_a_500(http: TestClient) -> None:
    deep = http.post(
        "/pipelines",
        content=b"[" * 100_000 + b"]" * 100_000,
        headers={"content-type": "application/json"},
    )
    _refused(deep, "body", "nested")
    _refused(_post_json(http, "/pipelines", '{"name": NaN}'), "name", "finite")
    broken = _post_json(http, "/pipelines", '{"name": ')
    assert broken.status_code == 400 and broken.json()["code"] == "invalid-input"
    # Without a content type FastAPI still parses a JSON body: checked all the same.
    bare = http.post("/pipelines", content=b'{"name": "a\\u0000"}', headers={"content-type": ""})
    _refused(bare, "name", "NUL")


def test_a_streamed_upload_is_not_read_by_the_guard(http: TestClient) -> None:
    """``PUT /data-links/{id}/content/{path}`` streams the file: a ``.json`` file with NUL
    escapes is content, not input to check (the unknown link answers 404)."""
    response = http.put(
        "/data-links/v1-nope/content/data.json",
        content=b'{"a": "\\u0000"}' * 1000,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 404, response.text


def test_apps_with_different_routes_never_share_an_operation_table() -> None:
    """The guard builds its operation table once per set of routes (rendering the OpenAPI
    document costs seconds per app).  Two apps whose routers differ only in one parameter's
    type must each be checked by their own table: a shared one would let an integer overflow
    through, or refuse a text id."""
    from fastapi import APIRouter, FastAPI

    from batchforge.server.guard import InputGuard

    def app_with(kind: type) -> TestClient:
        router = APIRouter()

        def read(thing_id: int) -> dict[str, str]:
            return {"id": str(thing_id)}

        read.__annotations__ = {"thing_id": kind, "return": dict[str, str]}
        router.add_api_route("/things/{thing_id}", read, methods=["GET"])

        api = FastAPI()
        api.include_router(router, prefix="/v1")
        return TestClient(InputGuard(api, api), raise_server_exceptions=False)

    as_int, as_text = app_with(int), app_with(str)
    assert as_int.get(f"/v1/things/{BIG}").json()["field"] == "thing_id"
    assert as_text.get(f"/v1/things/{BIG}").json() == {"id": BIG}
    assert as_int.get(f"/v1/things/{BIG}").status_code == 400
