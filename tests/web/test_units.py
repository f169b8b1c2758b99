"""The UI's pieces without a browser: field mapping, redirects, the sealed session cookie."""

from __future__ import annotations

import time

import pytest
from starlette.requests import Request
from starlette.responses import Response

from batchforge.crypto import SecretBox
from batchforge.errors import InvalidInput
from batchforge.web import session as web_session
from batchforge.web.core import safe_next
from batchforge.web.forms import FormState, form_field
from batchforge.web.render import format_duration, format_size


@pytest.mark.parametrize(
    ("api_field", "expected"),
    [
        ("computeEnv.config.forge.maxCpus", "maxCpus"),
        ("computeEnv.config.forge.subnets[1]", "subnets"),
        ("computeEnv.config.forge.efsId", "efs"),
        ("computeEnv.config.forge", None),  # a quota: above the form
        ("labelIds[0]", "labels"),
        ("credentials.keys", "accessKey"),
        (None, None),
    ],
)
def test_api_error_fields_map_to_form_fields(api_field: str | None, expected: str | None) -> None:
    known = ("maxCpus", "subnets", "efs", "labels", "accessKey")
    aliases = {"efsId": "efs", "labelIds": "labels", "credentials.keys": "accessKey"}
    assert form_field(api_field, known, aliases) == expected


def test_an_error_is_worded_for_the_field_it_sits_next_to() -> None:
    state = FormState()
    problem = InvalidInput(
        "computeEnv.config.forge.maxCpus: must be at least 1.",
        field="computeEnv.config.forge.maxCpus",
    )
    state.fail(problem, ["maxCpus"])
    assert state.errors == {"maxCpus": "Must be at least 1."} and not state.ok


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/ui/runs?status=RUNNING", "/ui/runs?status=RUNNING"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_sign_in_only_returns_to_local_pages(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


class _Ctx:
    def __init__(self, box: SecretBox):
        self.box = box
        self.settings = type("S", (), {"effective_public_url": "http://127.0.0.1:8000"})()


def _request(cookie: str | None) -> Request:
    headers = [(b"cookie", f"{web_session.COOKIE}={cookie}".encode())] if cookie else []
    return Request({"type": "http", "headers": headers, "scheme": "http", "path": "/"})


def _cookie_of(response: Response) -> str:
    header = response.headers["set-cookie"]
    value = header.split(";", 1)[0].split("=", 1)[1]
    return value.strip('"')


def test_the_session_cookie_is_sealed_and_expires() -> None:
    ctx = _Ctx(SecretBox(b"k" * 32))
    session = web_session.WebSession("c" * 43, "ab" * 32, int(time.time()) + 600)
    response = Response()
    web_session.write(ctx, _request(None), response, session)  # type: ignore[arg-type]
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=lax" in header and "secure" not in header
    value = _cookie_of(response)
    assert "ab" * 32 not in value
    assert web_session.read(ctx, _request(value)) == session  # type: ignore[arg-type]
    tampered = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    assert web_session.read(ctx, _request(tampered)) is None  # type: ignore[arg-type]
    other_key = _Ctx(SecretBox(b"o" * 32))
    assert web_session.read(other_key, _request(value)) is None  # type: ignore[arg-type]
    expired = web_session.WebSession(session.csrf, session.key, int(time.time()) - 1)
    response = Response()
    web_session.write(ctx, _request(None), response, expired)  # type: ignore[arg-type]
    assert web_session.read(ctx, _request(_cookie_of(response))) is None  # type: ignore[arg-type]


def test_csrf_tokens_must_match_the_session() -> None:
    session = web_session.WebSession.anonymous()
    web_session.check_csrf(session, session.csrf)
    for given in (None, "", session.csrf + "x"):
        with pytest.raises(web_session.CsrfRejected):
            web_session.check_csrf(session, given)
    with pytest.raises(web_session.CsrfRejected):
        web_session.check_csrf(None, session.csrf)


def test_sizes_and_durations_read_well() -> None:
    assert [format_size(n) for n in (0, 812, 2048, 5 * 1024**3)] == [
        "0 B",
        "812 B",
        "2.0 KB",
        "5.0 GB",
    ]
    assert [format_duration(ms) for ms in (1500, 63_000, 7_260_000)] == ["1.5s", "1m 3s", "2h 1m"]
