"""Hostile requests generated from the app's own OpenAPI document (deterministic, seeded).

For every operation: hostile values in each path parameter (numbers past 64 bits, NUL,
encoded surrogates and invalid UTF-8, traversal, blanks, 10 KB), in each query parameter
(the same, and a 60 KB string), in the headers we read, and in the JSON body (malformed,
wrong types at the root and per field, NUL, surrogates, 100 KB and 1 MB strings, numbers
past 64 bits, non-finite numbers, deep nesting): every body field gets a NUL, a 100 KB string
or a number past 64 bits, and a seeded sample of fields gets the whole set.  Each case
changes one thing of an otherwise plausible request, so it reaches as deep into the route
as it can.

Used by ``tests/server/test_hostile_sweep.py`` and ``benchmarks/bench_hostile.py``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

BIG = [str(2**63), str(2**64), str(-(2**63) - 1), "9" * 40]
PATH_VALUES = [
    *BIG,
    "%00",
    "a%00b",
    "%ED%A0%80",  # a UTF-16 surrogate, UTF-8 encoded: not valid UTF-8
    "%FF%FE",
    "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "..%5C..%5Cwindows",
    "%20",
    "-1",
    "0",
    "x" * 10_000,
]
QUERY_VALUES = [
    *BIG,
    "\x00",
    "a\x00b",
    " ",
    "",
    "-1",
    "../../etc/passwd",
    "x" * 60_000,  # httpx sends URLs up to 64 KiB
    "\u202e\ufeff",
]
# What every route must refuse, whatever the parameter: the only query values sent to DELETE
# operations (a plausible value there could delete for real, e.g. ``DELETE /tokens/delete-all``).
REFUSED_QUERY_VALUES = [*BIG, "\x00", "a\x00b", "x" * 60_000]
# The id in a path the sweep has no resource for: one that does not exist (never "1", which
# is the admin's own user, organization or token).
DECOY_ID = "424242"
RAW_QUERY_VALUES = ["%ED%A0%80", "%FF", "%C0%AF"]  # sent as is (invalid UTF-8 once decoded)
RAW_BODIES = [
    b"{",
    b"[]",
    b"null",
    b'"\\ud800"',
    b"NaN",
    b"1e999",
    b"\xff\xfe{}",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 40 + b"1" + b"}" * 40,
    b'{"\\u0000": 1}',
    b'{"\\ud800": 1}',
]
STRING_VALUES = ["\x00", "a\ud800b", "\udfff", "x" * 100_000, "../../../etc/passwd", ""]
EVERY_STRING = ["\x00", "x" * 100_000]  # for fields outside the seeded sample
HUGE_STRING = "y" * 1_100_000
NUMBER_VALUES: list[Any] = [2**63, 2**64, -(2**63) - 1, 10**40, 1e308, -1, "12", None]
EVERY_NUMBER: list[Any] = [2**63, -1]
WRONG_TYPES: list[Any] = [[], {}, 1, "x", True]
HEADERS = [
    {"Range": "bytes=99999999999999999999999-"},
    {"Range": "bytes=-0"},
    {"Range": "bytes=abc"},
    {"Range": "bytes=0-" + "1" * 10_000},
    {"Authorization": "Bearer " + "a" * 10_000},
    {"Authorization": "Basic %%%"},
]


@dataclass
class Case:
    """One request: a label saying what is hostile in it."""

    label: str
    method: str
    url: str  # path and query, already encoded
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None


@dataclass
class _Op:
    method: str
    template: str
    path_params: list[dict[str, Any]]
    query_params: list[dict[str, Any]]
    body: dict[str, Any] | None


class Generator:
    """Cases for every operation of ``spec``.  ``known`` gives plausible values by parameter
    or body-field name (existing ids, the workspace); ``seed`` picks the sampled body fields."""

    def __init__(self, spec: Mapping[str, Any], known: Mapping[str, str], seed: int = 16):
        self.spec = spec
        self.known = dict(known)
        self.random = random.Random(seed)
        self.max_fields = 10

    def operations(self) -> list[_Op]:
        ops = []
        for template, item in sorted(self.spec.get("paths", {}).items()):
            for method, op in sorted(item.items()):
                params = op.get("parameters", [])
                content = op.get("requestBody", {}).get("content", {})
                body = content.get("application/json", {}).get("schema")
                ops.append(
                    _Op(
                        method.upper(),
                        template,
                        [p for p in params if p["in"] == "path"],
                        [p for p in params if p["in"] == "query"],
                        self._resolve(body) if body else None,
                    )
                )
        return ops

    def cases(self) -> Iterator[Case]:
        for op in self.operations():
            yield from self._op_cases(op)

    # -- one operation ----------------------------------------------------------------

    def _op_cases(self, op: _Op) -> Iterator[Case]:
        path = self._path(op, {})
        query = self._query(op)
        body = self._example(op.body, "body") if op.body is not None else None
        json_body = _encode(body) if op.body is not None else None
        where = f"{op.method} {op.template}"
        for param in op.path_params:
            for value in PATH_VALUES:
                yield Case(
                    f"{where} path {param['name']}={value[:20]!r}",
                    op.method,
                    self._path(op, {param["name"]: value}) + _qs(query),
                    _json_headers(json_body),
                    json_body,
                )
        query_values = REFUSED_QUERY_VALUES if op.method == "DELETE" else QUERY_VALUES
        for param in op.query_params:
            name = param["name"]
            for value in query_values:
                url = path + _qs({**query, name: value})
                yield Case(f"{where} query {name}={value[:20]!r}", op.method, url)
            for raw in RAW_QUERY_VALUES:
                url = path + _qs(query) + ("&" if query else "?") + f"{name}={raw}"
                yield Case(f"{where} query {name}={raw}", op.method, url)
        for headers in HEADERS:
            if "Range" in headers and op.method != "GET":  # ignored there: a plain request
                continue
            yield Case(
                f"{where} header {next(iter(headers))}", op.method, path + _qs(query), headers
            )
        if op.body is None:
            return
        url = path + _qs(query)
        for raw in RAW_BODIES:
            yield Case(f"{where} body {raw[:16]!r}", op.method, url, _JSON, raw)
        yield Case(f"{where} body without content-type", op.method, url, {}, b'{"x": "\\u0000"}')
        for wrong in WRONG_TYPES:
            yield Case(f"{where} body root {wrong!r}", op.method, url, _JSON, _encode(wrong))
        yield from self._field_cases(op, where, url, body)

    def _field_cases(self, op: _Op, where: str, url: str, body: Any) -> Iterator[Case]:
        leaves = list(_leaves(op.body, "", self._resolve))
        sampled = leaves
        if len(leaves) > self.max_fields:
            sampled = self.random.sample(leaves, self.max_fields)
        for path, schema in leaves:  # every field: what a column or a check must refuse
            kind = _kind(schema)
            values: list[Any] = []
            if (path, schema) in sampled:
                values += WRONG_TYPES[:2]
            if kind == "string":
                values += STRING_VALUES if (path, schema) in sampled else EVERY_STRING
            elif kind in ("integer", "number"):
                values += NUMBER_VALUES if (path, schema) in sampled else EVERY_NUMBER
            for value in values:
                changed = _set_path(body, path, value)
                label = f"{where} field {path}={repr(value)[:20]}"
                yield Case(label, op.method, url, _JSON, _encode(changed))
        strings = [path for path, schema in leaves if _kind(schema) == "string"]
        if strings:  # one 1 MB string per operation (PostgreSQL's column limits)
            changed = _set_path(body, strings[0], HUGE_STRING)
            yield Case(f"{where} field {strings[0]}=1MB", op.method, url, _JSON, _encode(changed))

    # -- plausible values -------------------------------------------------------------

    def _path(self, op: _Op, override: Mapping[str, str]) -> str:
        path = op.template
        for param in op.path_params:
            name = param["name"]
            value = override.get(name)
            if value is None:
                value = quote(self.known.get(name, DECOY_ID), safe="")
            path = path.replace("{" + name + "}", value)
        return path

    def _query(self, op: _Op) -> dict[str, str]:
        query = {}
        for param in op.query_params:
            name = param["name"]
            if name in self.known:
                query[name] = self.known[name]
            elif param.get("required"):
                value = _scalar(self._resolve(param.get("schema", {})), name)
                # a required integer (``/roles/permissions?orgId=``) travels as text
                query[name] = str(value).lower() if isinstance(value, bool) else str(value)
        return query

    def _resolve(self, schema: Any) -> Any:
        if isinstance(schema, dict) and "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return self._resolve(self.spec["components"]["schemas"][name])
        return schema

    def _example(self, schema: Any, name: str, depth: int = 0) -> Any:
        """A plausible value: required properties only, known ids where the name fits."""
        schema = self._resolve(schema) or {}
        if name in self.known:
            return self.known[name]
        options = [self._resolve(o) for o in schema.get("anyOf", [])]
        options = [o for o in options if o.get("type") != "null"]
        if options:
            return self._example(options[0], name, depth)
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            if depth > 4:
                return {}
            props = schema.get("properties", {})
            return {
                key: self._example(props[key], key, depth + 1)
                for key in schema.get("required", [])
                if key in props
            }
        if kind == "array":
            return []
        return _scalar(schema, name)


_JSON = {"content-type": "application/json"}


def _json_headers(body: bytes | None) -> dict[str, str]:
    return dict(_JSON) if body is not None else {}


def _encode(value: Any) -> bytes:
    """JSON with ``\\u`` escapes: lone surrogates and NUL travel as JSON allows."""
    return json.dumps(value, ensure_ascii=True).encode()


def _qs(query: Mapping[str, str]) -> str:
    if not query:
        return ""
    return "?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query.items())


def _scalar(schema: Mapping[str, Any], name: str) -> Any:
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    return f"sweep-{name.lower()}"[:40]


def _kind(schema: Mapping[str, Any]) -> str | None:
    if "anyOf" in schema:
        kinds = [o.get("type") for o in schema["anyOf"] if o.get("type") != "null"]
        return kinds[0] if kinds else None
    return schema.get("type")


def _leaves(schema: Any, prefix: str, resolve: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """(dotted path, schema) of every scalar field, through objects (not arrays)."""
    schema = resolve(schema) or {}
    options = [resolve(o) for o in schema.get("anyOf", []) if resolve(o).get("type") != "null"]
    if options and ("properties" in options[0] or options[0].get("type") == "object"):
        schema = options[0]
    props = schema.get("properties")
    if props and depth < 4:
        for key, sub in props.items():
            yield from _leaves(sub, f"{prefix}.{key}" if prefix else key, resolve, depth + 1)
    elif prefix:
        yield prefix, schema


def _set_path(body: Any, path: str, value: Any) -> Any:
    """A copy of ``body`` with ``path`` (dotted) set to ``value``, making parents as needed."""
    result = json.loads(json.dumps(body if isinstance(body, dict) else {}))
    node = result
    keys = path.split(".")
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value
    return result
