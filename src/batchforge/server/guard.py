"""The input guard: every request's path, query, the headers we read and its JSON body are
checked against :mod:`batchforge.schemas.text` before any route runs, so no route can store or
echo text that breaks later reads, and no id overflows the database.

An ASGI middleware rather than per-route types, so that routes added later are covered too.
It reads the app's own OpenAPI document to know, for the operation a request is for, which
path and query parameters are integers and whether the body is JSON.  Web UI form fields are
checked by the UI's form reader (:func:`batchforge.web.core.checked_form`) with the same rules.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from batchforge.errors import InvalidInput
from batchforge.schemas import text

log = logging.getLogger("batchforge.server")
MAX_JSON_BODY = 8 * text.MAX_JSON_TEXT
READ_HEADERS = (b"authorization", b"range", b"x-csrf-token", b"origin", b"referer")
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SANITISED_BODIES = ("/trace/",)
"""Paths whose JSON bodies are not refused for their text: Nextflow's trace reports.  The
current nf-tower plugin aborts the run on any non-2xx progress, so the trace parser
(:mod:`batchforge.runs.trace_parse`) replaces NUL and lone surrogates by U+FFFD instead.
Their size limit, path, query and headers are checked as everywhere."""


@dataclass(frozen=True)
class _Operation:
    method: str
    pattern: re.Pattern[str]
    integers: frozenset[str]  # path and query parameters typed integer
    json_body: bool


def _is_integer(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "integer":
        return True
    return any(_is_integer(option) for option in schema.get("anyOf", []))


def _pattern(template: str, greedy_tail: bool) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", template)
    regex = ""
    for index, part in enumerate(parts):
        if index % 2 == 0:
            regex += re.escape(part)
        else:
            tail = greedy_tail and index == len(parts) - 2 and parts[-1] == ""
            regex += f"(?P<{part}>.+)" if tail else f"(?P<{part}>[^/]+)"
    return re.compile(regex + "$")


def _operations(spec: dict[str, Any]) -> list[_Operation]:
    """Literal paths before templated ones, then templates with a greedy last parameter,
    longest first."""
    found: list[tuple[int, _Operation]] = []
    for greedy in (False, True):
        for template, item in spec.get("paths", {}).items():
            for method, op in item.items():
                if not isinstance(op, dict):
                    continue
                integers = frozenset(
                    param["name"]
                    for param in op.get("parameters", [])
                    if param.get("in") in ("path", "query") and _is_integer(param.get("schema", {}))
                )
                content = op.get("requestBody", {}).get("content", {})
                operation = _Operation(
                    method.upper(),
                    _pattern(template, greedy),
                    integers,
                    any("json" in kind for kind in content),
                )
                # Greedy patterns match any deeper path: the longest template is tried
                # first, so /data-links/{id}/content/{filePath} wins over /data-links/{id}.
                rank = 10_000 - len(template) if greedy else template.count("{")
                found.append((rank, operation))
    found.sort(key=lambda pair: pair[0])
    return [operation for _, operation in found]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _json_content(content_type: str | None, operation: _Operation | None) -> bool:
    """Whether the route will parse the body as JSON: only operations that declare a JSON
    body (a streamed upload of a ``.json`` file is never buffered or parsed here)."""
    if operation is None or not operation.json_body:
        return False
    if content_type is None or not content_type.strip():
        return True
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith("application/") and (kind.endswith("/json") or kind.endswith("+json"))


_Signature = tuple[Any, ...]
_BUILT: dict[_Signature, list[_Operation]] = {}
"""Operation tables by the routes they were built from: rendering the OpenAPI document takes
seconds, and every app :func:`batchforge.server.app.create_app` makes has the same routes."""


def _route_signature(routes: Any, prefix: str = "") -> _Signature:
    """What the OpenAPI document is rendered from: each documented route's full path, methods
    and endpoint (the function object itself, so two endpoints with one name never match and,
    held by the key, its identity is never reused); an included router (FastAPI keeps it as one
    entry holding the router) is walked with its prefix.  Undocumented routes (FastAPI's own
    /docs, mounts) are left out: they are made anew for every app."""
    signature: list[Any] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            inner = prefix + str(getattr(context, "prefix", ""))
            shown = getattr(context, "include_in_schema", True)
            signature.append(("include", inner, shown, _route_signature(included.routes, inner)))
            continue
        endpoint = getattr(route, "endpoint", None)
        if endpoint is None or not getattr(route, "include_in_schema", False):
            continue
        path = prefix + str(getattr(route, "path", ""))
        methods = tuple(sorted(getattr(route, "methods", None) or ()))
        signature.append((path, methods, endpoint))
    return tuple(signature)


def _operations_of(api: FastAPI) -> list[_Operation]:
    """The app's operation table, built once per distinct set of routes."""
    signature = _route_signature(api.routes)
    built = _BUILT.get(signature)
    if built is None:
        try:
            built = _operations(api.openapi())
        except Exception:  # a route whose schema cannot be rendered: text rules still hold
            log.exception("input guard: the OpenAPI document could not be built")
            return []
        _BUILT[signature] = built
    return built


