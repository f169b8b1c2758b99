"""A loopback HTTP proxy in front of the emulator that can hold back one AWS answer.

A kill test needs a server killed at a precise point: *after* AWS did something and *before*
the server learnt it (the dangerous moment for duplicates and orphans).  The server's AWS
endpoint is this proxy; :meth:`HoldingProxy.hold` arms it for one operation (for example
``batch:SubmitJob``): the next such request is forwarded to the emulator (so AWS acts), its
answer is held back, and :meth:`HoldingProxy.wait_held` returns.  The test then kills the
server; the held answer is never delivered.  Every other request passes through unchanged.

The operation is read from the request as AWS reads it: the service from the SigV4
credential scope, the operation from ``X-Amz-Target`` (JSON protocols), ``Action=`` (query
protocols: IAM, EC2, STS) or the REST path (Batch ``/v1/<operation>``, EFS ``file-systems``).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx

from batchforge.local_aws import free_port

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "expect",
}


def operation_of(method: str, path: str, headers: dict[str, str], body: bytes) -> str:
    """``service:operation`` (operation lower-cased) of one signed AWS request."""
    scope = _SCOPE.search(headers.get("authorization", ""))
    service = scope.group(1) if scope else "?"
    target = headers.get("x-amz-target")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1].lower()}"
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        action = parse_qs(body.decode(errors="replace")).get("Action")
        if action:
            return f"{service}:{action[0].lower()}"
    route = path.split("?", 1)[0]
    if route.startswith("/v1/"):
        return f"{service}:{route[4:].strip('/').lower()}"
    if service == "elasticfilesystem" and method == "POST":
        if route.rstrip("/").endswith("/file-systems"):
            return f"{service}:createfilesystem"
        if route.rstrip("/").endswith("/mount-targets"):
            return f"{service}:createmounttarget"
    return f"{service}:{method} {route}"


class _QuietServer(ThreadingHTTPServer):
    """A killed server resets its connections: not worth a traceback on stderr."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class HoldingProxy:
    """Start with :meth:`start` (or as a context manager); the server's endpoint is ``url``."""

    def __init__(self, target_url: str):
        self.target_url = target_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.seen: list[str] = []
        self.seen_at: list[tuple[float, str]] = []  # (time.monotonic(), operation)
        self._armed: str | None = None
        self._held = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._http = httpx.Client(base_url=target_url, timeout=120)
        self._server = _QuietServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> HoldingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._http.close()

    def __enter__(self) -> HoldingProxy:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def hold(self, operation: str) -> None:
        """Hold back the answer of the next ``service:Operation`` request (case-insensitive)."""
        with self._lock:
            self._armed = operation.lower()
            self._held.clear()

    def wait_held(
        self, timeout: float = 180.0, failed: Callable[[], str | None] = lambda: None
    ) -> None:
        """Block until the armed operation reached AWS and its answer is being held; an
        AssertionError after ``timeout`` s, or as soon as ``failed()`` says why it never will."""
        deadline = time.monotonic() + timeout
        while not self._held.wait(0.2):
            why = failed()
            if why is not None or time.monotonic() > deadline:
                raise AssertionError(f"no {self._armed} request ({why}); seen: {self.seen}")

    def first_after(self, since: float, operations: tuple[str, ...]) -> float | None:
        """When the first request of one of ``operations`` (``service:operation``, or a
        ``service:`` prefix) came after ``since`` (``time.monotonic()``); None if none yet."""
        wanted = tuple(op.lower() for op in operations)
        with self._lock:
            for at, operation in self.seen_at:
                if at >= since and operation.startswith(wanted):
                    return at
        return None

    def release(self) -> None:
        """Drop the held answer (its connection is closed without one)."""
        self._release.set()

    def _take(self, operation: str) -> threading.Event | None:
        """Record ``operation``; when it is the armed one, the event its held answer waits
        on (one per held request: a later :meth:`hold` never frees it)."""
        with self._lock:
            self.seen.append(operation)
            self.seen_at.append((time.monotonic(), operation))
            if self._armed is not None and operation == self._armed:
                self._armed = None
                self._release = threading.Event()
                return self._release
            return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                operation = operation_of(self.command, self.path, headers, body)
                held = proxy._take(operation)
                upstream = proxy._http.request(
                    self.command,
                    self.path,
                    content=body,
                    headers={k: v for k, v in headers.items() if k not in _HOP and k != "host"},
                )
                if held is not None:
                    proxy._held.set()
                    held.wait()
                    self.close_connection = True
                    return
                self.send_response(upstream.status_code)
                for key, value in upstream.headers.multi_items():
                    if key.lower() not in _HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(upstream.content)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

        return Handler
