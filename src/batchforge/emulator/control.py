"""The emulator's own control API, next to moto's ``/moto-api``: ``/batchforge-emulator/*``.

Never part of the AWS API: :class:`batchforge.local_aws.LocalAws` and the stand-in use it.

- ``GET  /batchforge-emulator/info``            ``{"execution": bool, "running": int, ...}``
- ``POST /batchforge-emulator/execution``       ``{"enabled": bool}``: head jobs execute or not
- ``GET  /batchforge-emulator/standin-calls``   ``{"calls": [...]}``: every AWS call of the stand-in
- ``POST /batchforge-emulator/standin-calls``   ``{"call": {...}}``: the stand-in records one
- ``POST /batchforge-emulator/reset``           execution off, calls cleared, running jobs killed
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

PREFIX = "/batchforge-emulator/"
MAX_CALLS = 100_000


@dataclass
class EmulatorState:
    """What the control API changes; shared by the executor and the WSGI middleware."""

    execution: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_reset: list[Callable[[], None]] = field(default_factory=list)

    def record(self, call: dict[str, Any]) -> None:
        with self.lock:
            if len(self.calls) < MAX_CALLS:
                self.calls.append(call)

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.calls)

    def reset(self) -> None:
        with self.lock:
            self.execution = False
            self.calls.clear()
        for hook in self.on_reset:
            hook()


Info = Callable[[], dict[str, Any]]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ControlMiddleware:
    """Answers ``/batchforge-emulator/*`` and hands every other request to moto's app."""

    def __init__(self, app: WsgiApp, state: EmulatorState, info: Info) -> None:
        self.app = app
        self.state = state
        self.info = info

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            body = _read_json(environ) if method == "POST" else {}
            status, answer = self._answer(method, path[len(PREFIX) :], body)
        except (ValueError, TypeError) as error:
            status, answer = 400, {"error": str(error)}
        data = json.dumps(answer, default=str).encode()
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
        )
        return [data]

    def _answer(self, method: str, route: str, body: dict[str, Any]) -> tuple[int, Any]:
        if route == "info" and method == "GET":
            return 200, self.info()
        if route == "execution" and method == "POST":
            enabled = body.get("enabled")
            if not isinstance(enabled, bool):
                raise ValueError("'enabled' must be true or false")
            self.state.execution = enabled
            return 200, {"execution": enabled}
        if route == "standin-calls" and method == "GET":
            return 200, {"calls": self.state.snapshot()}
        if route == "standin-calls" and method == "POST":
            call = body.get("call")
            if not isinstance(call, dict):
                raise ValueError("'call' must be an object")
            self.state.record(call)
            return 200, {"recorded": True}
        if route == "reset" and method == "POST":
            self.state.reset()
            return 200, {"execution": False}
        return 404, {"error": f"no route {method} {PREFIX}{route}"}


def _read_json(environ: dict[str, Any]) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    if not raw:
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("the body must be a JSON object")
    return value