class InputGuard:
    """Refuses, with a 400 naming the field, any request carrying input no route may accept."""

    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app = app
        self.api = api
        self._operations: list[_Operation] | None = None

    def operation(self, method: str, path: str) -> tuple[_Operation | None, dict[str, str]]:
        """The OpenAPI operation ``method path`` is for, and its path parameters."""
        if self._operations is None:
            self._operations = _operations_of(self.api)
        for operation in self._operations:
            if operation.method != method:
                continue
            match = operation.pattern.match(path)
            if match:
                return operation, match.groupdict()
        return None, {}

    def check_target(self, scope: Scope) -> _Operation | None:
        """Path, query and headers; the matched operation."""
        path = scope.get("path", "")
        text.check_text(path, "path", text.MAX_PATH_TEXT)
        operation, params = self.operation(scope.get("method", "GET"), path)
        for name, value in params.items():
            if operation is not None and name in operation.integers:
                _check_number(value, name)
        if operation is None:
            for segment in path.split("/"):
                _check_number(segment, "path")
        query = scope.get("query_string", b"").decode("latin-1")
        for name, value in parse_qsl(query, keep_blank_values=True):
            text.check_text(name, name or "query", text.MAX_QUERY_TEXT)
            text.check_text(value, name, text.MAX_QUERY_TEXT)
            if operation is None or name in operation.integers or name in text.COUNT_PARAMETERS:
                _check_number(value, name)
        for header in READ_HEADERS:
            value = _header(scope, header)
            if value is not None:
                text.check_text(value, header.decode(), text.MAX_HEADER_TEXT)
        return operation

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            operation = self.check_target(scope)
            if scope.get("method") in _BODY_METHODS and _json_content(
                _header(scope, b"content-type"), operation
            ):
                body = await _read_body(receive)
                if not scope.get("path", "").startswith(SANITISED_BODIES):
                    _check_body(body)
                receive = _replay(body, receive)
        except InvalidInput as error:
            await JSONResponse(error.to_dict(), status_code=error.status)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _check_number(value: str, field: str) -> None:
    number = text.integer_text(value)
    if number is None:
        return
    if field in text.COUNT_PARAMETERS:
        text.check_count(number, field)
    else:
        text.check_integer(number, field)


def _check_body(body: bytes) -> None:
    if not body.strip():
        return
    try:
        document = json.loads(body)
    except RecursionError:
        raise InvalidInput(
            f"body: nested deeper than {text.MAX_DEPTH} levels", field="body"
        ) from None
    except ValueError:
        raise InvalidInput("The request body is not valid JSON.") from None
    text.check_json(document)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_JSON_BODY:
            raise InvalidInput(
                f"body: over the limit of {MAX_JSON_BODY:,} bytes for a JSON body", field="body"
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, original: Receive) -> Receive:
    """The body once, then the client's own messages (a disconnect when it goes away)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await original()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def install(app: FastAPI) -> None:
    """Put the guard in front of every route of ``app``."""
    app.add_middleware(InputGuard, api=app)
